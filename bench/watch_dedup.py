"""Near-duplicate detection on edited copies of short posts, against exact-hash dedup.

Texts: the posts W1 ships in ``src/amane/watch/data/posts.jsonl`` (Arabic, French, English, Darija
in both scripts; about 12 words each), else the test samples. Half of them are indexed; each
indexed text gets edited copies (one kind of edit per copy: insert, delete or replace 1-2 words,
reorder clauses, add emojis and a link, change case / accents / Arabic diacritics, and two edits
at once); the other half, never indexed, are the unrelated queries. A query is right when it
returns the key of its own original (positives) or nothing (unrelated ones).

Baselines in the same run: SHA-256 of the raw text, and ``content_hash`` (SHA-256 of the folded
words). Then MinHash + LSH (``NearDuplicateIndex``) for shingle sizes 1-3 and several thresholds.

    .venv/bin/python bench/watch_dedup.py [--json] [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from amane.watch import dedup
from amane.watch.dedup import NearDuplicateIndex, content_hash, signature

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "amane" / "watch" / "data" / "posts.jsonl"
SAMPLES = ROOT / "tests" / "watch" / "samples" / "drop"
EMOJIS = ["🔥", "✅", "💊", "🚤", "💳", "📞", "👇", "💯"]
HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652"]


def load_texts() -> list[str]:
    if DATA.exists():
        rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
        return [r["text"] for r in rows if len(r["text"].split()) >= 4]
    from amane.watch.sources import RawDoc, read_path

    return [d.text for d in read_path(SAMPLES, "bench") if isinstance(d, RawDoc)]


def _words(text: str) -> list[str]:
    return text.split()


def insert(rng: random.Random, text: str, vocab: list[str]) -> str:
    w = _words(text)
    for _ in range(rng.randint(1, 2)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(vocab))
    return " ".join(w)


def delete(rng: random.Random, text: str, vocab: list[str]) -> str:
    w = _words(text)
    for _ in range(rng.randint(1, 2)):
        if len(w) > 3:
            w.pop(rng.randrange(len(w)))
    return " ".join(w)


def replace(rng: random.Random, text: str, vocab: list[str]) -> str:
    w = _words(text)
    for _ in range(rng.randint(1, 2)):
        w[rng.randrange(len(w))] = rng.choice(vocab)
    return " ".join(w)


def reorder(rng: random.Random, text: str, vocab: list[str]) -> str:
    parts = [p.strip() for p in re.split(r"(?<=[.,،!?؟])\s+", text) if p.strip()]
    if len(parts) < 2:
        w = _words(text)
        cut = len(w) // 2
        return " ".join(w[cut:] + w[:cut])
    while True:
        shuffled = parts[:]
        rng.shuffle(shuffled)
        if shuffled != parts:
            return " ".join(shuffled)


def emoji_link(rng: random.Random, text: str, vocab: list[str]) -> str:
    w = _words(text)
    for _ in range(rng.randint(1, 3)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(EMOJIS) * rng.randint(1, 3))
    return " ".join(w) + f" https://t.me/{rng.choice(['canal', 'souk', 'deal'])}{rng.randint(1, 999)}"


def case_diacritics(rng: random.Random, text: str, vocab: list[str]) -> str:
    out = []
    for ch in text:
        if "\u0621" <= ch <= "\u064a" and rng.random() < 0.3:
            out.append(ch + rng.choice(HARAKAT))
        elif ch.isalpha() and ch.isascii() and rng.random() < 0.5:
            out.append(ch.upper())
        else:
            out.append(ch)
    s = "".join(out)
    if rng.random() < 0.5:  # strip French accents
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c) or ord(c) >= 0x0600)
        s = unicodedata.normalize("NFC", s)
    return s


EDITS: dict[str, Callable[[random.Random, str, list[str]], str]] = {
    "insert": insert,
    "delete": delete,
    "replace": replace,
    "reorder": reorder,
    "emoji_link": emoji_link,
    "case_diacritics": case_diacritics,
}


def two_edits(rng: random.Random, text: str, vocab: list[str]) -> str:
    a, b = rng.sample(sorted(EDITS), 2)
    return EDITS[b](rng, EDITS[a](rng, text, vocab), vocab)


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def evaluate(
    indexed: list[str],
    queries: list[tuple[str, int | None, str]],
    method: Callable[[list[str]], Callable[[str], int | None]],
) -> dict[str, object]:
    find = method(indexed)
    tp = fp = fn = 0
    per_kind: dict[str, list[int]] = {}
    for text, truth, kind in queries:
        got = find(text)
        hit = got is not None and got == truth
        if truth is not None:
            per_kind.setdefault(kind, [0, 0])
            per_kind[kind][1] += 1
            if hit:
                tp += 1
                per_kind[kind][0] += 1
            else:
                fn += 1
        if got is not None and not hit:
            fp += 1
    out: dict[str, object] = dict(prf(tp, fp, fn))
    out["recall_by_edit"] = {k: round(v[0] / v[1], 3) for k, v in sorted(per_kind.items())}
    return out


def hash_method(fn: Callable[[str], str]) -> Callable[[list[str]], Callable[[str], int | None]]:
    def build(indexed: list[str]) -> Callable[[str], int | None]:
        table: dict[str, int] = {}
        for i, t in enumerate(indexed):
            table.setdefault(fn(t), i)
        return lambda text: table.get(fn(text))

    return build


def minhash_method(threshold: float, shingle: int) -> Callable[[list[str]], Callable[[str], int | None]]:
    def build(indexed: list[str]) -> Callable[[str], int | None]:
        idx = NearDuplicateIndex(threshold=threshold)
        for i, t in enumerate(indexed):
            idx.add(str(i), _sig(t, shingle))

        def find(text: str) -> int | None:
            key = idx.query(_sig(text, shingle))
            return int(key) if key is not None else None

        return find

    return build


def _sig(text: str, shingle: int) -> bytes:
    return signature(text, shingle=shingle)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = load_texts()
    rng.shuffle(texts)
    half = len(texts) // 2
    indexed, unrelated = texts[:half], texts[half:]
    vocab = sorted({w for t in texts for w in t.split()})
    queries: list[tuple[str, int | None, str]] = []
    for i, t in enumerate(indexed):
        for kind, fn in EDITS.items():
            queries.append((fn(rng, t, vocab), i, kind))
        queries.append((two_edits(rng, t, vocab), i, "two_edits"))
    queries += [(t, None, "unrelated") for t in unrelated]

    methods: list[tuple[str, Callable[[list[str]], Callable[[str], int | None]]]] = [
        ("sha256(raw text) [baseline]", hash_method(lambda t: hashlib.sha256(t.encode()).hexdigest())),
        ("content_hash [baseline]", hash_method(content_hash)),
    ]
    for shingle in (0, 1, 2):
        for th in (0.5, 0.6, 0.7, 0.8):
            methods.append((f"minhash shingle={shingle or 'auto'} threshold={th}", minhash_method(th, shingle)))
    rows = []
    for name, method in methods:
        t0 = time.perf_counter()
        res = evaluate(indexed, queries, method)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        rows.append({"method": name, **res})
    report = {
        "texts": len(texts),
        "indexed": len(indexed),
        "positive_queries": len(queries) - len(unrelated),
        "unrelated_queries": len(unrelated),
        "default_shingle": dedup.SHINGLE,
        "results": rows,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(
        f"{report['texts']} texts; {report['indexed']} indexed; {report['positive_queries']} edited copies; "
        f"{report['unrelated_queries']} unrelated queries"
    )
    kinds = list(EDITS) + ["two_edits"]
    print(f"{'method':38} {'P':>6} {'R':>6} {'F1':>6}  " + " ".join(f"{k[:9]:>9}" for k in kinds))
    for r in rows:
        by: dict[str, float] = r["recall_by_edit"]  # type: ignore[assignment]
        print(
            f"{r['method']:38} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f}  "
            + " ".join(f"{by.get(k, 0):9.3f}" for k in kinds)
        )


if __name__ == "__main__":
    main()
