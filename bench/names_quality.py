"""Cross-script person-name search quality: `python bench/names_quality.py [--split heldout]`.

Data: the Wikidata Arabic-Latin full-name pairs shipped in ``arabic-name-romanizer``'s
``resources/names.sqlite3`` (table ``full_names``: arabic_key, latin, latin_lang, country, count,
source). Rows of Arabic-script countries, source ``wikidata``, with two words or more on both
sides. Pairs are grouped into identities (union of Arabic keys and folded Latin spellings), so a
name written two ways is one identity.

Split (deterministic, never changes): a Moroccan identity (any row with country ``MA``) is in the
TUNING part when sha256(its smallest Arabic key) mod 10 < 3, else in the HELD-OUT part. Only the
TUNING part was looked at while writing and tuning ``amane.names``; the HELD-OUT figures are the
ones to quote. Identities of other countries (Algeria, Egypt, Tunisia...: same names, other
people) are stored as distractors in both runs.

For each direction, one form of every identity is stored (the most frequent spelling) and each
other-script form of the split's Moroccan identities is a query, clean and with realistic noise:
the family name moved to the front, the article dropped ("El"/"ال"), one typo (substitution,
deletion, insertion or transposition of one letter), and for Arabic queries ه/ة and ي/ى
confusions. "LA->LA" queries a Latin spelling against another stored Latin spelling.

Systems, measured in the same run on the same queries:
  amane     query_keys -> in-memory inverted index over index_keys (stands in for the DB key
            table; kinds nf+np+nd, then nm keys of rare parts only when nothing was found) ->
            similarity() ranking, with arabic-name-romanizer's dictionary of attested spellings
            REBUILT WITHOUT the evaluated split's pairs (the shipped one holds them all)
  amane-nodict  the same candidates ranked without any dictionary (skeletons and vowels only)
  amane-top50   only the 50 candidates with the most key hits (nf 4, np 2, nd 1 per key) are
            ranked: bounded work per query whatever the number of stored names
  rapidfuzz token_sort_ratio over Latin forms, brute force over every stored name; Arabic text
            is put into Latin by arabic-name-romanizer's rule-based romanizer (no dictionary,
            no model: its dictionary holds these very pairs)
  trigram   PostgreSQL pg_trgm similarity emulated in Python (lower case, words padded with two
            spaces before and one after, trigram sets, |A∩B|/|A∪B|) over the same Latin forms,
            brute force

Reports recall@1, recall@10 and MRR (rank within the top 10), key-generation speed, index keys
per name, candidates per query (index selectivity) and time per query.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402  (installed with arabic-name-romanizer)
from rapidfuzz import fuzz, process  # noqa: E402

from amane.names import index_keys, query_keys  # noqa: E402
from amane.names.errors import NameInputError  # noqa: E402
from amane.names.match import rank  # noqa: E402
from amane.names.normalize import normalize_latin  # noqa: E402
from amane.names.spellings import AttestedSpellings  # noqa: E402

PERSIAN_SCRIPT = ("IR", "PK", "AF")
TOP = 10
KIND_WEIGHT = {"nf": 4, "np": 2, "nd": 1}
CAP = 50
NM_MAX_POSTING = 200  # single-part keys looked up only when this rare (0.5 % of the stored names)


# -- data -----------------------------------------------------------------------------------------


def names_db() -> Path:
    import arabic_name_romanizer

    return Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"


@dataclass
class Identity:
    ar: dict[str, int] = field(default_factory=dict)
    la: dict[str, int] = field(default_factory=dict)
    ma: bool = False

    def best(self, script: str) -> str:
        forms = self.ar if script == "ar" else self.la
        return min(forms, key=lambda f: (-forms[f], f))


def load_identities() -> list[Identity]:
    con = sqlite3.connect(f"file:{names_db()}?mode=ro", uri=True)
    marks = ",".join("?" * len(PERSIAN_SCRIPT))
    rows = [
        r
        for r in con.execute(
            "SELECT arabic_key, latin, country, count FROM full_names "
            f"WHERE source = 'wikidata' AND country NOT IN ({marks}) ORDER BY arabic_key, latin, country",
            PERSIAN_SCRIPT,
        )
        if len(r[0].split()) >= 2 and len(r[1].split()) >= 2
    ]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def latin_key(latin: str) -> str:
        return "".join(ch for ch in normalize_latin(latin) if ch.isalpha())

    for ar, la, _country, _count in rows:
        parent[find("A:" + ar)] = find("L:" + latin_key(la))
    groups: dict[str, Identity] = {}
    for ar, la, country, count in rows:
        g = groups.setdefault(find("A:" + ar), Identity())
        g.ar[ar] = g.ar.get(ar, 0) + count
        g.la[la] = g.la.get(la, 0) + count
        g.ma = g.ma or country == "MA"
    return sorted(groups.values(), key=lambda g: min(g.ar))


def split_of(identity: Identity) -> str:
    digest = hashlib.sha256(min(identity.ar).encode("utf-8")).hexdigest()
    return "tuning" if int(digest, 16) % 10 < 3 else "heldout"


# -- noise ----------------------------------------------------------------------------------------

LATIN_PARTICLES = {"el", "al", "l", "ben", "bin", "ibn", "abd", "abdel", "ait", "ould", "bou", "abou", "abu", "bel"}
ARABIC_PARTICLES = {"بن", "ابن", "عبد", "ايت", "ولد", "ابو", "ال"}
AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def swap(text: str) -> str | None:
    """Family name first: move the last word (with the particles before it) to the front."""
    words = text.split()
    if len(words) < 2:
        return None
    k = len(words) - 1
    while k > 1 and words[k - 1].casefold().rstrip("-'") in LATIN_PARTICLES | ARABIC_PARTICLES:
        k -= 1
    out = " ".join(words[k:] + words[:k])
    return out if out != text else None


def drop_article(text: str) -> str | None:
    """The article of the family name left out: the last "El"/"Al"/"L'" (apart or hyphenated) or
    the last ال of a word, not inside a compound (عبد ال..., ... الدين, ... الله)."""
    words = text.split()
    for k in range(len(words) - 1, -1, -1):
        w = words[k]
        f = w.casefold()
        prev = words[k - 1].casefold() if k else ""
        if prev in ("عبد", "abd", "abdel", "abdul"):
            continue
        if f in ("el", "al", "l'", "el-", "al-") and k + 1 < len(words):
            return " ".join(words[:k] + words[k + 1 :])
        if f.startswith(("el-", "al-", "l'")) and len(w) > 4:
            words[k] = w[3:] if f[2] == "-" else w[2:]
            return " ".join(words)
        if w.startswith("ال") and len(w) > 3 and w not in ("الدين", "الله"):
            words[k] = w[2:]
            return " ".join(words)
    return None


def typo(text: str, rng: random.Random) -> str | None:
    words = text.split()
    idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.casefold() not in LATIN_PARTICLES]
    if not idx:
        return None
    i = rng.choice(idx)
    w = words[i]
    arabic = any(c in AR_LETTERS for c in w)
    alphabet = AR_LETTERS if arabic else "abcdefghijklmnopqrstuvwxyz"
    p = rng.randrange(1, len(w))  # officers rarely get the first letter wrong
    op = rng.choice(("sub", "del", "ins", "swap"))
    if op == "sub":
        w = w[:p] + rng.choice([c for c in alphabet if c != w[p].lower()]) + w[p + 1 :]
    elif op == "del":
        w = w[:p] + w[p + 1 :]
    elif op == "ins":
        w = w[:p] + rng.choice(alphabet) + w[p:]
    elif p + 1 < len(w):
        w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
    else:
        w = w[: p - 1] + w[p] + w[p - 1]
    words[i] = w
    out = " ".join(words)
    return out if out != text else None


def ta_ya(text: str) -> str | None:
    """Hand-typed Arabic: final ه <-> ة and final ي <-> ى (the stored forms are folded)."""
    words = []
    for w in text.split():
        if w.endswith("ه"):
            w = w[:-1] + "ة"
        elif w.endswith("ة"):
            w = w[:-1] + "ه"
        elif w.endswith("ي"):
            w = w[:-1] + "ى"
        words.append(w)
    out = " ".join(words)
    return out if out != text else None


NOISES: dict[str, Callable[[str, random.Random], str | None]] = {
    "clean": lambda t, r: t,
    "swap": lambda t, r: swap(t),
    "no-El": lambda t, r: drop_article(t),
    "typo": typo,
    "ta/ya": lambda t, r: ta_ya(t) if any(c in AR_LETTERS for c in t) else None,
}


# -- systems --------------------------------------------------------------------------------------


class Amane:
    """Inverted index over index_keys, then similarity ranking of the candidates."""

    def __init__(
        self, stored: Sequence[str], spellings: AttestedSpellings | bool, shared: Amane | None = None, cap: int = 0
    ) -> None:
        self.stored = stored
        self.cap = cap
        self.spellings = spellings
        self.postings: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
        self.keys_per_name: list[int] = []
        self.build_s = 0.0
        if shared is not None:
            self.postings, self.keys_per_name = shared.postings, shared.keys_per_name
        else:
            t0 = time.perf_counter()
            for i, name in enumerate(stored):
                try:
                    keys = index_keys(name)
                except NameInputError:
                    keys = []
                self.keys_per_name.append(len(keys))
                for k in keys:
                    self.postings[k].append(i)
            self.build_s = time.perf_counter() - t0
        self.candidates: list[int] = []
        self.tier1: list[int] = []  # candidates from nf + np keys alone
        self.tier1_hits = 0
        self.last_tier1: set[int] = set()
        self.query_s: list[float] = []

    def search(self, query: str) -> list[int]:
        t0 = time.perf_counter()
        try:
            keys = query_keys(query)
        except NameInputError:
            self.candidates.append(0)
            self.query_s.append(time.perf_counter() - t0)
            return []
        hits: collections.Counter[int] = collections.Counter()
        for k in keys:
            if k[0] in ("nf", "np"):
                for i in self.postings.get(k, ()):
                    hits[i] += KIND_WEIGHT[k[0]]
        self.tier1.append(len(hits))
        self.last_tier1 = set(hits)
        for k in keys:
            if k[0] == "nd":
                for i in self.postings.get(k, ()):
                    hits[i] += KIND_WEIGHT["nd"]
        if self.cap and len(hits) > self.cap:
            # what a DB does with GROUP BY person ORDER BY SUM(weight) DESC LIMIT cap
            found = {i for i, _ in sorted(hits.items(), key=lambda h: (-h[1], h[0]))[: self.cap]}
        else:
            found = set(hits)
        if not found:
            # single-word queries, or nothing met: rare name parts only (a DB keeps key counts)
            for k in keys:
                posting = self.postings.get(k, ())
                if k[0] == "nm" and len(posting) <= NM_MAX_POSTING:
                    found.update(posting)
        self.candidates.append(len(found))
        ranked = rank(query, {i: (self.stored[i],) for i in found}, limit=TOP, spellings=self.spellings)
        self.query_s.append(time.perf_counter() - t0)
        return [i for i, _ in ranked]


def romanize_baseline(text: str) -> str:
    """Latin form for the baselines: Latin text as is, Arabic through the package's rules."""
    if any("\u0600" <= c <= "\u06ff" for c in text):
        from arabic_name_romanizer.rules import romanize

        return str(romanize(text))
    return text


