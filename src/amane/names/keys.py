"""Comparison keys for a database key index (stored names) and for look-ups (queries).

Kinds, from the most to the least selective (look them up in this order and stop when enough
candidates are found):

``nf``  all name parts' skeletons, sorted (names of three parts or more): "BNHMD L MHMD"
``np``  two name parts' skeletons, sorted: "L MHMD" (order-free: family name first or last)
``nd``  like ``np`` with one consonant deleted from one side (symmetric-deletion typo tolerance:
        the index stores the deletions of its core pair; the query looks up its own pairs and
        its deletions as ``nd``, and its deletions as ``np`` too)
``nm``  one name part's skeleton: "MHMD" (single-word queries; weak on its own)

Stored names get canonical skeletons only; queries add the readings that one script cannot
decide (article or not, rh = غ or ر+ح...) and the letter-typo readings that the deletions miss
(``analysis.edit_readings``: "Azxani" read without its x). Both lists are bounded whatever the
input.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from .analysis import EMPTY_SKELETON, NameAnalysis, NameToken, analyse, edit_readings, require_tokens
from .skeleton import deletions

KEYS_VERSION = 1
"""Bumped whenever a change to normalisation, skeletons or keys changes index_keys() output: stored
keys of another version must be recomputed: the database records the version its index was built
with (``store_meta``) and ``amane db upgrade`` says when to run ``amane db rekey``."""

KEY_TOKENS = 4
"""Name parts used for keys (non-filiation parts first, in written order)."""
MAX_INDEX_KEYS = 16
MAX_QUERY_KEYS = 60
MIN_DELETION_SKELETON = 2
"""Typo keys only for parts of 2 consonants or more: a deletion from a 1-consonant part would
leave nothing to pair."""

TYPO_READINGS = 3
"""Readings of the other part combined with each typo key."""

KINDS = ("nf", "np", "nd", "nm")


def _key_tokens(analysis: NameAnalysis) -> list[NameToken]:
    names = [t for t in analysis.tokens if t.kind != "filiation"]
    filiation = [t for t in analysis.tokens if t.kind == "filiation"]
    return (names + filiation)[:KEY_TOKENS]


def _core_pair(tokens: list[NameToken]) -> tuple[NameToken, NameToken] | None:
    """The pair most queries contain: the first given name that is not an optional Mohamed, and
    the last non-filiation part (family name last or first, both work: keys are order-free)."""
    names = [t for t in tokens if t.kind != "filiation"]
    if len(names) < 2:
        names = list(tokens)
    if len(names) < 2:
        return None
    head = next((t for t in names[:-1] if not t.optional), names[0])
    return head, names[-1]


def _pair(a: str, b: str) -> str:
    return " ".join(sorted((a, b)))


def _add(out: dict[tuple[str, str], None], kind: str, key: str, limit: int) -> None:
    if len(out) < limit:
        out.setdefault((kind, key), None)


def keys_for_analysis(analysis: NameAnalysis) -> list[tuple[str, str]]:
    # The keys depend on each part's skeleton, on whether it is a filiation and on whether it is
    # optional, nothing else: computed once per such signature (the same name in another
    # spelling or script has the same signature).
    return list(_keys_of_signature(tuple((t.skeleton, t.kind == "filiation", t.optional) for t in analysis.tokens)))


_Signature = tuple[tuple[str, bool, bool], ...]


@lru_cache(maxsize=65536)
def _keys_of_signature(parts: _Signature) -> tuple[tuple[str, str], ...]:
    """``keys_for_analysis`` on (skeleton, filiation, optional) per name part (the same steps as
    ``_key_tokens``, ``_core_pair`` and the key kinds above)."""
    tokens = ([p for p in parts if not p[1]] + [p for p in parts if p[1]])[:KEY_TOKENS]
    out: dict[tuple[str, str], None] = {}
    if not tokens:
        return ()
    skels = [t[0] for t in tokens]
    if len(tokens) >= 3:
        _add(out, "nf", " ".join(sorted(skels)), MAX_INDEX_KEYS)
    core: tuple[str, str] | None = None
    names = [t for t in tokens if not t[1]]
    if len(names) < 2:
        names = list(tokens)
    if len(names) >= 2:
        head = next((t for t in names[:-1] if not t[2]), names[0])
        core = head[0], names[-1][0]
    if core is not None:
        _add(out, "np", _pair(core[0], core[1]), MAX_INDEX_KEYS)
    for a, b in itertools.combinations(skels, 2):
        _add(out, "np", _pair(a, b), MAX_INDEX_KEYS)
    for sk in skels:
        _add(out, "nm", sk, MAX_INDEX_KEYS)
    if core is not None:
        a, b = core
        for x, y in ((a, b), (b, a)):
            if len(x) >= MIN_DELETION_SKELETON and x != EMPTY_SKELETON:
                for d in deletions(x):
                    _add(out, "nd", _pair(d, y), MAX_INDEX_KEYS)
    return tuple(out)


def index_keys(text: str) -> list[tuple[str, str]]:
    """Keys to store for one name (at most MAX_INDEX_KEYS). A name with nothing but particles or
    initials has no keys ([]); empty, over-long or unreadable text raises a NameInputError."""
    return keys_for_analysis(analyse(text))


def query_keys_for_analysis(analysis: NameAnalysis) -> list[tuple[str, str]]:
    tokens = _key_tokens(require_tokens(analysis))
    out: dict[tuple[str, str], None] = {}
    limit = MAX_QUERY_KEYS
    if len(tokens) >= 3:
        _add(out, "nf", " ".join(sorted(t.skeleton for t in tokens)), limit)
    pairs = list(itertools.combinations(tokens, 2))
    # the pairs of the two longest parts first: they carry the most information
    pairs.sort(key=lambda p: -(len(p[0].skeleton) + len(p[1].skeleton)))
    for a, b in pairs:
        _add(out, "np", _pair(a.skeleton, b.skeleton), limit)
    for a, b in pairs:
        for va in a.variants[1:]:
            _add(out, "np", _pair(va, b.skeleton), limit)
        for vb in b.variants[1:]:
            _add(out, "np", _pair(a.skeleton, vb), limit)
    # Typo keys (symmetric deletion). The query's own pairs meet the index's deletions (a letter
    # missing from the query); the query's deletions meet the index's pairs (a letter too many)
    # and the index's deletions (a letter changed or two swapped).
    # The other part of a pair is taken with its first readings too (a typo in "Ghazi" next to
    # "Hayat" read as حياة).
    typo_limit = limit - len(tokens)
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            for yv in y.variants[:TYPO_READINGS]:
                _add(out, "nd", _pair(x.skeleton, yv), typo_limit)
    # Letter typos that move a skeleton by two consonants or more (a Latin x, a broken digraph or
    # article): the part read without the typo, as itself and one consonant short of the truth.
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            for r in edit_readings(x.segments):
                _add(out, "np", _pair(r, y.skeleton), typo_limit)
                _add(out, "nd", _pair(r, y.skeleton), typo_limit)
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            if len(x.skeleton) >= MIN_DELETION_SKELETON and x.skeleton != EMPTY_SKELETON:
                for d in deletions(x.skeleton):
                    for yv in y.variants[:TYPO_READINGS]:
                        _add(out, "np", _pair(d, yv), typo_limit)
                        _add(out, "nd", _pair(d, yv), typo_limit)
    for t in tokens:
        _add(out, "nm", t.skeleton, limit)
    for t in tokens:
        for v in t.variants[1:]:
            _add(out, "nm", v, limit)
    for a, b in pairs:
        for va in a.variants[1:]:
            for vb in b.variants[1:]:
                _add(out, "np", _pair(va, vb), limit)
    return list(out)


def query_keys(text: str) -> list[tuple[str, str]]:
    """Keys to look up for a query (at most MAX_QUERY_KEYS), most selective kinds first.

    Raises a NameInputError subclass for empty, over-long or unreadable text and for a query
    that has only particles ("El Ben") or initials."""
    return query_keys_for_analysis(analyse(text))
