#!/usr/bin/env python3
"""Honest estimate of `clerk eval` figures: split the validation file into two fixed halves by line parity,
choose the threshold on one half and measure on the other, both ways, and report the mean.

Usage: python3 scripts/eval/halves.py --clerk .build/release/clerk --train train.jsonl --val val.jsonl [--json]
Standard library only. The halves are written to a temporary folder, never into the project.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

KEYS = ["in_scope_accuracy", "oos_recall", "oos_precision", "auroc", "accuracy_all", "threshold", "ms_per_query"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clerk", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    lines = [l for l in open(args.val, encoding="utf-8") if l.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        halves = []
        for parity in (0, 1):
            path = os.path.join(tmp, "half%d.jsonl" % parity)
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(l for i, l in enumerate(lines) if i % 2 == parity)
            halves.append(path)
        runs = []
        for choose, measure in ((halves[0], halves[1]), (halves[1], halves[0])):
            out = subprocess.run([args.clerk, "eval", "--train", args.train, "--test", measure,
                                  "--threshold-from", choose, "--json"], check=True, text=True,
                                 stdout=subprocess.PIPE).stdout
            runs.append(json.loads(out))
    mean = {k: sum(r[k] for r in runs) / len(runs) for k in KEYS}
    if args.json:
        print(json.dumps({"mean": mean, "even_to_odd": {k: runs[0][k] for k in KEYS},
                          "odd_to_even": {k: runs[1][k] for k in KEYS}}, sort_keys=True))
        return
    print("%-14s %9s %9s %9s %9s %9s %9s %9s" % (("", ) + tuple(k.replace("_", " ")[:9] for k in KEYS)))
    for name, r in (("even → odd", runs[0]), ("odd → even", runs[1]), ("mean", mean)):
        print("%-14s" % name + "".join(" %9.3f" % r[k] for k in KEYS))


if __name__ == "__main__":
    sys.exit(main())
