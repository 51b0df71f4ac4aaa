#!/usr/bin/env python3
"""Write a Unicode-noisy copy of a benchmark query file (deterministic).

Each query from gen_brain.py's queries.txt is rewritten with seeded randomness:
  * some letters get accents (a->á/à/â/ä, e->é/è/ê/ë, i->í/ì/î/ï, o->ó/ò/ô/ö,
    u->ú/ù/û/ü, n->ñ, c->ç), half precomposed (NFC), half as base letter +
    combining mark (NFD);
  * some words become full-width (ID -> ＩＤ, U+FF01..U+FF5E);
  * some words are capitalised (Title or UPPER).
A diacritic-, width- and case-insensitive normaliser must map every rewritten
query back to the original query's words, so the expected answers are kept
as they are.  The script checks this itself (see fold()) and fails otherwise.

With --foreign, about 1 query in 5 also gets a non-Latin word appended
(Cyrillic, Greek, CJK, ...).  The reference semantics of gen_brain.py turn
every non [a-z0-9] character into a space, so "expected" is unchanged under
it; but an engine that treats non-Latin letters as word characters sees an
extra word, which only a trailing wildcard can absorb.  Such lines carry a
"foreign" field in the answers file so they can be told apart.

Outputs OUT (one query per line) and OUT.answers.jsonl (the input answers
with "query" replaced and "orig_query" added).

Usage: accent_queries.py --in DIR/queries.txt --out FILE [--seed 1]
                         [--answers DIR/answers.jsonl] [--foreign]
Only the Python standard library is used.
"""
import argparse
import json
import os
import random
import re
import sys
import unicodedata

# Base letter -> combining marks it may receive.
ACCENTS = {
    "a": "\u0301\u0300\u0302\u0308",  # á à â ä
    "e": "\u0301\u0300\u0302\u0308",  # é è ê ë
    "i": "\u0301\u0300\u0302\u0308",  # í ì î ï
    "o": "\u0301\u0300\u0302\u0308",  # ó ò ô ö
    "u": "\u0301\u0300\u0302\u0308",  # ú ù û ü
    "n": "\u0303",                    # ñ
    "c": "\u0327",                    # ç
}
FOREIGN_WORDS = ["спасибо", "пожалуйста", "ευχαριστώ", "παρακαλώ", "谢谢",
                 "ありがとう", "감사합니다", "شكرا", "תודה", "धन्यवाद"]

P_ACCENT = 0.15      # per eligible letter
P_FULLWIDTH = 0.07   # per word
P_CAPITAL = 0.20     # per word
P_FOREIGN = 0.20     # per query, only with --foreign


def fullwidth(word):
    """Map printable ASCII (U+0021..U+007E) to full-width forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in word)


def accent(word, rng):
    """Give some letters of word an accent, precomposed or combining."""
    out = []
    for ch in word:
        marks = ACCENTS.get(ch.lower())
        if marks and rng.random() < P_ACCENT:
            decomposed = ch + rng.choice(marks)
            ch = unicodedata.normalize("NFC", decomposed) if rng.random() < 0.5 else decomposed
        out.append(ch)
    return "".join(out)


def rewrite(query, rng, foreign):
    """Return (new_query, appended_foreign_word_or_None)."""
    words = []
    for word in query.split(" "):
        if rng.random() < P_CAPITAL:
            word = word.upper() if rng.random() < 0.3 else word[:1].upper() + word[1:]
        # A word is either full-width or accented, never both.
        word = fullwidth(word) if rng.random() < P_FULLWIDTH else accent(word, rng)
        words.append(word)
    extra = None
    if foreign and rng.random() < P_FOREIGN:
        extra = rng.choice(FOREIGN_WORDS)
        words.append(extra)
    return " ".join(words), extra


def fold(text):
    """Width/diacritic/case folding followed by gen_brain.py's reference
    normalisation (non [a-z0-9] -> space); returns the list of words."""
    text = unicodedata.normalize("NFKD", text)   # full-width -> ASCII, split accents
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^a-z0-9]+", " ", text).split()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--in", dest="inp", required=True, help="queries.txt from gen_brain.py")
    ap.add_argument("--out", required=True, help="output query file")
    ap.add_argument("--answers", help="input answers (default: answers.jsonl next to --in)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--foreign", action="store_true",
                    help="append a non-Latin word to ~1 query in 5")
    args = ap.parse_args()
    answers_in = args.answers or os.path.join(os.path.dirname(args.inp) or ".", "answers.jsonl")

    with open(args.inp, encoding="utf-8") as f:
        queries = f.read().splitlines()
    with open(answers_in, encoding="utf-8") as f:
        answers = [json.loads(line) for line in f if line.strip()]
    if len(queries) != len(answers):
        sys.exit(f"{args.inp} has {len(queries)} queries, {answers_in} {len(answers)} answers")

    new_queries, new_answers, n_foreign = [], [], 0
    for lineno, (query, answer) in enumerate(zip(queries, answers)):
        if answer.get("query", query) != query:
            sys.exit(f"line {lineno + 1}: queries.txt and answers disagree")
        # One RNG per line: a line's variant does not depend on the others.
        rng = random.Random(f"{args.seed}:{lineno}")
        new, extra = rewrite(query, rng, args.foreign)
        if fold(new) != fold(query):   # the foreign word folds away to spaces
            sys.exit(f"line {lineno + 1}: folding check failed: {new!r} vs {query!r}")
        record = dict(answer, query=new, orig_query=query)
        if extra:
            record["foreign"] = extra
            n_foreign += 1
        new_queries.append(new)
        new_answers.append(record)

    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(new_queries) + "\n")
    with open(args.out + ".answers.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for record in new_answers:
            f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    changed = sum(a != b for a, b in zip(new_queries, queries))
    print(f"wrote {args.out} ({len(new_queries)} queries, {changed} changed, "
          f"{n_foreign} with a foreign word) and {args.out}.answers.jsonl", file=sys.stderr)


if __name__ == "__main__":
    main()
