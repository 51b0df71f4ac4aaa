#!/usr/bin/env python3
"""Benchmark peer engines (python-aiml, RiveScript-Python) on a synthetic brain.

Brains come from ../shared/bench/gen_brain.py (one directory per size, with
brain.aiml, brain.rive, queries.txt and answers.jsonl).  For each engine this
script starts a fresh Python process pinned to one CPU, loads the brain
(timed), then replies to the queries one by one until --max-queries replies or
--seconds of reply time, whichever comes first, and reports:

  load_s          brain load time (RiveScript: load_file + sort_replies)
  replies_per_s   replies / wall time of the reply loop
  p50_us, p99_us  per-reply latency percentiles, microseconds
  queries         number of queries answered (partial if the time ran out)
  accuracy        % of answered queries whose predicted intent equals the
                  expected one (null = "no match" for negatives)
  accuracy_by_kind  same, split by pos, pos_typo, neg_ood, neg_near_<sub>

The predicted intent is the "Innnnn" id the brain's replies start with; an
empty reply (python-aiml) or an "[ERR: ...]" reply (RiveScript) means null.

Usage:
  peers.py --brain-dir /tmp/brains/N1000 [--engines aiml,rivescript]
           [--max-queries N] [--seconds S] [--json]
           [--queries FILE [--answers FILE]] [--cpu K] [--rs-utf8]

Needs `pip install python-aiml rivescript`; otherwise only the standard library.
"""
import argparse
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import time

ENGINES = {"aiml": "aiml", "rivescript": "rivescript"}  # engine -> module name
INTENT_RE = re.compile(r"\b(I\d{5}):")
KIND_ORDER = ["pos", "pos_typo", "neg_ood", "neg_near_fragment",
              "neg_near_unused_combo", "neg_near_scrambled"]


# --------------------------------------------------------------------------
# Engines: each loader returns a reply(text) -> str callable.

def load_aiml(brain_dir, args):
    import aiml
    kernel = aiml.Kernel()
    kernel.verbose(False)  # silences "Loading ..." and "No match found" noise
    kernel.learn(os.path.join(brain_dir, "brain.aiml"))
    # One session for the whole run; python-aiml upper-cases the input and
    # splits it into sentences itself, so the raw query is passed as is.
    return lambda text: kernel.respond(text, "bench")


def load_rivescript(brain_dir, args):
    import rivescript
    rs = rivescript.RiveScript(utf8=args.rs_utf8)
    rs.load_file(os.path.join(brain_dir, "brain.rive"))
    rs.sort_replies()
    return lambda text: rs.reply("bench", text)


LOADERS = {"aiml": load_aiml, "rivescript": load_rivescript}


def intent_of(reply):
    """Intent id the reply identifies, or None (empty / error / other)."""
    m = INTENT_RE.search(reply or "")
    return m.group(1) if m else None


def kind_of(answer):
    kind = answer["kind"]
    return f"{kind}_{answer['sub']}" if kind == "neg_near" and "sub" in answer else kind


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


# --------------------------------------------------------------------------
# Worker: runs one engine in this process and prints one JSON line.

def run_worker(engine, args):
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    with open(args.queries, encoding="utf-8") as f:
        queries = f.read().splitlines()
    with open(args.answers, encoding="utf-8") as f:
        answers = [json.loads(line) for line in f if line.strip()]
    if len(queries) != len(answers):
        sys.exit(f"{args.queries}: {len(queries)} queries but "
                 f"{args.answers} has {len(answers)} answers")
    if args.max_queries is not None:
        queries = queries[:args.max_queries]

    t0 = time.perf_counter()
    reply = LOADERS[engine](args.brain_dir, args)
    load_s = time.perf_counter() - t0

    latencies_ns = []
    correct, total = {}, {}
    clock = time.perf_counter_ns
    deadline = clock() + int(args.seconds * 1e9)
    loop_start = clock()
    for query, answer in zip(queries, answers):
        start = clock()
        out = reply(query)
        end = clock()
        latencies_ns.append(end - start)
        kind = kind_of(answer)
        total[kind] = total.get(kind, 0) + 1
        if intent_of(out) == answer["expected"]:
            correct[kind] = correct.get(kind, 0) + 1
        if end >= deadline:
            break
    loop_s = (clock() - loop_start) / 1e9

    n = len(latencies_ns)
    latencies_ns.sort()
    pct = lambda c, t: round(100.0 * c / t, 2) if t else None
    by_kind = {k: pct(correct.get(k, 0), total[k])
               for k in KIND_ORDER + sorted(set(total) - set(KIND_ORDER))
               if k in total}
    result = {
        "engine": engine,
        "n_intents": n_intents(args.brain_dir),
        "load_s": round(load_s, 3),
        "replies_per_s": round(n / loop_s, 1) if loop_s > 0 else None,
        "p50_us": round(percentile(latencies_ns, 50) / 1e3, 1) if n else None,
        "p99_us": round(percentile(latencies_ns, 99) / 1e3, 1) if n else None,
        "queries": n,
        "queries_available": len(queries),
        "accuracy": pct(sum(correct.values()), n),
        "accuracy_by_kind": by_kind,
        # ru_maxrss is KiB on Linux (bytes on macOS; reported as is there).
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result), flush=True)


