#!/usr/bin/env python3
"""Lexical linear models fitted on the training data: TF-IDF character n-grams (char_wb 2-5), word n-grams
(1-2) and both, with multinomial logistic regression or a linear SVM. The regularisation C is chosen by
cross-validation on the TRAINING file only (in-scope accuracy of the held-out folds); validation data are used
only to choose the threshold, by the honest half-split protocol of docs/understanding.md (common.halves).

Usage (numpy + scikit-learn; one core; about 40 minutes for clinc150 on a loaded 2-core machine, seconds for
govfaq-covid):
    python3 scripts/eval/linear.py --data ../shared/data --set govfaq-covid --cache /tmp/ev --folds 5
    python3 scripts/eval/linear.py --data ../shared/data --set clinc150 --cache /tmp/ev --models char-svm,word+char-svm
    python3 scripts/eval/linear.py --data ../shared/data --set clinc150 --cache /tmp/ev --models char-lr,word+char-lr \
        --folds 1
    python3 scripts/eval/linear.py --data ../shared/data --set clinc150 --cache /tmp/ev --models char-svmcal \
        --fixed-c 3
Prints one table row per model (confidence = highest class probability, or highest SVM score) with the C chosen,
training time (CPU seconds), per-query time in scikit-learn (batch, Python overhead included) and
the number of weights a query reads, and writes each model's validation scores to CACHE/SET-MODEL.npz for
scripts/eval/confidence.py. The cache holds scores only, never data.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


class Features:
    def __init__(self, kind):
        self.kind = kind
        self.vs = []
        if kind in ("char", "word+char"):
            self.vs.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
        if kind in ("word", "word+char"):
            self.vs.append(TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                           token_pattern=r"(?u)\b\w+\b"))

    def fit_transform(self, x):
        return sp.hstack([v.fit_transform(x) for v in self.vs]).tocsr()

    def transform(self, x):
        return sp.hstack([v.transform(x) for v in self.vs]).tocsr()


def make(model, c):
    if model == "svmcal":  # Platt scaling per class, 3-fold (needs 3 examples of every intent: clinc150 only)
        return CalibratedClassifierCV(LinearSVC(C=c), cv=3, method="sigmoid")
    if model == "lr":
        return LogisticRegression(C=c, max_iter=1000)
    return LinearSVC(C=c)


GRID = {"lr": [1.0, 10.0, 100.0, 1000.0], "svm": [0.1, 0.3, 1.0, 3.0, 10.0]}


def choose_c(xt, yt, feats, model, folds):
    yt = np.asarray(yt, object)
    counts = {}
    for y in yt:
        counts[y] = counts.get(y, 0) + 1
    if folds == 1:
        splitter = None
    elif min(counts.values()) >= folds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    else:  # govfaq-covid: some intents have a single example
        splitter = KFold(folds, shuffle=True, random_state=0)
    xt = np.asarray(xt, object)
    if folds == 1:  # one held-out fold: every fifth example of each intent (docs/understanding.md §8)
        seen, te = {}, []
        for i, y in enumerate(yt):
            seen[y] = seen.get(y, 0) + 1
            te.append(seen[y] % 5 == 0)
        te = np.array(te)
        splits = [(np.where(~te)[0], np.where(te)[0])]
    else:
        splits = list(splitter.split(xt, yt))
    scores = {}
    for c in GRID[model]:
        acc = []
        for tr, te in splits:
            f = Features(feats)
            m = make(model, c).fit(f.fit_transform(list(xt[tr])), yt[tr])
            acc.append(np.mean(m.predict(f.transform(list(xt[te]))) == yt[te]))
        scores[c] = float(np.mean(acc))
    return max(scores, key=lambda c: (scores[c], -c)), scores


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--set", required=True)
    ap.add_argument("--cache", default="/tmp/clerk-eval")
    ap.add_argument("--models", default="char-lr,char-svm,word+char-lr,word+char-svm,word-lr,word-svm")
    ap.add_argument("--folds", type=int, default=3, help="cross-validation folds on train; 1: one held-out "
                    "fold of every fifth example per intent (cheaper, used for logistic regression on clinc150)")
    ap.add_argument("--fixed-c", type=float, help="skip cross-validation and use this C (for svmcal: the C the "
                    "plain SVM's cross-validation chose)")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    xt, yt, xv, yv = common.dataset(args.set, args.data)
    print("| model | in-scope | OOS recall | AUROC | all classes | top-1 | C (CV on train) | train s | µs/query "
          "| features | nonzero weights | weights read/query |")
    for name in args.models.split(","):
        feats, model = name.rsplit("-", 1)
        if args.fixed_c:
            c, cv = args.fixed_c, "fixed"
        else:
            c, cv = choose_c(xt, yt, feats, model, args.folds)
        t0 = time.process_time()
        f = Features(feats)
        X = f.fit_transform(xt)
        m = make(model, c).fit(X, yt)
        if model == "svmcal":
            m.coef_ = np.mean([cc.estimator.coef_ for cc in m.calibrated_classifiers_], 0)
        train_s = time.process_time() - t0
        t0 = time.process_time()
        Xv = f.transform(xv)
        s = m.decision_function(Xv) if model == "svm" else m.predict_proba(Xv)
        query_us = (time.process_time() - t0) / len(xv) * 1e6
        # cost an engine would pay: the weights read per query, (query features) x (classes with a non-zero
        # weight for that feature), with the weights stored as postings per feature
        row_nz = (np.abs(m.coef_) > 1e-12).sum(0)
        reads = float(np.mean((Xv != 0).astype(np.int64) @ row_nz))
        classes = m.classes_
        pred = classes[np.argmax(s, 1)]
        conf = s.max(1)
        h = common.halves(pred, conf, yv)
        nz = int(np.sum(np.abs(m.coef_) > 1e-12))  # svmcal: of the averaged fold models (an approximation)
        print(common.row(name, h, "%.1f | %g | %.1f | %.0f | %d | %d | %.0f |" % (
            common.top1(pred, yv), c, train_s, query_us, X.shape[1], nz, reads)) + "  cv=" + json.dumps(cv)
              + ("  iterations=%s" % getattr(m, "n_iter_", "")), flush=True)
        np.savez(os.path.join(args.cache, "%s-%s.npz" % (args.set, name)), scores=s, classes=classes,
                 gold=np.asarray(yv, object), model=model, C=c, train_s=train_s)


if __name__ == "__main__":
    sys.exit(main())