class RapidfuzzBaseline:
    def __init__(self, stored: Sequence[str]) -> None:
        self.latin = [romanize_baseline(s) for s in stored]
        self.query_s: list[float] = []

    def search(self, query: str) -> list[int]:
        t0 = time.perf_counter()
        hits = process.extract(romanize_baseline(query), self.latin, scorer=fuzz.token_sort_ratio, limit=TOP)
        self.query_s.append(time.perf_counter() - t0)
        return [int(h[2]) for h in hits]


def trigrams(text: str) -> set[str]:
    """pg_trgm's show_trgm: lower case, alphanumeric words, each padded "  w "."""
    out: set[str] = set()
    word: list[str] = []
    for ch in text.lower() + " ":
        if ch.isalnum():
            word.append(ch)
        elif word:
            w = "  " + "".join(word) + " "
            out.update(w[i : i + 3] for i in range(len(w) - 2))
            word = []
    return out


class TrigramBaseline:
    def __init__(self, stored: Sequence[str]) -> None:
        self.n = len(stored)
        ids: dict[str, int] = {}
        post: dict[int, list[int]] = collections.defaultdict(list)
        sizes = []
        for i, s in enumerate(stored):
            grams = trigrams(romanize_baseline(s))
            sizes.append(len(grams))
            for g in grams:
                post[ids.setdefault(g, len(ids))].append(i)
        self.ids = ids
        self.post = {k: np.array(v, dtype=np.int32) for k, v in post.items()}
        self.sizes = np.array(sizes, dtype=np.float64)
        self.query_s: list[float] = []

    def search(self, query: str) -> list[int]:
        t0 = time.perf_counter()
        grams = trigrams(romanize_baseline(query))
        lists = [self.post[self.ids[g]] for g in grams if g in self.ids]
        if not lists:
            self.query_s.append(time.perf_counter() - t0)
            return []
        shared = np.bincount(np.concatenate(lists), minlength=self.n).astype(np.float64)
        sim = shared / np.maximum(self.sizes + len(grams) - shared, 1.0)
        top = np.argpartition(-sim, TOP)[:TOP]
        top = top[np.argsort(-sim[top], kind="stable")]
        self.query_s.append(time.perf_counter() - t0)
        return [int(i) for i in top if sim[i] > 0]