def n_intents(brain_dir):
    try:
        with open(os.path.join(brain_dir, "manifest.json"), encoding="utf-8") as f:
            return json.load(f)["n_intents"]
    except (OSError, KeyError, ValueError):
        return None


# --------------------------------------------------------------------------
# Driver: one child process per engine, then a JSON or text report.

def print_table(results):
    print(f"{'engine':<11} {'intents':>7} {'load_s':>8} {'replies/s':>10} "
          f"{'p50_us':>10} {'p99_us':>10} {'queries':>13} {'acc%':>6}")
    for r in results:
        done = f"{r['queries']}/{r['queries_available']}"
        print(f"{r['engine']:<11} {r['n_intents'] or '?':>7} {r['load_s']:>8.2f} "
              f"{r['replies_per_s'] or 0:>10.1f} {r['p50_us'] or 0:>10.1f} "
              f"{r['p99_us'] or 0:>10.1f} {done:>13} {r['accuracy'] or 0:>6.1f}")
        kinds = ", ".join(f"{k} {v:.1f}" for k, v in r["accuracy_by_kind"].items())
        print(f"{'':<11} accuracy by kind: {kinds}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brain-dir", required=True,
                    help="directory with brain.aiml, brain.rive, queries.txt, answers.jsonl")
    ap.add_argument("--engines", default="aiml,rivescript",
                    help="comma-separated subset of: " + ",".join(ENGINES))
    ap.add_argument("--max-queries", type=int, default=None,
                    help="stop after this many replies (default: all)")
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="stop after this much reply time per engine (default 20)")
    ap.add_argument("--json", action="store_true", help="one JSON object per engine")
    ap.add_argument("--queries", help="queries file (default BRAIN_DIR/queries.txt)")
    ap.add_argument("--answers", help="answers file (default QUERIES.answers.jsonl "
                    "if it exists, else BRAIN_DIR/answers.jsonl)")
    ap.add_argument("--cpu", type=int, default=None,
                    help="pin each engine process to this CPU (default: first allowed CPU)")
    ap.add_argument("--rs-utf8", action="store_true",
                    help="RiveScript utf8 mode (keeps non-ASCII letters in input)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one engine
    args = ap.parse_args()

    # Resolve the input files once, so the workers get explicit paths.
    if args.queries is None:
        args.queries = os.path.join(args.brain_dir, "queries.txt")
    if args.answers is None:
        sidecar = args.queries + ".answers.jsonl"
        args.answers = sidecar if os.path.exists(sidecar) else \
            os.path.join(args.brain_dir, "answers.jsonl")
    if args.cpu is None and hasattr(os, "sched_getaffinity"):
        args.cpu = min(os.sched_getaffinity(0))

    if args.worker:
        run_worker(args.worker, args)
        return

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        ap.error(f"unknown engine(s) {unknown}; choose from {list(ENGINES)}")
    missing = [ENGINES[e] for e in engines if importlib.util.find_spec(ENGINES[e]) is None]
    if missing:
        sys.exit(f"error: Python module(s) {', '.join(missing)} not found.\n"
                 f"Install the peer engines with:  pip install python-aiml rivescript")
    for path in (args.queries, args.answers):
        if not os.path.exists(path):
            sys.exit(f"error: {path} not found (generate brains with "
                     f"gen_brain.py, see scripts/bench/README.md)")

    # Forward every option to the workers; each engine gets its own process.
    base = [sys.executable, os.path.abspath(__file__),
            "--brain-dir", args.brain_dir, "--seconds", str(args.seconds),
            "--queries", args.queries, "--answers", args.answers]
    if args.max_queries is not None:
        base += ["--max-queries", str(args.max_queries)]
    if args.cpu is not None:
        base += ["--cpu", str(args.cpu)]
    if args.rs_utf8:
        base.append("--rs-utf8")

    results = []
    for engine in engines:
        if not args.json:
            print(f"running {engine} on {args.brain_dir} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(base + ["--worker", engine], stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"error: {engine} worker failed (exit {proc.returncode})")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        if args.json:
            print(json.dumps(result), flush=True)
    if not args.json:
        print_table(results)


if __name__ == "__main__":
    main()
