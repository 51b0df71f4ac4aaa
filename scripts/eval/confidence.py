#!/usr/bin/env python3
"""Out-of-scope rules on top of the models of linear.py and the engine: which confidence to threshold, and
how far any threshold can go.

Inputs are the score caches written by linear.py (CACHE/SET-MODEL.npz) and engine_scores.py
(CACHE/engine-SET.json). Rules, each measured with the honest half-split protocol (common.halves):
  max-p      highest class probability (SVM: highest score)
  margin     difference between the two highest
  entropy    minus the entropy of the probabilities (softmax of the scores for the SVM)
  engine     the engine's confidence, with the engine's intent
  engine x model^a   the engine's confidence times the model's highest probability to the power a, answering the
             model's intent; a in {0.25, 0.5, 1, 2} is chosen together with the threshold on the choosing half
  agree      the model's highest probability, halved when the engine's intent differs
  unseen     the model's highest probability times (1 - share of the message's words, stemmed, that no training
             example uses)^b, b in {0.5, 1, 2, 4} chosen with the threshold on the choosing half
Then the oracle trade-off (threshold chosen on the whole validation file, so an upper bound): the best OOS
recall reachable while in-scope accuracy stays at the target, and the best in-scope accuracy while OOS recall
stays at the target.

With --curve, also prints the oracle trade-off curve of each rule (best OOS recall at several in-scope accuracies).

Usage: python3 scripts/eval/confidence.py --set govfaq-covid --cache /tmp/ev --model word+char-lr
       python3 scripts/eval/confidence.py --set clinc150 --cache /tmp/ev --model char-lr
"""
import argparse
import json
import os
import sys

import re

import numpy as np
from nltk.stem.snowball import SnowballStemmer

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

TARGETS = {"clinc150": (94.0, 55.0), "govfaq-covid": (85.0, 90.0)}
CURVE = {"clinc150": (94, 93, 92, 91, 90), "govfaq-covid": (90, 85, 80, 75, 70)}


def softmax(s):
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def halves_with_param(pred, confs, gold):
    """confs: {param: confidence array}. On each choosing half, pick (param, threshold) maximising all-class
    accuracy; measure on the other half."""
    pred = np.asarray(pred, object)
    gold = np.asarray(gold, object)
    idx = np.arange(len(gold))
    runs = []
    for a, b in ((0, 1), (1, 0)):
        ca, cb = idx % 2 == a, idx % 2 == b
        best = None
        for p, c in confs.items():
            c = np.asarray(c)
            t = common.best_threshold(pred[ca], c[ca], gold[ca])
            acc = common.metrics(pred[ca], c[ca], gold[ca], t)["all"]
            if best is None or acc > best[0]:
                best = (acc, p, t)
        c = np.asarray(confs[best[1]])
        runs.append(common.metrics(pred[cb], c[cb], gold[cb], best[2]))
        runs[-1]["param"] = best[1]
    out = {k: (runs[0][k] + runs[1][k]) / 2 for k in runs[0] if k != "param"}
    out["params"] = (runs[0]["param"], runs[1]["param"])
    return out


