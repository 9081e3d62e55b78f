"""The Fellegi-Sunter model: comparisons (SQL over the precomputed columns of ``features``),
shipped m/u priors, and the blocking keys.

Each comparison is a list of levels, most specific first; Splink evaluates the SQL conditions in
order and the first that holds gives the level. m = P(level | same person), u = P(level |
different persons); the level's match weight is log2(m/u). The priors below are the parameters
used when the input is too small to estimate u from (and the m values always; see
``docs/resolve.md``). They were set by hand from the error rates of hand-typed police records
(m) and from name and date frequencies in a population (u), never from evaluation labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_LR_RE = re.compile(r"\b([lr])\.(\w+)")


def splink_sql(condition: str) -> str:
    """Splink 5 names the two sides' columns with suffixes: l.g_sk -> g_sk_l."""
    return _LR_RE.sub(lambda m: f"{m.group(2)}_{m.group(1)}", condition)

# label, SQL condition, m prior, u prior ("NULL" levels have no m/u)
Level = tuple[str, str, float | None, float | None]


def _name_levels(p: str, *, swap: bool) -> list[Level]:
    """Levels of a name role: g (given), f (family), fa (father), mo (mother)."""
    # one typo in the skeletons (not in the first letter: officers rarely get it wrong; the cheap
    # tests first, DuckDB evaluates the rest of an AND only where they hold)
    typo = (
        f"left(l.{p}_sk, 1) = left(r.{p}_sk, 1) AND abs(length(l.{p}_sk) - length(r.{p}_sk)) <= 1"
        f" AND ((damerau_levenshtein(l.{p}_sk, r.{p}_sk) <= 1 AND length(l.{p}_sk) >= 3 AND length(r.{p}_sk) >= 3)"
        f" OR jaro_winkler_similarity(l.{p}_sk, r.{p}_sk) >= 0.9)"
    )
    # no script in common: Latin on one side, Arabic on the other (vowels cannot be compared)
    cross = f"((l.{p}_la IS NULL OR r.{p}_la IS NULL) AND (l.{p}_ar IS NULL OR r.{p}_ar IS NULL))"
    m = _M[p]
    u = _U[p]
    levels: list[Level] = [
        ("missing", f"l.{p}_sk IS NULL OR r.{p}_sk IS NULL", None, None),
        ("exact", f"l.{p}_la = r.{p}_la OR l.{p}_ar = r.{p}_ar", m[0], u[0]),
        (
            "same name",
            f"list_has_any(l.{p}_sks, r.{p}_sks) AND ({cross} OR l.{p}_fla = r.{p}_fla OR l.{p}_far = r.{p}_far)",
            m[1],
            u[1],
        ),
        ("same consonants, other vowels", f"list_has_any(l.{p}_sks, r.{p}_sks)", m[2], u[2]),
        ("same name, other reading or part", f"list_has_any(l.{p}_vs, r.{p}_vs)", m[3], u[3]),
        ("one typo", typo, m[4], u[4]),
    ]
    if swap:
        both = "list_has_any(l.g_all, r.f_all) AND list_has_any(r.g_all, l.f_all)"
        either = "list_has_any(l.g_all, r.f_all) OR list_has_any(r.g_all, l.f_all)"
        if p == "g":
            levels.append(("given and family names swapped", both, m[5], u[5]))
            levels.append(("found in the family name field", either, m[6], u[6]))
        else:
            # the same event as the given name's levels: weighed there once, neutral here
            levels.append((NEUTRAL_SWAP, either, 0.001, 0.001))
    levels.append(("different", "ELSE", m[-1], u[-1]))
    return levels


NEUTRAL_SWAP = "in the given name field (weighed there)"
"""Levels whose m and u stay equal (weight 0) whatever the training."""

# m/u priors per name role, in the order of _name_levels
# (exact, same, same consonants, reading, typo, [swapped, partly swapped,] different)
_M: dict[str, tuple[float, ...]] = {
    "g": (0.55, 0.30, 0.02, 0.04, 0.04, 0.03, 0.01, 0.03),
    "f": (0.55, 0.30, 0.02, 0.04, 0.04, 0.03),
    "fa": (0.50, 0.30, 0.02, 0.05, 0.04, 0.09),
    "mo": (0.50, 0.30, 0.02, 0.05, 0.04, 0.09),
}
_U: dict[str, tuple[float, ...]] = {
    "g": (0.02, 0.01, 0.01, 0.01, 0.02, 0.00005, 0.005, 0.925),
    "f": (0.003, 0.002, 0.002, 0.003, 0.006, 0.984),
    "fa": (0.02, 0.01, 0.01, 0.01, 0.02, 0.93),
    "mo": (0.02, 0.01, 0.01, 0.01, 0.02, 0.93),
}

