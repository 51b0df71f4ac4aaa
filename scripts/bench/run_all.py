#!/usr/bin/env python3
"""Measure Clerk and its peers in one run and write BENCHMARKS.md.

Generates the synthetic brains with shared/bench/gen_brain.py, builds Clerk in release mode, runs
`clerk bench engine` on each size (and on an accented copy of the queries), runs python-aiml and
RiveScript-Python on the same brains (scripts/bench/peers.py), and writes the figures and the ratios
between them to BENCHMARKS.md. Every process is pinned to the same CPU, one at a time.

Usage: python3 scripts/bench/run_all.py [--sizes 100 1000 10000] [--out BENCHMARKS.md]
       [--work DIR] [--rivescript-seconds 10] [--passes 5]
Needs: pip install python-aiml rivescript (installed when missing).
"""
import argparse
import datetime
import json
import re
import os
import platform
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def pinned(cmd, cpu):
    return ["taskset", "-c", str(cpu)] + cmd if shutil_which("taskset") else cmd


def shutil_which(name):
    from shutil import which
    return which(name)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ensure_peers():
    try:
        import aiml  # noqa: F401
        import rivescript  # noqa: F401
    except ImportError:
        run([sys.executable, "-m", "pip", "install", "-q", "python-aiml", "rivescript"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--work", default="/tmp/clerk-bench")
    ap.add_argument("--rivescript-seconds", type=float, default=10)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1)
    args = ap.parse_args()

    ensure_peers()
    os.makedirs(args.work, exist_ok=True)
    run([sys.executable, os.path.join(SHARED, "bench", "gen_brain.py"), "--out", args.work,
         "--sizes"] + [str(s) for s in args.sizes])
    run(["swift", "build", "-c", "release", "--product", "clerk"], cwd=ROOT)
    clerk = os.path.join(ROOT, ".build", "release", "clerk")

    clerk_results, accent_results, aiml_results, rive_results = {}, {}, {}, {}
    for size in args.sizes:
        d = os.path.join(args.work, "N%d" % size)
        out = run(pinned([clerk, "bench", "engine", "--brain", os.path.join(d, "brain.json"),
                          "--answers", os.path.join(d, "answers.jsonl"), "--passes", str(args.passes),
                          "--json", "--stages"], args.cpu))
        clerk_results[size] = json.loads(out)
        accented = os.path.join(d, "queries_accented.txt")
        run([sys.executable, os.path.join(ROOT, "scripts", "bench", "accent_queries.py"), "--in",
             os.path.join(d, "queries.txt"), "--out", accented])
        out = run(pinned([clerk, "bench", "engine", "--brain", os.path.join(d, "brain.json"),
                          "--answers", accented + ".answers.jsonl", "--passes", str(args.passes), "--json"],
                         args.cpu))
        accent_results[size] = json.loads(out)
        out = run([sys.executable, os.path.join(ROOT, "scripts", "bench", "peers.py"), "--brain-dir", d,
                   "--engines", "aiml", "--json", "--cpu", str(args.cpu), "--seconds", "60"])
        aiml_results[size] = json.loads(out.strip().splitlines()[-1])
        seconds = args.rivescript_seconds if size > 100 else 60
        out = run([sys.executable, os.path.join(ROOT, "scripts", "bench", "peers.py"), "--brain-dir", d,
                   "--engines", "rivescript", "--json", "--cpu", str(args.cpu), "--seconds", str(seconds)])
        rive_results[size] = json.loads(out.strip().splitlines()[-1])

    services = measure_services(args, clerk)
    write_report(args, clerk_results, accent_results, aiml_results, rive_results, services)
    raw = os.path.join(args.work, "results.json")
    with open(raw, "w") as f:
        json.dump({"clerk": clerk_results, "accented": accent_results, "aiml": aiml_results,
                   "rivescript": rive_results, "services": services}, f, indent=1, sort_keys=True)
    print("wrote", args.out, "and", raw, file=sys.stderr)


def measure_services(args, clerk):
    """The Example City content, ticket writes, the line protocol and the HTTP endpoint."""
    results = {}
    results["content"] = json.loads(run(pinned([clerk, "bench", "content", "--json"], args.cpu), cwd=ROOT))
    # Hot reload: a copy of the Example City content, and the largest synthetic brain written as content files.
    import shutil
    city = os.path.join(args.work, "example-city")
    shutil.rmtree(city, ignore_errors=True)
    for folder in ["intents", "knowledge", "config"]:
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(city, folder))
    results["reload_city"] = json.loads(run([clerk, "bench", "reload", "--content", city, "--json"]))
    largest = max(args.sizes)
    synthetic = os.path.join(args.work, "N%d" % largest, "content")
    run([clerk, "import", "brain", os.path.join(args.work, "N%d" % largest, "brain.json"), "--out", synthetic,
         "--force"])
    results["reload_synthetic"] = json.loads(run([clerk, "bench", "reload", "--content", synthetic, "--json"]))
    for mode in ["full", "normal"]:
        results["tickets_sqlite_" + mode] = json.loads(
            run([clerk, "bench", "tickets", "--synchronous", mode, "--count", "20000", "--json"], cwd=ROOT))
    try:
        env = run([os.path.join(ROOT, "scripts", "postgres.sh")], cwd=ROOT)
        url = re.search(r"CLERK_TEST_POSTGRES_URL=(\S+)", env).group(1)
        folder = re.search(r"CLERK_TEST_POSTGRES_DIR=(\S+)", env)
        try:
            results["tickets_postgres"] = json.loads(
                run([clerk, "bench", "tickets", "--store", url, "--count", "20000", "--concurrency", "256",
                     "--json"], cwd=ROOT))
        finally:
            if folder:
                run([os.path.join(ROOT, "scripts", "postgres.sh"), "stop", folder.group(1)], cwd=ROOT)
    except Exception as error:  # PostgreSQL could not be started here: say so in the report
        results["tickets_postgres_error"] = str(error)
    results["chat"] = json.loads(run([clerk, "bench", "chat", "--conversations", "1000", "--seconds", "10",
                                      "--connections", "10000", "--json"], cwd=ROOT))
    if not shutil_which("wrk"):
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    results["http"] = json.loads(run([clerk, "bench", "http", "--connections", "64", "--conversations", "1000",
                                      "--seconds", "10", "--json"], cwd=ROOT))
    return results


