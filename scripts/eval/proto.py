#!/usr/bin/env python3
"""A numpy re-implementation of the engine's example scorer (docs/matching.md §3, docs/understanding.md §1-5),
used to measure what character n-grams would add to it.

Scorer: Snowball stems (nltk) as terms; term weight ln(N+1) - entropy of the term's spread over the N intents;
weighted Dice between the message and every example (unknown message terms weigh UNKNOWN * ln(N+1)); an
intent's score is s1 + (1 - s1) * mean(s2, s3) over its nearest examples; times (P(intent)/P(best))^0.1 over the
12 best intents, P multinomial naive Bayes with alpha 0.3; times sqrt(coverage), the share of the message's
weight carried by terms the intent uses. Every example is scored (no posting-list caps, no spelling correction).

Character n-grams: the char_wb 3-5 grams of each word (with word boundaries, as scikit-learn's char_wb) are
added as further terms with their own entropy weights, scaled by LAMBDA; or used alone ("chars only").

Synonyms: an unknown message word (its stem used by no training example) is replaced by a known word that
shares a WordNet synset with it (the one used by the most examples): an automatic stand-in for the concepts an
editor would write (WordNet 3.0 from the Debian package wordnet-base, /usr/share/wordnet).

Usage (numpy, scipy, nltk, wordnet-base; a few minutes for clinc150):
    python3 scripts/eval/proto.py --data ../shared/data --set clinc150 [--cache /tmp/ev]
    python3 scripts/eval/proto.py --data ../shared/data --set clinc150 --trainsplit
--trainsplit measures instead on the split of the clinc150 training file of docs/understanding.md §8 (every
fifth example of each intent held out, plus the training file's OOS lines), to choose LAMBDA without validation
data. Prints one row per variant: honest half-split in-scope / OOS recall, AUROC, all classes, top-1.
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

import numpy as np
import scipy.sparse as sp
from nltk.stem.snowball import SnowballStemmer

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

STEM = SnowballStemmer("english")
_cache = {}
UNKNOWN = 0.6


def stem(w):
    s = _cache.get(w)
    if s is None:
        s = _cache[w] = STEM.stem(w)
    return s


def terms(text, chars, words=True, nmin=3, nmax=5):
    ws = re.findall(r"\w+", text.lower())
    out = set()
    if words:
        out.update("w:" + stem(w) for w in ws)
    if chars:
        for w in ws:
            p = " " + w + " "
            for n in range(nmin, nmax + 1):
                for i in range(0, max(1, len(p) - n + 1)):
                    out.add("c:" + p[i:i + n])
    return out


class Scorer:
    def __init__(self, xt, yt, chars=False, lam=1.0, words=True, alpha=0.3, nb_exp=0.1, cov_exp=0.5,
                 support=2, cands=12, synonyms=False):
        self.chars, self.lam, self.words = chars, lam, words
        self.alpha, self.nb_exp, self.cov_exp, self.support, self.cands = alpha, nb_exp, cov_exp, support, cands
        self.intents = sorted(set(yt))
        iid = {c: i for i, c in enumerate(self.intents)}
        N = len(self.intents)
        docs = [terms(t, chars, words) for t in xt]
        vocab = {}
        for d in docs:
            for t in d:
                vocab.setdefault(t, len(vocab))
        self.vocab = vocab
        rows, cols = [], []
        for r, d in enumerate(docs):
            for t in d:
                rows.append(r)
                cols.append(vocab[t])
        E = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(docs), len(vocab)))
        self.ex_intent = np.array([iid[y] for y in yt])
        M = sp.csr_matrix((np.ones(len(yt)), (self.ex_intent, np.arange(len(yt)))), shape=(N, len(yt)))
        counts = (M @ E).toarray()  # intents x terms: how many examples of the intent use the term
        tot = counts.sum(0)
        p = counts / np.maximum(tot, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -np.nansum(np.where(p > 0, p * np.log(p), 0), 0)
        w = np.log(N + 1) - H
        if chars and words:
            isch = np.array([t.startswith("c:") for t in vocab])
            w = np.where(isch, w * lam, w)
        self.w = w.astype(np.float32)
        self.unknown_w = UNKNOWN * np.log(N + 1)
        self.E = E
        self.ex_w = np.asarray(E @ self.w).ravel()
        self.uses = counts > 0  # intent uses term
        # naive Bayes, multinomial over the same (unweighted) terms
        lp = np.log(counts + alpha) - np.log(counts.sum(1, keepdims=True) + alpha * len(vocab))
        self.nb_logp = lp.astype(np.float32)
        self.prior = np.log(np.bincount(self.ex_intent, minlength=N) / len(yt))
        self.unknown_scale = 1.0 if not (chars and words) else 1.0
        # examples grouped by intent, padded
        self.syn = None
        if synonyms:  # an unknown message word becomes the known synonym used by the most examples
            syn = wordnet_synonyms()
            df = np.asarray(E.sum(0)).ravel()
            self.syn = {}
            for w, alts in syn.items():
                if "w:" + w in vocab:
                    continue
                known = [a for a in alts if "w:" + a in vocab]
                if known:
                    self.syn["w:" + w] = max(known, key=lambda a: (df[vocab["w:" + a]], a))
            self.syn = {k: "w:" + v for k, v in self.syn.items()}
        self.groups = [np.where(self.ex_intent == i)[0] for i in range(N)]
        L = max(len(g) for g in self.groups)
        self.pad = np.full((N, L), -1)
        for i, g in enumerate(self.groups):
            self.pad[i, :len(g)] = g

    def score(self, texts, batch=500):
        preds, confs = [], []
        N = len(self.intents)
        for b in range(0, len(texts), batch):
            qs = [terms(t, self.chars, self.words) for t in texts[b:b + batch]]
            rows, cols, unk = [], [], np.zeros(len(qs))
            if self.syn:
                qs = [{self.syn.get(t, t) for t in q} for q in qs]
            for r, q in enumerate(qs):
                for t in q:
                    j = self.vocab.get(t)
                    if j is None:
                        unk[r] += self.unknown_w * (self.lam if t.startswith("c:") and self.words else 1.0)
                    else:
                        rows.append(r)
                        cols.append(j)
            Q = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(qs), len(self.vocab)))
            Qw = Q.multiply(self.w[None, :]).tocsr()
            qw = np.asarray(Qw.sum(1)).ravel() + unk
            inter = (Qw @ self.E.T).toarray()
            dice = 2 * inter / (qw[:, None] + self.ex_w[None, :] + 1e-9)
            # per intent: best examples
            padded = np.where(self.pad[None, :, :] >= 0, dice[:, np.maximum(self.pad, 0)], -1.0)
            k = self.support + 1
            top = -np.sort(-padded, axis=2)[:, :, :k]
            s1 = top[:, :, 0]
            rest = np.where(top[:, :, 1:] >= 0, top[:, :, 1:], 0).mean(2)
            sc = s1 + (1 - s1) * rest
            # coverage
            used = Qw @ self.uses.T.astype(np.float32)  # weight of message terms the intent uses
            cov = np.asarray(used) / (qw[:, None] + 1e-9)
            sc = sc * np.power(np.clip(cov, 0, 1), self.cov_exp)
            # naive Bayes ratio over the best candidates
            ll = np.asarray(Q @ self.nb_logp.T) + self.prior[None, :]
            for r in range(len(qs)):
                c = np.argsort(-sc[r])[:self.cands]
                l = ll[r, c]
                ratio = np.exp(self.nb_exp * (l - l.max()))
                s = sc[r, c] * ratio
                j = int(np.argmax(s))
                preds.append(self.intents[c[j]])
                confs.append(float(s[j]))
        return preds, confs


WORDNET = "/usr/share/wordnet"  # Debian package wordnet-base


def wordnet_synonyms():
    """stem -> stems of the words that share a WordNet synset with it (single words only)."""
    syn = defaultdict(set)
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET, "data." + pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                parts = line.split(" ")
                n = int(parts[3], 16)
                words = [parts[4 + 2 * i].lower() for i in range(n)]
                words = [stem(w.split("(")[0]) for w in words if "_" not in w and "-" not in w]
                for w in words:
                    syn[w].update(x for x in words if x != w)
    return syn


def trainsplit(data):
    """docs/understanding.md §8: every fifth example of each intent held out, plus the OOS training lines."""
    rows = [json.loads(l) for l in open(os.path.join(data, "clinc150", "train.jsonl"), encoding="utf-8")]
    seen = defaultdict(int)
    xt, yt, xv, yv = [], [], [], []
    for r in rows:
        if r["intent"] == common.OOS:
            xv.append(r["text"])
            yv.append(r["intent"])
            continue
        seen[r["intent"]] += 1
        if seen[r["intent"]] % 5 == 0:
            xv.append(r["text"])
            yv.append(r["intent"])
        else:
            xt.append(r["text"])
            yt.append(r["intent"])
    return xt, yt, xv, yv


VARIANTS = [
    ("words (engine-like)", dict(chars=False)),
    ("chars 3-5 only", dict(chars=True, words=False)),
    ("words + chars, lambda 0.1", dict(chars=True, lam=0.1)),
    ("words + chars, lambda 0.25", dict(chars=True, lam=0.25)),
    ("words + chars, lambda 0.5", dict(chars=True, lam=0.5)),
    ("words + chars, lambda 1", dict(chars=True, lam=1.0)),
    ("words, unknown words replaced by a known WordNet synonym", dict(synonyms=True)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--set", default="clinc150")
    ap.add_argument("--trainsplit", action="store_true")
    ap.add_argument("--cache")
    ap.add_argument("--only")
    args = ap.parse_args()
    if args.trainsplit:
        xt, yt, xv, yv = trainsplit(args.data)
    else:
        xt, yt, xv, yv = common.dataset(args.set, args.data)
    print("| variant | in-scope | OOS recall | AUROC | all classes | top-1 |")
    for name, kw in VARIANTS:
        if args.only and args.only not in name:
            continue
        s = Scorer(xt, yt, **kw)
        pred, conf = s.score(xv)
        h = common.halves(pred, conf, yv)
        print(common.row(name, h, "%.1f |" % common.top1(pred, yv)), flush=True)
        if args.cache and not args.trainsplit:
            tag = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
            json.dump({"pred": pred, "conf": conf, "gold": yv},
                      open(os.path.join(args.cache, "proto-%s-%s.json" % (args.set, tag)), "w"))


if __name__ == "__main__":
    sys.exit(main())