_DATE_FULL = "l.b_m IS NOT NULL AND r.b_m IS NOT NULL AND l.b_d IS NOT NULL AND r.b_d IS NOT NULL"
DATE_LEVELS: list[Level] = [
    ("missing", "l.b_y IS NULL OR r.b_y IS NULL", None, None),
    ("exact", "l.bdate = r.bdate", 0.85, 0.00005),
    ("day/month swapped", "l.b_y = r.b_y AND l.b_m = r.b_d AND l.b_d = r.b_m", 0.03, 0.0001),
    (
        "one component off",
        f"(l.b_y = r.b_y AND {_DATE_FULL} AND (l.b_m = r.b_m OR l.b_d = r.b_d))"
        " OR (l.b_m = r.b_m AND l.b_d = r.b_d AND (abs(l.b_y - r.b_y) <= 1"
        " OR damerau_levenshtein(CAST(l.b_y AS VARCHAR), CAST(r.b_y AS VARCHAR)) <= 1))",
        0.06,
        0.0015,
    ),
    ("same year, date incomplete", f"l.b_y = r.b_y AND NOT ({_DATE_FULL})", 0.02, 0.0004),
    ("same year, month and day differ", "l.b_y = r.b_y", 0.005, 0.016),
    ("different", "ELSE", 0.01, 0.982),
]
PLACE_LEVELS: list[Level] = [
    ("missing", "l.pl IS NULL OR r.pl IS NULL", None, None),
    ("exact", "l.pl = r.pl", 0.80, 0.03),
    ("similar", "l.pl_sk = r.pl_sk OR jaro_winkler_similarity(l.pl, r.pl) >= 0.92", 0.05, 0.01),
    ("different", "ELSE", 0.15, 0.96),
]
_AD_SHARED = "len(list_intersect(l.ad_w, r.ad_w))"
_AD_STREET = (
    f"(({_AD_SHARED} >= 1 AND {_AD_SHARED} * 2 >= greatest(len(l.ad_w), len(r.ad_w)))"
    " OR jaro_winkler_similarity(l.ad_st, r.ad_st) >= 0.92)"
)
# An address is where the person lived when the record was written: people move, so a different
# address is weak evidence against (m of "different" is high); the same street and number is strong.
ADDRESS_LEVELS: list[Level] = [
    ("missing", "l.ad IS NULL OR r.ad IS NULL", None, None),
    ("exact", "l.ad = r.ad", 0.45, 0.0002),
    ("same number and street", f"l.ad_no = r.ad_no AND {_AD_STREET}", 0.20, 0.0005),
    ("same street, other number", _AD_STREET, 0.10, 0.01),
    ("words in common", "list_has_any(l.ad_w, r.ad_w)", 0.10, 0.15),
    ("different", "ELSE", 0.15, 0.8393),
]
SEX_LEVELS: list[Level] = [
    ("missing", "l.sx IS NULL OR r.sx IS NULL", None, None),
    ("exact", "l.sx = r.sx", 0.98, 0.5),
    ("different", "ELSE", 0.02, 0.5),
]
ID_LEVELS: list[Level] = [
    ("missing", "l.nid IS NULL OR r.nid IS NULL", None, None),
    ("exact", "l.nid = r.nid", 0.95, 0.000001),
    ("one character off", "damerau_levenshtein(l.nid, r.nid) <= 1", 0.03, 0.00001),
    ("different", "ELSE", 0.02, 0.99999),
]
PHONE_LEVELS: list[Level] = [
    ("missing", "l.ph IS NULL OR r.ph IS NULL", None, None),
    ("exact", "l.ph = r.ph", 0.80, 0.00001),
    ("different", "ELSE", 0.20, 0.99999),
]


@dataclass(frozen=True)
class ComparisonSpec:
    name: str  # output column name, also the key of Pair.fields
    levels: list[Level]
    tf_column: str | None = None  # term-frequency adjusted levels use this column
    tf_levels: tuple[str, ...] = ()