def oracle(pred, conf, gold, tin, toos):
    a = common.tradeoff(pred, conf, gold, tin)
    # best in-scope accuracy with OOS recall >= toos
    best = None
    for t in np.concatenate([np.unique(conf), [np.inf]]):
        m = common.metrics(pred, conf, gold, t)
        if m["oos_recall"] >= toos - 1e-9 and (best is None or m["in_scope"] > best):
            best = m["in_scope"]
    return ("%.1f" % a[0]) if a else "unreachable (top-1 %.1f)" % common.top1(pred, gold), "%.1f" % best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", required=True)
    ap.add_argument("--cache", default="/tmp/clerk-eval")
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--curve", action="store_true")
    args = ap.parse_args()
    xt, _, xv, yv = common.dataset(args.set, args.data)
    st = SnowballStemmer("english")
    vocab = {st.stem(w) for t in xt for w in re.findall(r"\w+", t.lower())}
    unseen = np.array([np.mean([st.stem(w) not in vocab for w in re.findall(r"\w+", t.lower())] or [0.0])
                       for t in xv])
    is_in = np.asarray(yv, object) != common.OOS
    has = unseen > 0
    print("messages with a word no training example uses: in-scope %.1f %%, OOS %.1f %%; AUROC of the share of "
          "such words alone %.1f %%" % (100 * has[is_in].mean(), 100 * has[~is_in].mean(),
                                        100 * common.auroc(-unseen, is_in)))
    curves = []
    tin, toos = TARGETS[args.set]
    d = np.load(os.path.join(args.cache, "%s-%s.npz" % (args.set, args.model)), allow_pickle=True)
    s, classes, gold = d["scores"], d["classes"], list(d["gold"])
    svm = str(d["model"]) == "svm"
    P = softmax(s) if svm else s
    srt = -np.sort(-s, 1)
    Ps = -np.sort(-P, 1)
    pred = classes[np.argmax(s, 1)]
    rules = {
        "max-p": srt[:, 0],
        "margin": srt[:, 0] - srt[:, 1],
        "entropy": np.sum(P * np.log(np.clip(P, 1e-12, 1)), 1),
    }
    eng_path = os.path.join(args.cache, "engine-%s.json" % args.set)
    eng = json.load(open(eng_path)) if os.path.exists(eng_path) else None
    hdr = "| rule | in-scope | OOS recall | AUROC | all classes | oracle OOS recall at in-scope >= %g " \
          "| oracle in-scope at OOS recall >= %g |" % (tin, toos)
    print(hdr)
    for name, c in rules.items():
        h = common.halves(pred, c, gold)
        print(common.row("%s %s" % (args.model, name), h, "%s | %s |" % oracle(pred, c, gold, tin, toos)))
        curves.append(("%s %s" % (args.model, name), pred, c))
    pm0 = srt[:, 0] if not svm else P.max(1)
    confs = {b: pm0 * (1 - unseen) ** b for b in (0.5, 1.0, 2.0, 4.0)}
    h = halves_with_param(pred, confs, gold)
    print(common.row("%s max-p x (1 - unseen share)^b (b chosen per half: %s)" % (args.model, h["params"]), h,
                     "%s | %s |" % oracle(pred, confs[1.0], gold, tin, toos) + " (b = 1)"))
    if eng:
        assert eng["gold"] == gold
        ep, ec = np.asarray(eng["pred"], object), np.asarray(eng["conf"])
        h = common.halves(ep, ec, gold)
        print(common.row("engine", h, "%s | %s |" % oracle(ep, ec, gold, tin, toos)))
        curves.append(("engine", ep, ec))
        pm = Ps[:, 0] if not svm else P.max(1)
        confs = {a: ec * pm ** a for a in (0.25, 0.5, 1.0, 2.0)}
        h = halves_with_param(pred, confs, gold)
        print(common.row("engine x %s^a (a chosen per half: %s)" % (args.model, h["params"],), h,
                         "%s | %s |" % oracle(pred, confs[1.0], gold, tin, toos) + " (a = 1)"))
        c = np.where(ep == pred, pm, pm / 2)
        h = common.halves(pred, c, gold)
        print(common.row("agree (%s max-p, halved if the engine disagrees)" % args.model, h,
                         "%s | %s |" % oracle(pred, c, gold, tin, toos)))
    if args.curve:
        levels = CURVE[args.set]
        print("\n| rule | top-1 | " + " | ".join("OOS recall at in-scope >= %d" % t for t in levels)
              + " |")
        for name, p, c in curves:
            cells = []
            for t in levels:
                a = common.tradeoff(p, c, gold, t)
                cells.append("%.1f" % a[0] if a else "—")
            print("| %s | %.1f | %s |" % (name, common.top1(p, gold), " | ".join(cells)))


if __name__ == "__main__":
    sys.exit(main())
