#!/usr/bin/env python3
"""Per-message predictions and confidences of the Swift engine, for the Python measurement scripts.

`clerk eval` prints only totals, so this imports the training data as content (`clerk import jsonl`) into a
temporary folder and runs `clerk explain --json` on every validation message, keeping the best scored intent and
its score (the confidence `clerk eval` thresholds). One process per message: about 0.1 s each on govfaq-covid,
0.4 s on clinc150 (20 minutes).

Usage: python3 scripts/eval/engine_scores.py --clerk /work/tools/clerk-release --data ../shared/data \
           --set clinc150 --out /tmp/engine-clinc150.json
Then check: python3 scripts/eval/engine_scores.py --check /tmp/engine-clinc150.json (honest half-split figures,
to compare with scripts/eval/halves.py). The output file is a cache; keep it outside the project.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clerk")
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--set")
    ap.add_argument("--out")
    ap.add_argument("--check")
    args = ap.parse_args()
    if args.check:
        d = json.load(open(args.check))
        h = common.halves(d["pred"], d["conf"], d["gold"])
        print(json.dumps({k: round(v, 2) for k, v in h.items()}))
        return
    _, _, xv, yv = common.dataset(args.set, args.data)
    pred, conf = [], []
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "intents"))
        subprocess.run([args.clerk, "import", "jsonl", os.path.join(args.data, args.set, "train.jsonl"),
                        "--out", os.path.join(tmp, "intents", "data.yaml")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i, text in enumerate(xv):
            out = subprocess.run([args.clerk, "explain", "--content", tmp, "--json", text], check=True, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
            d = json.loads(out)
            s = d.get("scored") or []
            if s:
                best = max(s, key=lambda c: c["score"])
                pred.append(best["intent"])
                conf.append(float(best["score"]))
            else:
                pred.append(common.OOS)
                conf.append(0.0)
            if i % 200 == 0:
                print(i, file=sys.stderr)
    json.dump({"pred": pred, "conf": conf, "gold": yv, "text": xv}, open(args.out, "w"))


if __name__ == "__main__":
    sys.exit(main())