COMPARISONS: list[ComparisonSpec] = [
    ComparisonSpec("given_name", _name_levels("g", swap=True), "g_sk", ("exact", "same name")),
    ComparisonSpec("family_name", _name_levels("f", swap=True), "f_sk", ("exact", "same name")),
    ComparisonSpec("father_name", _name_levels("fa", swap=False), "fa_sk", ("exact", "same name")),
    ComparisonSpec("mother_name", _name_levels("mo", swap=False)),
    ComparisonSpec("birth_date", DATE_LEVELS),
    ComparisonSpec("birth_place", PLACE_LEVELS),
    ComparisonSpec("address", ADDRESS_LEVELS),
    ComparisonSpec("sex", SEX_LEVELS),
    ComparisonSpec("national_id", ID_LEVELS),
    ComparisonSpec("phone", PHONE_LEVELS),
]

TF_MINIMUM_U = 0.00005
"""Floor of a term frequency: a name this rare or rarer weighs as if this frequent."""


Params = dict[str, dict[str, tuple[float, float]]]
"""comparison -> level label -> (m, u)"""


def comparison_dicts(*, tf: bool, params: Params | None = None) -> list[dict[str, Any]]:
    """Splink comparison dicts. ``params`` overrides the priors: comparison -> label -> (m, u)."""
    out = []
    for spec in COMPARISONS:
        levels: list[dict[str, Any]] = []
        for label, sql, m, u in spec.levels:
            sql = splink_sql(sql)
            if m is None:
                levels.append({"sql_condition": sql, "label_for_charts": label, "is_null_level": True})
                continue
            if params is not None and label in params.get(spec.name, {}):
                m, u = params[spec.name][label]
            level: dict[str, Any] = {
                "sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u
            }
            if tf and spec.tf_column and label in spec.tf_levels:
                level["tf_adjustment_column"] = spec.tf_column
                level["tf_adjustment_weight"] = 1.0
                level["tf_minimum_u_value"] = TF_MINIMUM_U
                level["disable_tf_exact_match_detection"] = True
            levels.append(level)
        out.append({"output_column_name": spec.name, "comparison_levels": levels})
    return out


def priors() -> Params:
    return {
        spec.name: {label: (m, u) for label, _sql, m, u in spec.levels if m is not None and u is not None}
        for spec in COMPARISONS
    }


# -- blocking ---------------------------------------------------------------------------------------

BLOCK_CAP = 100
"""A blocking key shared by more records than this is not used (at most CAP*(CAP-1)/2 pairs per
key, n*CAP/2 per rule whatever the data): "Mohamed Alaoui" alone is too common at 1,000,000
persons, "Mohamed Alaoui born 1985" is not."""
LOOSE_CAP = 25
"""The same for the looser keys (one name and one other field), which find duplicates with two
errors: their common values make most of the pairs and few of the finds."""

# name -> (the feature columns joined into the key (all must be present), cap). Names by loose
# key (features.loose_key), so that cross-script spellings meet.
BLOCKING_KEYS: dict[str, tuple[tuple[str, ...], int]] = {
    "names+year": (("g_lk", "f_lk", "b_y"), BLOCK_CAP),
    "names+day+month": (("g_lk", "f_lk", "b_m", "b_d"), BLOCK_CAP),
    "names+father": (("g_lk", "f_lk", "fa_lk"), BLOCK_CAP),
    "family+date": (("f_lk", "bdate"), BLOCK_CAP),
    "given+date": (("g_lk", "bdate"), BLOCK_CAP),
    "date+place": (("bdate", "pl"), BLOCK_CAP),
    "national id": (("nid",), BLOCK_CAP),
    "phone": (("ph",), BLOCK_CAP),
    "names": (("g_lk", "f_lk"), LOOSE_CAP),
    "family+year": (("f_lk", "b_y"), LOOSE_CAP),
    "family+day+month": (("f_lk", "b_m", "b_d"), LOOSE_CAP),
    "family+place": (("f_lk", "pl"), LOOSE_CAP),
    "given+place": (("g_lk", "pl"), LOOSE_CAP),
    "family+father": (("f_lk", "fa_lk"), LOOSE_CAP),
    "given+father": (("g_lk", "fa_lk"), LOOSE_CAP),
}
SWAP_KEY = "names swapped"
"""Given and family names written in each other's field: l.(g,f) = r.(f,g) (SQL on two columns)."""