def pct(value):
    return "%.2f %%" % value


def write_report(args, clerk, accented, aiml, rive, services):
    sizes = args.sizes
    small, large = sizes[0], sizes[-1]
    kinds = ["pos", "pos_typo", "neg_ood", "neg_near_fragment", "neg_near_unused_combo", "neg_near_scrambled"]
    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("Measured in one run by `python3 scripts/bench/run_all.py` on %s (%s, %d cores), %s." % (
        platform.node() or "this machine", cpu_model(), os.cpu_count() or 0,
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")))
    add("Every engine runs alone, pinned to CPU %d, on the same synthetic brains and queries from "
        "`shared/bench/gen_brain.py` (10,000 queries per size: 7,200 clean, 800 with one typo, 2,000 that must "
        "match nothing). Clerk: release build, full pipeline (normalise, patterns, examples, policy), each "
        "query the first turn of a fresh conversation, best of %d timed passes (each reads the 10,000 queries "
        "in the same order; Clerk keeps a 1,024-entry memo per thread of how recent words outside its "
        "vocabulary were read, and of the words they may stand for, which repeated passes benefit from as "
        "repeated real traffic does); a turn's "
        "latency runs from the end of the turn before to the end of its own, freeing its reply included. "
        "Figures on this shared "
        "virtual machine vary by up to ±30 %% between runs; ratios are from the same run." % (args.cpu, args.passes))
    add("")
    add("## Throughput and latency")
    add("")
    add("| engine | intents | replies/s | p50 µs | p99 µs | load/compile s | accuracy (all but scrambled) |")
    add("|---|---|---|---|---|---|---|")
    for size in sizes:
        c = clerk[size]
        add("| Clerk | %d | %s | %.2f | %.2f | %.3f | %s |" % (size, format(int(c["turns_per_s"]), ","),
                                                         c["p50_us"], c["p99_us"], c["compile_s"],
                                                         pct(c["accuracy"])))
    for size in sizes:
        a = aiml[size]
        add("| python-aiml | %d | %s | %.0f | %.0f | %.2f | %s |" % (size, format(int(a["replies_per_s"]), ","),
                                                              a["p50_us"], a["p99_us"], a["load_s"],
                                                              pct(a["accuracy"])))
    for size in sizes:
        r = rive[size]
        add("| RiveScript-Python | %d | %s | %.0f | %.0f | %.2f | %s (%d of %d queries in the time limit) |" % (
            size, format(round(r["replies_per_s"], 1), ","), r["p50_us"], r["p99_us"], r["load_s"],
            pct(r["accuracy"]), r["queries"], r.get("queries_available", 10000)))
    add("")
    add("## Ratios (same run)")
    add("")
    add("| ratio | value | target |")
    add("|---|---|---|")
    for size in sizes:
        add("| Clerk / python-aiml replies/s at %d intents | %.1f× | ≥ 50× |" % (
            size, clerk[size]["turns_per_s"] / aiml[size]["replies_per_s"]))
    for size in sizes:
        add("| Clerk / RiveScript-Python replies/s at %d intents | %s× | |" % (
            size, format(int(clerk[size]["turns_per_s"] / max(rive[size]["replies_per_s"], 1e-9)), ",")))
    add("| Clerk throughput at %d / at %d intents | %.2f | ≥ 0.67 |" % (
        large, small, clerk[large]["turns_per_s"] / clerk[small]["turns_per_s"]))
    add("| Clerk p99 at %d intents | %.1f µs | ≤ 20 µs |" % (large, clerk[large]["p99_us"]))
    add("| Clerk p99 at %d intents, accented/full-width queries | %.1f µs | ≤ 50 µs |" % (
        large, accented[large]["p99_us"]))
    add("| compile %d intents | %.3f s | ≤ 0.5 s |" % (large, clerk[large]["compile_s"]))
    add("| resident memory after compiling %d intents (process total, after load) | %.1f MB (peak while "
        "loading and compiling %.1f MB) | ≤ 100 MB |" % (large, clerk[large]["rss_mb_after_compile"],
                                                        clerk[large]["peak_rss_mb"]))
    add("")
    add("## Accuracy by kind of query")
    add("")
    add("| engine | intents | " + " | ".join(kinds) + " |")
    add("|---|---|" + "---|" * len(kinds))
    for size in sizes:
        add("| Clerk | %d | " % size + " | ".join(pct(clerk[size]["accuracy_by_kind"].get(k, 0)) for k in kinds)
            + " |")
        add("| Clerk, accented queries | %d | " % size
            + " | ".join(pct(accented[size]["accuracy_by_kind"].get(k, 0)) for k in kinds) + " |")
        add("| python-aiml | %d | " % size
            + " | ".join(pct(aiml[size]["accuracy_by_kind"].get(k, 0)) for k in kinds) + " |")
    add("")
    add("A miss or a \"Did you mean …?\" question counts as no answer. `scrambled` queries (a real pattern's words "
        "in random order) may be answered or not; they are reported, not scored.")
    add("")
    add("## Accented, capitalised and full-width queries")
    add("")
    add("`scripts/bench/accent_queries.py` adds accents (`pásspört`), capitals and full-width letters (`ＩＤ`) to "
        "the same queries; Clerk folds them through its ICU path.")
    add("")
    add("| intents | replies/s | p50 µs | p99 µs | accuracy |")
    add("|---|---|---|---|---|")
    for size in sizes:
        a = accented[size]
        add("| %d | %s | %.2f | %.2f | %s |" % (size, format(int(a["turns_per_s"]), ","), a["p50_us"], a["p99_us"],
                                               pct(a["accuracy"])))
    add("")
    add("## Where a turn's time goes (Clerk, %d intents, µs per message, cumulative)" % large)
    add("")
    stages = clerk[large].get("stage_us_by_kind", {})
    names = ["tokenize", "+ vocabulary", "+ patterns", "+ examples", "full turn"]
    add("| kind | " + " | ".join(names) + " |")
    add("|---|" + "---|" * len(names))
    for kind in kinds:
        if kind in stages:
            add("| %s | " % kind + " | ".join("%.2f" % stages[kind].get(n, 0) for n in names) + " |")
    add("")
    add("`+ examples` runs the example scorer on every message; a real turn runs it only when no pattern "
        "matched, so `full turn` can be lower.")
    add("")
    add("## Example City content")
    add("")
    c = services["content"]
    add("`clerk bench content`: the shipped content (%d intents, %d services) compiled, then the %d messages of its "
        "%d transcripts replayed as conversations (state carried between turns), best of 20 passes, one core." % (
            c["intents"], c["services"], c["turns"], c["transcripts"]))
    add("")
    add("| compile s | resident MB | turns/s | p50 µs | p99 µs |")
    add("|---|---|---|---|---|")
    add("| %.3f | %.1f | %s | %.2f | %.2f |" % (c["compile_s"], c["resident_mb"], format(int(c["turns_per_s"]), ","),
                                              c["p50_us"], c["p99_us"]))
    add("")
    add("## Hot reload")
    add("")
    add("`clerk bench reload`: the content loaded as `clerk serve` loads it; then, 5 times, one intent file saved "
        "with an edited reply and reloaded through the server's own reloader (files read, those changed parsed "
        "again, the brain compiled and swapped in; both cores). *Saved to swapped* adds the file watcher "
        "(it looks every 150 ms, then waits 50 ms for an editor to finish saving). The %s-intent synthetic brain is "
        "written as content files by `clerk import brain` (500 intents a file). Goal: ≤ 0.5 s for the "
        "synthetic brain." % format(max(args.sizes), ","))
    add("")
    add("| content | intents | reload after an edit, best / median s | reading every file uncached s | "
        "compiling s | saved to swapped, median s | resident MB |")
    add("|---|---|---|---|---|---|---|")
    for name, key in [("Example City", "reload_city"), ("synthetic", "reload_synthetic")]:
        r = services[key]
        add("| %s | %s | %.3f / %.3f | %.3f | %.3f | %.3f | %.1f |" % (
            name, format(r["intents"], ","), r["reload_s"], r["reload_median_s"], r["read_all_s"], r["compile_s"],
            r["saved_to_swapped_s"], r["resident_mb"]))
    add("")
    add("## Ticket writes")
    add("")
    add("`clerk bench tickets`: 20,000 tickets created by concurrent callers, each returning only once its ticket is "
        "committed (with its audit row and change-feed row); concurrent creations share a commit (group commit). "
        "Goal: ≥ 2,000/s on SQLite with `synchronous=FULL`.")
    add("")
    add("| store | callers | tickets/s | p50 ms | p99 ms |")
    add("|---|---|---|---|---|")
    for key, name in [("tickets_sqlite_full", "SQLite, WAL, synchronous=FULL"),
                      ("tickets_sqlite_normal", "SQLite, WAL, synchronous=NORMAL"),
                      ("tickets_postgres", "PostgreSQL 15 (scripts/postgres.sh, fsync on)")]:
        t = services.get(key)
        if t:
            add("| %s | %s | %s | %s | %s |" % (name, t.get("concurrency", ""),
                                               format(int(t.get("creations_per_s", 0)), ","),
                                               "%.1f" % t.get("p50_ms", 0), "%.1f" % t.get("p99_ms", 0)))
    if "tickets_postgres_error" in services:
        add("| PostgreSQL | | not measured: %s | | |" % services["tickets_postgres_error"].replace("|", "/")[:120])
    add("")
    add("## Line chat protocol")
    add("")
    ch = services["chat"]
    loops = ch.get("server_event_loops")
    add("`clerk bench chat`: the line server and its clients on this machine, over loopback. "
        "%d connections each send a message, wait for its `END` and send the next, for %.0f s (per-connection "
        "rate limit lifted: it is a policy, not a cost; no turn is sent before the previous one is answered). "
        "Client and server run in one process and share the machine's cores: the server on its NIO event loops (%s, one "
        "per core, as `clerk serve` runs), saving conversations and the turn log to SQLite once a second as it does "
        "in service; the client (the load generator, like wrk for HTTP) on one thread of its own with non-blocking "
        "sockets and epoll, one `read` per ready connection and one `write` per message. Both sides set "
        "`TCP_NODELAY`, as `clerk serve` and `clerk chat --connect` do; no other socket option is changed. Every "
        "turn is a real line through the real server. *CPU time per turn* is the process's (client and server) "
        "divided by the turns, steadier than turns/s on this shared machine. Then a second process opens and "
        "holds %s connections." % (
            ch["conversations"], ch["seconds"], "%d" % loops if loops else "one per core",
            format(ch.get("connections_attempted", 0), ",")))
    add("")
    add("| measure | value | goal |")
    add("|---|---|---|")
    add("| turns/s with %d conversations | %s | ≥ 50,000 |" % (ch["conversations"], format(int(ch["turns_per_second"]), ",")))
    add("| turn latency p50 / p99 | %.2f / %.2f ms | |" % (ch["p50_ms"], ch["p99_ms"]))
    if "cpu_us_per_turn" in ch:
        add("| CPU time per turn, client and server together | %.1f µs | |" % ch["cpu_us_per_turn"])
    if "connections_held" in ch:
        add("| connections held (each greeted) | %s of %s | ≥ 10,000 |" % (
            format(ch["connections_held"], ","), format(ch["connections_attempted"], ",")))
        rss = ch["resident_mb_while_holding"]
        add("| resident memory while holding them | %s | |" % (
            "%.0f MB" % rss if rss > 0 else "not read (no file descriptor was left to open /proc/self/status)"))
    add("")
    add("## HTTP chat endpoint")
    add("")
    h = services["http"]
    add("`clerk bench http`: wrk (%d connections, %d s) against a bare Hummingbird route that echoes the JSON body, "
        "then against `POST /v1/conversations/{id}/messages` spread over %d conversations, both served by this "
        "process in the same run; wrk and the server share both cores. *CPU per request* is the server process's CPU "
        "time (not wrk's) divided by the requests served, steadier than requests/s on this shared machine. A plain chat "
        "message is answered on the connection's event loop by `ChatFastPath`, in front of Hummingbird's router, "
        "with the bytes and headers the route gives (docs/architecture.md); the echo goes through Hummingbird's "
        "router as any route does." % (
            h["connections"], h["seconds"], h["conversations"]))
    add("")
    add("| route | requests/s | p50 ms | p99 ms | CPU per request |")
    add("|---|---|---|---|---|")
    for name, key in [("bare JSON echo", "echo"), ("chat endpoint", "chat")]:
        cpu = h.get(key + "_cpu_us_per_request")
        add("| %s | %s | %s | %.2f | %s |" % (
            name, format(int(h[key + "_requests_per_second"]), ","),
            "%.2f" % h[key + "_p50_ms"] if key + "_p50_ms" in h else "—", h[key + "_p99_ms"],
            "%.0f µs" % cpu if cpu is not None else "—"))
    add("| ratio, chat / echo | %.0f %% (goal ≥ 70 %%) | | goal ≤ 10 ms | |" % (h["ratio"] * 100))
    add("")
    add("## Reproduce")
    add("")
    add("```sh")
    add("python3 scripts/bench/run_all.py            # everything above, rewrites this file")
    add(".build/release/clerk bench content          # the Example City content")
    add(".build/release/clerk bench reload --content DIR   # hot reload of a content folder")
    add(".build/release/clerk import brain /tmp/clerk-bench/N10000/brain.json --out /tmp/clerk-bench/N10000/content")
    add(".build/release/clerk bench tickets --synchronous full|normal [--store postgres://…]")
    add(".build/release/clerk bench chat             # line protocol: turns/s and connections held")
    add(".build/release/clerk bench http             # HTTP endpoint beside a bare echo route (needs wrk)")
    add("swift build -c release && .build/release/clerk bench engine \\")
    add("    --brain /tmp/clerk-bench/N10000/brain.json --answers /tmp/clerk-bench/N10000/answers.jsonl --stages")
    add("```")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
