"""Throughput and memory of the watch pipeline on short posts, on this machine.

Posts: the texts W1 ships in ``src/amane/watch/data/posts.jsonl`` (else the test samples), repeated
with variation (a phone number, a price, emojis, a link or a word swapped in) up to ``--docs``, and
written as one JSON Lines drop, so reading is measured too. Each mode runs in its own process
(peak RSS is per process; the parallel mode adds its workers' peak):

- ``baseline``: reading + exact hashing only (``read_path`` + ``content_hash``);
- ``pipeline``: reading + every stage (text, dedup, language, normalise, selectors, watchlist with
  the terms of W1's lexicon + name and regex terms, classify), one process;
- ``no_classify``: every stage but ``classify`` (W1's classifier is most of the time per document);
- ``parallel``: every stage, with ``Pipeline.process_parallel(workers=2)``.

The load average of the machine is printed with the figures: on a 2-core machine shared with other
jobs, the parallel mode cannot gain and every figure drops.

Model loading (lexicons, classifier) happens before the clock starts and is reported apart.

    .venv/bin/python bench/watch_pipeline.py [--docs 5000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "amane" / "watch" / "data"
SAMPLES = ROOT / "tests" / "watch" / "samples" / "drop"
MODES = ("baseline", "pipeline", "no_classify", "parallel")
EMOJIS = ["🔥", "✅", "💊", "🚤", "💳", "📞", "👇"]


def base_texts() -> list[str]:
    posts = DATA / "posts.jsonl"
    if posts.exists():
        return [json.loads(line)["text"] for line in posts.read_text("utf-8").splitlines() if line.strip()]
    from amane.watch.sources import RawDoc, read_path

    return [d.text for d in read_path(SAMPLES, "bench") if isinstance(d, RawDoc)]


def make_drop(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    texts = base_texts()
    vocab = sorted({w for t in texts for w in t.split()})
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            words = rng.choice(texts).split()
            roll = rng.random()
            if roll < 0.25:
                words.append(f"06{rng.randint(10_000_000, 99_999_999)}")
            elif roll < 0.45:
                words.insert(rng.randrange(len(words) + 1), f"{rng.randint(1, 99) * 50}dh")
            elif roll < 0.6:
                words.append(rng.choice(EMOJIS) * rng.randint(1, 3))
            elif roll < 0.7:
                words.append(f"https://t.me/c{rng.randint(1, 9999)}")
            elif roll < 0.85:
                words[rng.randrange(len(words))] = rng.choice(vocab)
            post = {"id": f"b{i}", "text": " ".join(words), "author": f"user{rng.randint(1, 300)}"}
            f.write(json.dumps(post, ensure_ascii=False) + "\n")


def html_speed(pages: int, seed: int) -> list[dict[str, object]]:
    """Pages per second of three ways to get the text of an HTML page, on the sample pages
    repeated with variation: ``html_to_text`` (selectolax + boilerplate removal), selectolax's
    plain ``body.text()`` (no removal; the floor) and the standard library's ``HTMLParser``."""
    from html.parser import HTMLParser

    from selectolax.lexbor import LexborHTMLParser

    from amane.watch.text import html_to_text

    class _Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    def stdlib(html: str) -> str:
        c = _Collect()
        c.feed(html)
        c.close()
        return " ".join(c.parts)

    def plain(html: str) -> str:
        body = LexborHTMLParser(html).body
        return body.text() if body is not None else ""

    rng = random.Random(seed)
    sources = sorted((SAMPLES / "pages").glob("*.html"))
    base = [p.read_text("utf-8") for p in sources]
    docs = []
    for i in range(pages):
        html = rng.choice(base)
        filler = "".join(f"<p>paragraphe {i}-{j} {rng.randint(0, 10**6)}</p>" for j in range(rng.randint(1, 20)))
        docs.append(html.replace("</article>", filler + "</article>"))
    rows: list[dict[str, object]] = []
    for name, fn in (
        ("html_to_text", lambda h: html_to_text(h).text),
        ("selectolax body.text", plain),
        ("stdlib HTMLParser", stdlib),
    ):
        t0 = time.perf_counter()
        chars = sum(len(fn(h)) for h in docs)
        secs = time.perf_counter() - t0
        rows.append({"method": name, "pages": pages, "pages_per_s": round(pages / secs, 1), "chars": chars})
    return rows


def watchlist_terms() -> list[object]:
    import yaml

    from amane.watch.watchlist import Term

    terms: list[object] = []
    lexicon = DATA / "lexicon.yaml"
    if lexicon.exists():
        data = yaml.safe_load(lexicon.read_text("utf-8"))
        for cat, words in data.items():
            for j, w in enumerate(words or []):
                kind = "phrase" if len(str(w).split()) > 1 else "keyword"
                terms.append(Term(f"{cat}-{j}", kind, str(w), cat))
    names = ["محمد العلوي", "Fatima Zahra Bennani", "Youssef El Idrissi", "رشيد الفاسي", "Karim Tazi"]
    terms += [Term(f"name-{i}", "name", n) for i, n in enumerate(names)]
    terms += [
        Term("re-price", "regex", r"\b\d{2,5} ?(?:dh|mad|درهم)\b"),
        Term("re-cvv", "regex", r"\bcvv2?\b"),
        Term("re-tme", "regex", r"t\.me/[a-z0-9_]{3,}"),
    ]
    return terms