# -- evaluation -----------------------------------------------------------------------------------


@dataclass
class Score:
    n: int = 0
    r1: int = 0
    r10: int = 0
    rr: float = 0.0

    def add(self, ranked: list[int], gold: int) -> None:
        self.n += 1
        if gold in ranked[:TOP]:
            pos = ranked.index(gold)
            self.r10 += 1
            self.r1 += pos == 0
            self.rr += 1.0 / (pos + 1)

    def row(self) -> str:
        if not self.n:
            return "     -      -      -"
        return f"{self.r1 / self.n:6.3f} {self.r10 / self.n:6.3f} {self.rr / self.n:6.3f}"


DIRECTIONS = (("AR->LA", "ar", "la"), ("LA->AR", "la", "ar"), ("LA->LA", "la", "la"))


def clean_dictionary(identities: list[Identity], split: str, workdir: Path) -> AttestedSpellings:
    """arabic-name-romanizer's dictionary without any pair of the evaluated split: its shipped
    index holds every Wikidata pair, these included. Rebuilt from the remaining full-name rows."""
    left_out = {ar for g in identities if g.ma and split_of(g) == split for ar in g.ar}
    con = sqlite3.connect(f"file:{names_db()}?mode=ro", uri=True)
    rows = con.execute("SELECT arabic_key, latin, count, country FROM full_names ORDER BY rowid").fetchall()
    pairs = [(ar, la, n, c) for ar, la, n, c in rows if ar not in left_out]
    t0 = time.perf_counter()
    spellings = AttestedSpellings.build(workdir / f"names-without-{split}.sqlite3", pairs)
    print(f"dictionary without the {split} pairs: {len(pairs)} of {len(rows)} rows, {time.perf_counter() - t0:.1f} s")
    return spellings


