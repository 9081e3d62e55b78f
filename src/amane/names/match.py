"""Scoring a query against a person's names, with a short explanation per name part."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from rapidfuzz.distance import OSA, LCSseq, Levenshtein
from rapidfuzz.fuzz import ratio

from .analysis import EMPTY_SKELETON, NameAnalysis, NameToken, analyse, edit_readings, require_tokens
from .errors import NameInputError
from .spellings import AttestedSpellings, default_spellings

ROLE_LABELS = {"given": "given name", "family": "family name", "father": "father's name", "mother": "mother's name"}

# Scores of one name part against another (tuned on the TUNING split of bench/names_quality.py).
EXACT = 1.0  # same script, same spelling
ATTESTED = 0.96  # a known spelling of the Arabic word whose skeleton differs (Bouakhaden = بوغضن)
SAME_SKELETON = 0.92  # same canonical skeleton: a spelling variant or the other script
SAME_READING = 0.88  # skeletons meet through a query reading (article, rh, ة read as t...)
PART_OF_COMPOUND = 0.78  # "Zahra" against "Fatima Zahra", "Aziz" against "Abdelaziz"
TYPO_1 = 0.76  # skeletons one edit apart
TYPO_2 = 0.5  # two edits apart, 4 consonants or more
ORDER_PENALTY = 0.01  # parts matched in another order (family name first): breaks ties only
FOLD_WEIGHT = 0.08  # how much the vowel-aware form moves a score within its band
EXTRA_PART_PENALTY = 0.04  # per name part of the candidate that the query does not mention
OPTIONAL_WEIGHT = 0.3  # weight of an optional part (Mohamed in "Mohamed Amine") left unmatched
FILIATION_WEIGHT = 0.25  # weight of an unmatched "ben Ahmed" in the query: the record may lack it


@dataclass(frozen=True, slots=True)
class NameParts:
    """A name with its parts labelled, as stored records have them (any field may be empty)."""

    given: str = ""
    family: str = ""
    father: str = ""
    mother: str = ""

    def __str__(self) -> str:
        return " ".join(p for p in (self.given, self.family) if p) or self.father or self.mother


@dataclass(frozen=True, slots=True)
class TokenMatch:
    query: str  # the query's name part, as written
    candidate: str  # the best candidate part, as written ("" when none matched)
    mark: str  # "=" same spelling or an attested one, "≈" same name (skeleton), "~" typo, "" none
    score: float
    role: str = ""  # "given", "family"... of the candidate part, when known

    def __str__(self) -> str:
        label = ROLE_LABELS.get(self.role, "")
        body = f"{self.query} {self.mark} {self.candidate}" if self.mark else f"{self.query}: no match"
        return f"{label}: {body}" if label else body


@dataclass(frozen=True, slots=True)
class Match:
    score: float  # 0..1
    name: str  # the candidate name that matched best
    tokens: tuple[TokenMatch, ...] = ()

    @property
    def why(self) -> str:
        """One line, e.g. "family name: العلوي ≈ Alaoui; given name: Mohamed ≈ محمد"."""
        return "; ".join(str(t) for t in self.tokens)


NO_MATCH = Match(0.0, "", ())


@lru_cache(maxsize=50_000)  # candidate names analysed once per process (about 1 KB each)
def _analysis(text: str) -> NameAnalysis | None:
    try:
        return analyse(text)
    except NameInputError:
        return None


def _candidate_tokens(name: str | NameParts) -> list[NameToken] | None:
    if isinstance(name, NameParts):
        out: list[NameToken] = []
        for role in ("given", "family", "father", "mother"):
            value = getattr(name, role)
            if value:
                a = _analysis(value)
                if a is not None:
                    out.extend(_with_role(t, role) for t in a.tokens)
        return out or None
    a = _analysis(name)
    return list(a.tokens) if a is not None and a.tokens else None


@lru_cache(maxsize=20_000)
def _with_role(token: NameToken, role: str) -> NameToken:
    from dataclasses import replace

    return replace(token, role=role)


def _fold_sim(q: NameToken, c: NameToken) -> float:
    """Agreement of the vowel-aware forms. Across scripts, mostly the share of the Arabic form
    (consonants and long vowels) found in order in the Latin form, partly the share of the Latin
    form found in the Arabic; within one script, normalised edit similarity."""
    if q.script == c.script:
        return Levenshtein.normalized_similarity(q.fold, c.fold)
    ar, la = (q.fold, c.fold) if q.script == "ar" else (c.fold, q.fold)
    if not ar or not la:
        return 0.0
    common = LCSseq.similarity(ar, la)
    recall = common / len(ar)  # what Arabic writes should all be in the Latin
    precision = common / len(la)  # the Latin also writes short vowels: a milder weight
    return (2.0 * recall + precision) / 3.0


def _same_base(skeleton: str) -> float:
    """Score floor for parts with the same skeleton: lower for short skeletons, which many names
    share (Ali, Alaoui, Allal... are all "L"), so that the vowel-aware form decides."""
    if skeleton == EMPTY_SKELETON:
        return SAME_READING - 0.2
    return min(SAME_SKELETON, 0.72 + 0.06 * len(skeleton))


def token_similarity(q: NameToken, c: NameToken, spellings: AttestedSpellings | None = None) -> tuple[float, str]:
    """(score, mark) of one query part against one candidate part."""
    if q.script == c.script and q.key == c.key:
        return EXACT, "="
    if spellings is not None and q.script != c.script:
        ar, la = (q, c) if q.script == "ar" else (c, q)
        if spellings.attests(ar.display, la.text):
            meets = q.skeleton == c.skeleton or bool(set(q.variants) & set(c.variants))
            return (EXACT if meets else ATTESTED), "="
    fold = _fold_sim(q, c)
    if q.skeleton == c.skeleton:
        base = _same_base(q.skeleton)
        return base + (1.0 - base) * fold, "≈"
    cv = set(c.variants)
    if any(v in cv for v in q.variants):
        base = min(SAME_READING, _same_base(q.skeleton) - 0.04)
        return base + (1.0 - base) * fold * 0.9, "≈"
    if _part_of(q, c) or _part_of(c, q):
        return PART_OF_COMPOUND + FOLD_WEIGHT * fold * 0.5, "≈"
    if q.skeleton == EMPTY_SKELETON or c.skeleton == EMPTY_SKELETON:
        return 0.0, ""
    best = 9
    for qv in q.variants[:3]:
        for cv_ in c.variants[:3]:
            d = OSA.distance(qv, cv_, score_cutoff=2)  # a swap of two letters is one typo
            if d < best:
                best = d
    if best > 1 and any(OSA.distance(r, c.skeleton, score_cutoff=1) <= 1 for r in edit_readings(q.segments)):
        # a letter typo of the query that moves its skeleton by two consonants (Latin x = KS, a
        # broken digraph or article: "Azxani" for عزماني, "Cahfik" for شفيق): one typo all the same
        best = 1
    score = 0.0
    # One typo scores the same wherever it is and however short the name: on the TUNING split,
    # lowering typos in short skeletons or early in the name (Jaro-Winkler) lost more than it won.
    if best == 1:
        score = TYPO_1 + FOLD_WEIGHT * fold
    elif best == 2 and min(len(q.skeleton), len(c.skeleton)) >= 4:
        score = TYPO_2 + FOLD_WEIGHT * fold
    if q.script == c.script == "la":
        r = ratio(q.key, c.key) / 100.0
        if r >= 0.8:
            score = max(score, TYPO_2 + (TYPO_1 - TYPO_2) * (r - 0.8) / 0.2 + FOLD_WEIGHT * fold)
    if score > 0:
        return min(score, SAME_READING - 0.02), "~"
    return 0.0, ""


def _part_of(whole: NameToken, part: NameToken) -> bool:
    if whole.parts and part.skeleton in whole.parts[1:]:
        return True
    segs = whole.segments
    return (
        len(segs) == 2 and segs[0].kind == "abd" and whole.skeleton == "BD" + part.skeleton and len(part.skeleton) >= 2
    )


def _query_weight(t: NameToken) -> float:
    """Weight of a query part left unmatched (a matched part always weighs 1)."""
    if t.optional:
        return OPTIONAL_WEIGHT
    if t.kind == "filiation":
        return FILIATION_WEIGHT
    return 1.0


_PairMemo = dict[tuple[int, int], tuple[NameToken, float, str]]


def score_tokens(
    query: Sequence[NameToken], candidate: Sequence[NameToken], spellings: AttestedSpellings | None = None,
    *, memo: _PairMemo | None = None,
) -> tuple[float, list[TokenMatch]]:
    """Best one-to-one assignment of query parts to candidate parts (greedy on the score), the
    weighted mean of the part scores, less a small penalty per candidate part left over.

    ``memo``: part scores already computed for this same query and dictionary (by query part and
    candidate part; a candidate part is one object for every name it occurs in)."""
    pairs: list[tuple[float, int, int, str]] = []  # (-score, query part, candidate part, mark)
    for i, q in enumerate(query):
        for j, c in enumerate(candidate):
            if memo is None:
                s, mark = token_similarity(q, c, spellings)
            else:
                known = memo.get((i, id(c)))
                if known is None or known[0] is not c:
                    # the memo holds the part itself, so its id stays its own while the memo lives
                    known = memo[(i, id(c))] = (c, *token_similarity(q, c, spellings))
                s, mark = known[1], known[2]
            if s > 0:
                pairs.append((-s, i, j, mark))
    pairs.sort()  # best score first, then query part, then candidate part (each pair once)
    used_q: dict[int, tuple[float, int, str]] = {}
    used_c: set[int] = set()
    for neg, i, j, mark in pairs:
        if i in used_q or j in used_c:
            continue
        used_q[i] = (-neg, j, mark)
        used_c.add(j)
    total = 0.0
    weight = 0.0
    matches: list[TokenMatch] = []
    for i, q in enumerate(query):
        w = _query_weight(q)
        hit = used_q.get(i)
        if hit is None:
            weight += w
            matches.append(TokenMatch(q.display, "", "", 0.0))
            continue
        s, j, mark = hit
        total += s
        weight += 1.0
        c = candidate[j]
        matches.append(TokenMatch(q.display, c.display, mark, round(s, 3), c.role))
    if weight == 0:
        return 0.0, matches
    score = total / weight
    order = [used_q[i][1] for i in range(len(query)) if i in used_q]
    if any(a > b for a, b in zip(order, order[1:], strict=False)):
        score -= ORDER_PENALTY  # parts matched out of order: a tie-breaker only
    extra = sum(
        EXTRA_PART_PENALTY / 2 if c.kind == "filiation" or c.optional else EXTRA_PART_PENALTY
        for j, c in enumerate(candidate)
        if j not in used_c
    )
    score *= max(0.0, 1.0 - extra)
    return score, matches


def _spellings(spellings: AttestedSpellings | bool) -> AttestedSpellings | None:
    if spellings is True:
        return default_spellings()
    if spellings is False:
        return None
    return spellings


def similarity(
    query: str, candidate_names: Sequence[str | NameParts], *, spellings: AttestedSpellings | bool = True
) -> Match:
    """Score (0..1) of a query against all the names of one person, and why.

    The best of the candidate's names counts. ``spellings``: the attested-spelling dictionary
    (True: the one shipped with arabic-name-romanizer, when installed; False: none). Raises a
    NameInputError subclass for a query that is no name; candidate names that are no name are
    skipped."""
    q = require_tokens(analyse(query))
    return _best(q.tokens, candidate_names, _spellings(spellings))


class _Memo:
    """Scores computed for one query against many candidates (``rank``): per name (namesakes,
    shared aliases) and per pair of name parts (every Mohamed against the query's parts)."""

    def __init__(self) -> None:
        self.names: dict[str | NameParts, tuple[float, list[TokenMatch]] | None] = {}
        self.pairs: _PairMemo = {}


def _best(
    query: Sequence[NameToken], candidate_names: Iterable[str | NameParts], spellings: AttestedSpellings | None,
    memo: _Memo | None = None,
) -> Match:
    best = NO_MATCH
    for name in candidate_names:
        if memo is not None and isinstance(name, (str, NameParts)):
            if name in memo.names:
                scored = memo.names[name]
            else:
                tokens = _candidate_tokens(name)
                scored = memo.names[name] = score_tokens(query, tokens, spellings, memo=memo.pairs) if tokens else None
            if scored is None:
                continue
            score, matches = scored
        else:
            tokens = _candidate_tokens(name)
            if not tokens:
                continue
            score, matches = score_tokens(query, tokens, spellings)
        if score > best.score:
            best = Match(round(score, 4), str(name), tuple(matches))
    return best


K = TypeVar("K")


def rank(
    query: str,
    candidates: Mapping[K, Sequence[str | NameParts]],
    *,
    limit: int = 10,
    min_score: float = 0.0,
    spellings: AttestedSpellings | bool = True,
    key: Callable[[Match], float] | None = None,
) -> list[tuple[K, Match]]:
    """Score every candidate person (id -> names) and return the best ``limit``, best first."""
    q = require_tokens(analyse(query))
    source = _spellings(spellings)
    memo = _Memo()
    scored = [(cid, _best(q.tokens, names, source, memo)) for cid, names in candidates.items()]
    sort_key = key or (lambda m: m.score)
    scored = [(cid, m) for cid, m in scored if m.score > min_score]
    scored.sort(key=lambda item: -sort_key(item[1]))
    return scored[:limit]