def run_mode(mode: str, drop: Path) -> dict[str, object]:
    from amane.watch import pipeline as pl
    from amane.watch.dedup import content_hash
    from amane.watch.pipeline import Pipeline
    from amane.watch.sources import RawDoc, read_path
    from amane.watch.watchlist import Watchlist

    stage_s: dict[str, float] = {}
    if mode == "pipeline":  # time each stage (a perf_counter pair per stage and document)
        for name, fn in list(pl.STAGES.items()):

            def timed(p: object, st: object, fn: object = fn, name: str = name) -> None:
                t = time.perf_counter()
                fn(p, st)  # type: ignore[operator]
                stage_s[name] = stage_s.get(name, 0.0) + time.perf_counter() - t

            pl.STAGES[name] = timed
    t0 = time.perf_counter()
    pipe = None
    terms = 0
    if mode != "baseline":
        wl_terms = watchlist_terms()
        terms = len(wl_terms)
        stages = [n for n in pl.STAGES if n != "classify"] if mode == "no_classify" else None
        pipe = Pipeline(Watchlist(wl_terms), stages=stages)  # type: ignore[arg-type]
        pipe.process(RawDoc("warm", "0", "تحميل النماذج warm up chargement", "text", "warm"))
        pipe.hashes.clear()
        pipe.index = type(pipe.index)(pipe.index.threshold, pipe.index.num_perm)
    startup = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = dup = near = hits = sels = 0
    docs = (d for d in read_path(drop, "bench") if isinstance(d, RawDoc))
    if mode == "baseline":
        seen: set[str] = set()
        for d in docs:
            h = content_hash(d.text)
            dup += h in seen
            seen.add(h)
            n += 1
    else:
        assert pipe is not None
        results = pipe.process_parallel(docs, workers=2) if mode == "parallel" else pipe.process_many(docs)
        for r in results:
            n += 1
            dup += r.duplicate_of is not None
            near += r.near_duplicate_of is not None
            hits += len(r.hits)
            sels += len(r.selectors)
    secs = time.perf_counter() - t0
    if mode == "pipeline":
        stage_s["(warm-up doc)"] = 0.0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "mode": mode,
        "docs": n,
        "seconds": round(secs, 3),
        "docs_per_s": round(n / secs, 1),
        "startup_s": round(startup, 2),
        "peak_rss_mib": round(rss / 1024, 1),
        "peak_worker_rss_mib": round(child / 1024, 1) if mode == "parallel" else None,
        "terms": terms,
        "exact_duplicates": dup,
        "near_duplicates": near,
        "hits": hits,
        "selectors": sels,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "ms_per_doc_by_stage": {k: round(v * 1000 / max(n, 1), 3) for k, v in stage_s.items() if k in pl.STAGES},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--pages", type=int, default=2000, help="HTML pages for the text-extraction comparison")
    ap.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--drop", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:  # child process
        print(json.dumps(run_mode(args.mode, args.drop)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        drop = Path(tmp) / "posts.jsonl"
        make_drop(drop, args.docs, args.seed)
        rows = []
        for mode in MODES:
            out = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--drop", str(drop)],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    html_rows = html_speed(args.pages, args.seed)
    if args.json:
        print(json.dumps({"docs": args.docs, "results": rows, "html": html_rows}, ensure_ascii=False, indent=2))
        return
    print(f"{args.docs} short posts (about 12 words), one JSON Lines drop; {rows[1]['terms']} watchlist terms")
    header = f"{'mode':12} {'docs/s':>9} {'seconds':>8} {'startup s':>9} {'peak RSS MiB':>13} "
    print(header + f"{'dups':>5} {'near':>5} {'hits':>6} {'load':>6}")
    for r in rows:
        rss = f"{r['peak_rss_mib']}" + (f"+{r['peak_worker_rss_mib']}" if r["peak_worker_rss_mib"] else "")
        print(
            f"{r['mode']:12} {r['docs_per_s']:9.1f} {r['seconds']:8.2f} {r['startup_s']:9.2f} {rss:>13} "
            f"{r['exact_duplicates']:5} {r['near_duplicates']:5} {r['hits']:6} {r['load_avg_1min']:6}"
        )
    for r in rows:
        if r["ms_per_doc_by_stage"]:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["ms_per_doc_by_stage"].items())
            print(f"ms per document by stage ({r['mode']}): {stages}")
    print(f"HTML text extraction, {args.pages} pages:")
    for h in html_rows:
        print(f"  {h['method']:22} {h['pages_per_s']:9.1f} pages/s  ({h['chars']} characters kept)")


if __name__ == "__main__":
    main()