def run_split(split: str, identities: list[Identity], max_queries: int, seed: int, misses: int, workdir: Path) -> None:
    members = [i for i, g in enumerate(identities) if g.ma and split_of(g) == split]
    print(f"\n=== {split.upper()}: {len(members)} Moroccan identities, {len(identities)} stored per direction ===")
    spellings = clean_dictionary(identities, split, workdir)
    systems_order = ("amane", "amane-nodict", f"amane-top{CAP}", "rapidfuzz", "trigram")
    table: dict[tuple[str, str, str], Score] = collections.defaultdict(Score)
    timings: dict[str, list[float]] = collections.defaultdict(list)
    amane_stats: list[Amane] = []
    shown_cell: dict[tuple[str, str], int] = collections.defaultdict(int)
    for label, q_script, s_script in DIRECTIONS:
        stored = [g.best(s_script) for g in identities]
        amane = Amane(stored, spellings)
        systems = {
            "amane": amane,
            "amane-nodict": Amane(stored, False, shared=amane),
            f"amane-top{CAP}": Amane(stored, spellings, shared=amane, cap=CAP),
            "rapidfuzz": RapidfuzzBaseline(stored),
            "trigram": TrigramBaseline(stored),
        }
        amane_stats.append(amane)
        queries: list[tuple[str, int]] = []
        for gid in members:
            g = identities[gid]
            forms = g.ar if q_script == "ar" else g.la
            for form in sorted(forms):
                if q_script == s_script and form == stored[gid]:
                    continue
                queries.append((form, gid))
        for noise, fn in NOISES.items():
            rng = random.Random(f"{seed}:{split}:{label}:{noise}")
            cell = [(out, gid) for q, gid in queries if (out := fn(q, rng)) is not None]
            if len(cell) > max_queries:
                cell = rng.sample(cell, max_queries)
            for q, gid in cell:
                for name in systems_order:
                    ranked = systems[name].search(q)
                    table[(label, noise, name)].add(ranked, gid)
                    if name == "amane":
                        amane.tier1_hits += gid in amane.last_tier1
                    if name == "amane" and gid not in ranked[:TOP] and shown_cell[label, noise] < misses:
                        shown_cell[label, noise] += 1
                        top = stored[ranked[0]] if ranked else "-"
                        print(f"  miss {label} {noise}: {q!r} -> want {stored[gid]!r}, got {top!r}")
        for name in systems_order:
            timings[name].extend(systems[name].query_s)  # type: ignore[attr-defined]

    print(f"\n{'direction':8s} {'noise':6s} {'n':>5s} | " + " | ".join(f"{s:^20s}" for s in systems_order))
    print(f"{'':8s} {'':6s} {'':5s} | " + " | ".join(f"{'R@1':>6s} {'R@10':>6s} {'MRR':>6s}" for _ in systems_order))
    totals: dict[tuple[str, str], Score] = collections.defaultdict(Score)
    for label, _, _ in DIRECTIONS:
        for noise in NOISES:
            cells = [table[(label, noise, s)] for s in systems_order]
            if not cells[0].n:
                continue
            print(f"{label:8s} {noise:6s} {cells[0].n:5d} | " + " | ".join(c.row() for c in cells))
            for s, c in zip(systems_order, cells, strict=True):
                group = "cross-script" if label != "LA->LA" else "latin-latin"
                for key in ((group, s), (group + (" clean" if noise == "clean" else " noisy"), s)):
                    t = totals[key]
                    t.n += c.n
                    t.r1 += c.r1
                    t.r10 += c.r10
                    t.rr += c.rr
    print()
    for group in ("cross-script clean", "cross-script noisy", "cross-script", "latin-latin"):
        cells = [totals[(group, s)] for s in systems_order]
        print(f"{group:22s} {cells[0].n:5d} | " + " | ".join(c.row() for c in cells))

    cands = [c for a in amane_stats for c in a.candidates]
    tier1 = [c for a in amane_stats for c in a.tier1]
    tier1_recall = sum(a.tier1_hits for a in amane_stats) / max(1, len(tier1))
    keys = [k for a in amane_stats for k in a.keys_per_name]
    names = sum(len(a.stored) for a in amane_stats)
    build = sum(a.build_s for a in amane_stats)
    print(
        f"\namane index: {names / build:,.0f} names/s for index_keys, keys per name mean {statistics.mean(keys):.1f}"
        f" max {max(keys)}; candidates per query mean {statistics.mean(cands):.1f}"
        f" p95 {sorted(cands)[int(0.95 * len(cands))]} of {len(amane_stats[0].stored)} stored"
    )
    print(
        f"  nf+np keys alone: candidates per query mean {statistics.mean(tier1):.1f}"
        f" p95 {sorted(tier1)[int(0.95 * len(tier1))]}, holding the right person for {tier1_recall:.3f} of the queries"
    )
    for name in systems_order:
        ts = sorted(timings[name])
        print(
            f"time per query {name:9s}: mean {1000 * statistics.mean(ts):6.2f} ms,"
            f" p95 {1000 * ts[int(0.95 * len(ts))]:6.2f} ms (in-process, brute force for the baselines)"
        )


