"""Shared helpers for the measurement scripts in scripts/eval/ (standard library + numpy).

Not run on its own. Data are read from ../shared/data (or --data) and never copied into the project.
The honest protocol is the one of docs/understanding.md: split val.jsonl by line parity, choose the threshold
that maximises accuracy over all classes on one half, measure on the other, both ways, report the mean.
"""
import json
import os

import numpy as np

DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
OOS = "oos"


def load(path, skip_oos=False):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if skip_oos:
        rows = [r for r in rows if r["intent"] != OOS]
    return [r["text"] for r in rows], [r["intent"] for r in rows]


def dataset(name, data=DEFAULT_DATA):
    """(train texts, train labels without oos lines, val texts, val labels)."""
    xt, yt = load(os.path.join(data, name, "train.jsonl"), skip_oos=True)
    xv, yv = load(os.path.join(data, name, "val.jsonl"))
    return xt, yt, xv, yv


def auroc(conf, is_in):
    """Probability that an in-scope message has a higher confidence than an OOS one (ties count half)."""
    conf = np.asarray(conf, float)
    is_in = np.asarray(is_in, bool)
    pos, neg = conf[is_in], conf[~is_in]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    i = 0
    while i < len(allv):  # average ranks for ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(allv))
    r[order] = ranks
    return float((r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def metrics(pred, conf, gold, thr):
    pred = np.asarray(pred, object)
    conf = np.asarray(conf, float)
    gold = np.asarray(gold, object)
    is_in = gold != OOS
    answered = conf >= thr
    ins = float(np.mean((pred[is_in] == gold[is_in]) & answered[is_in])) * 100
    oos_rec = float(np.mean(~answered[~is_in])) * 100
    refused = ~answered
    oos_prec = float(np.sum(refused & ~is_in) / max(1, np.sum(refused))) * 100
    allc = float(np.mean(np.where(is_in, (pred == gold) & answered, ~answered))) * 100
    return {"in_scope": ins, "oos_recall": oos_rec, "oos_precision": oos_prec, "all": allc,
            "auroc": auroc(conf, is_in) * 100, "threshold": thr}


def best_threshold(pred, conf, gold):
    """Threshold maximising accuracy over all classes (the lowest such one, as a cut between distinct values)."""
    pred = np.asarray(pred, object)
    conf = np.asarray(conf, float)
    gold = np.asarray(gold, object)
    cands = np.unique(conf)
    cuts = np.concatenate([[cands[0] - 1e-9], (cands[:-1] + cands[1:]) / 2, [cands[-1] + 1e-9]])
    is_in = gold != OOS
    correct = pred == gold
    best, best_acc = cuts[0], -1.0
    for t in cuts:
        ans = conf >= t
        acc = np.mean(np.where(is_in, correct & ans, ~ans))
        if acc > best_acc + 1e-12:
            best, best_acc = t, acc
    return float(best)


def halves(pred, conf, gold):
    """Honest half-split figures: mean over (even→odd, odd→even)."""
    pred = np.asarray(pred, object)
    conf = np.asarray(conf, float)
    gold = np.asarray(gold, object)
    idx = np.arange(len(gold))
    runs = []
    for a, b in ((0, 1), (1, 0)):
        ca, cb = idx % 2 == a, idx % 2 == b
        t = best_threshold(pred[ca], conf[ca], gold[ca])
        runs.append(metrics(pred[cb], conf[cb], gold[cb], t))
    return {k: (runs[0][k] + runs[1][k]) / 2 for k in runs[0]}


def top1(pred, gold):
    pred = np.asarray(pred, object)
    gold = np.asarray(gold, object)
    m = gold != OOS
    return float(np.mean(pred[m] == gold[m])) * 100


def tradeoff(pred, conf, gold, min_in_scope):
    """Oracle bound: the best OOS recall any threshold reaches on this data while in-scope accuracy stays
    >= min_in_scope (threshold chosen on the data it is measured on, so an upper bound). Returns
    (oos recall, in-scope accuracy, threshold) or None."""
    pred = np.asarray(pred, object)
    conf = np.asarray(conf, float)
    gold = np.asarray(gold, object)
    best = None
    for t in np.concatenate([np.unique(conf), [np.inf]]):
        m = metrics(pred, conf, gold, t)
        if m["in_scope"] >= min_in_scope - 1e-9 and (best is None or m["oos_recall"] > best[0]):
            best = (m["oos_recall"], m["in_scope"], float(t))
    return best


def row(name, h, extra=""):
    return "| %s | %.1f | %.1f | %.1f | %.1f | %s" % (name, h["in_scope"], h["oos_recall"], h["auroc"], h["all"],
                                                   extra)