def key_speed(identities: list[Identity]) -> None:
    names = [f for g in identities[:5000] for f in (g.best("ar"), g.best("la"))]
    t0 = time.perf_counter()
    for n in names:
        query_keys(n)
    dt = time.perf_counter() - t0
    print(f"query_keys: {len(names) / dt:,.0f} names/s (cold caches)")


def romanizer_speed(identities: list[Identity]) -> None:
    """How fast arabic-name-romanizer is, dictionary only and with its ONNX model."""
    import arabic_name_romanizer as anr

    sample = [g.best("ar") for g in identities[:300]]
    for label, kwargs in (("dictionary only", {"auto_load_model": False}), ("dictionary + ONNX model", {})):
        tr = anr.Transliterator(**kwargs)
        t0 = time.perf_counter()
        for s in sample:
            tr.transliterate(s, top_k=5, country="MA")
        dt = time.perf_counter() - t0
        print(f"arabic-name-romanizer {label}: {1000 * dt / len(sample):.2f} ms per full name")
    tr = anr.Transliterator()
    t0 = time.perf_counter()
    tr.transliterate("زرقطوني بوشعيبات", top_k=5, country="MA")
    print(f"  unknown name through the model: {1000 * (time.perf_counter() - t0):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("tuning", "heldout", "both"), default="both")
    ap.add_argument("--max-queries", type=int, default=800, help="queries per direction and noise (sampled)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--misses", type=int, default=0, help="amane misses to print per cell (tuning split only)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    identities = load_identities()
    print(f"{len(identities)} identities loaded in {time.perf_counter() - t0:.1f} s")
    key_speed(identities)
    romanizer_speed(identities)
    with tempfile.TemporaryDirectory() as tmp:
        for split in ("tuning", "heldout"):
            if args.split in (split, "both"):
                misses = args.misses if split == "tuning" else 0
                run_split(split, identities, args.max_queries, args.seed, misses, Path(tmp))


if __name__ == "__main__":
    main()
