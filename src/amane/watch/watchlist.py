"""Watchlist terms, written once and matched across scripts and spellings.

Kinds:

- ``keyword`` / ``phrase``: one word / words in sequence, compared on folded forms (``text.fold_word``:
  the project's name folding from ``amane.names.normalize``, Arabizi digits read as letters), with
  Arabic clitics peeled off the text's words (و ب ل ف ك and the article: "والحشيش" is "حشيش"; in
  Latin letters the glued Darija article: "lhrig" is "hrig"), and
  across scripts by consonant skeleton (``amane.names.skeleton``: "حشيش" = "hachich" = "7achich" =
  "hashish") when a word's skeleton has at least ``MIN_SKELETON`` consonants (shorter skeletons
  meet too many unrelated words).
- ``name``: a personal name of two parts or more, matched with the name engine (``amane.names``):
  windows of the text whose words carry every part's skeleton are scored with
  ``amane.names.similarity``; "محمد العلوي" finds "Mohamed Alaoui" and "Mohammed El Alaoui".
- ``regex``: a regular expression (``regex`` package, case-insensitive) run with a timeout per
  document; when Hyperscan is installed one Hyperscan pass (prefilter mode) tells which regex
  terms can match at all, so a document that matches none costs one scan for all of them.

Keyword, phrase and name terms are matched in one pass over the text's words through dictionaries
keyed by folded form and by skeleton: the cost grows with the text, not with the number of terms.
Offsets in ``Hit`` are in the original text. The word index and the clitic rule are written here:
no library folds Moroccan Arabic, French and Arabizi together.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from .text import fold_word, words

log = logging.getLogger(__name__)

TERM_KINDS = ("keyword", "phrase", "regex", "name")
MAX_PATTERN_CHARS = 300
MAX_PHRASE_WORDS = 12
MIN_SKELETON = 3
"""Fewest consonants in a word's skeleton for a cross-script (skeleton) match."""
NAME_THRESHOLD = 0.85
"""Lowest ``amane.names.similarity`` score for a name hit."""
NAME_PART_MIN = 0.97
"""Lowest score of every name part in a hit. The name engine is lenient on purpose for record
search (a human reads the ranked list); in free text each part must be the same name: "Alaoui",
"Aloui", "Allaoui" are العلوي (0.985-1.0), "Ali" (علي, 0.963) and "Bennouna" for بناني (0.957)
are not."""
REGEX_TIMEOUT = 0.05
"""Seconds one regex term may run on one document; past that the term is dropped for it."""

_AR_CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف", "ك")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN_CONSONANTS = frozenset("bcdfghjkmnpqrstvwxz")
# A quantified group that itself holds a quantifier, e.g. (a+)+, (\w*)*, (a|aa)+ with a
# quantifier inside: the shape of exponential backtracking.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,\d*\})")
_OVERLAP_ALTERNATION = re.compile(r"\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)[+*]")


@dataclass(frozen=True)
class Term:
    id: str
    kind: str
    pattern: str
    category: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Hit:
    term_id: str
    start: int
    end: int
    matched: str


def validate_term(kind: str, pattern: str) -> None:
    """Raise ``ValueError("<field>: <rule>: message")`` for a term that cannot be matched well."""
    if kind not in TERM_KINDS:
        raise ValueError(f"kind: one_of: must be one of {', '.join(TERM_KINDS)}: got {kind!r}")
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError("pattern: required: the term is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"pattern: max_length: at most {MAX_PATTERN_CHARS} characters: got {len(pattern)}")
    if kind == "regex":
        try:
            compiled = regex.compile(pattern, regex.IGNORECASE | regex.V0)
        except regex.error as exc:
            raise ValueError(f"pattern: regex: not a valid regular expression: {exc}") from exc
        if _NESTED_QUANTIFIER.search(pattern) or _OVERLAP_ALTERNATION.search(pattern):
            raise ValueError(
                "pattern: regex_backtracking: a repeated group that itself repeats can take exponential time; "
                "rewrite it without the nested quantifier"
            )
        if compiled.search("") is not None:
            raise ValueError("pattern: regex_empty_match: the expression matches the empty text")
        return
    ws = words(pattern)
    if not ws:
        raise ValueError("pattern: no_words: the term has no letters or digits")
    if kind in ("keyword", "phrase") and len(ws) > MAX_PHRASE_WORDS:
        raise ValueError(f"pattern: max_words: at most {MAX_PHRASE_WORDS} words: got {len(ws)}")
    if kind == "name":
        from amane.names import NameInputError, analyse

        try:
            analysis = analyse(pattern)
        except NameInputError as exc:
            raise ValueError(f"pattern: name: {exc}") from exc
        if len(analysis.tokens) < 2:
            raise ValueError("pattern: name_parts: a name term needs two parts or more (use a keyword for one word)")


# -- per-word keys (cached: words repeat across documents) ----------------------------------------


@lru_cache(maxsize=200_000)
def word_keys(word: str) -> frozenset[str]:
    """Folded forms a text word may match: itself, and for Arabic without its clitics/article."""
    f = fold_word(word)
    if not _ARABIC.match(f):
        # Darija in Latin letters glues the article as "l" before a consonant: "lhrig", "lkif"
        if len(f) >= 4 and f[0] == "l" and f[1] in _LATIN_CONSONANTS:
            return frozenset((f, f[1:]))
        return frozenset((f,))
    keys = {f}
    for p in _AR_CLITICS:
        if f.startswith(p) and len(f) - len(p) >= 3:
            keys.add(f[len(p) :])
    return frozenset(keys)


def term_key(word: str) -> str:
    """The key a term word is indexed under (an Arabic article is dropped: "الحشيش" -> "حشيش")."""
    f = fold_word(word)
    if f.startswith("ال") and len(f) >= 5:
        return f[2:]
    return f


@lru_cache(maxsize=200_000)
def key_skeleton(key: str) -> str | None:
    """Consonant skeleton of a folded word, or None when it is too short for a cross-script match."""
    from amane.names.skeleton import skeleton_of, units_of

    if not key or any(c.isdigit() for c in key):
        return None  # digits left after the Arabizi reading are numbers: skeletons drop them
    script = "ar" if _ARABIC.match(key) else "la"
    try:
        units, _ = units_of(key, script)
        sk = skeleton_of(units, script)
    except (ValueError, KeyError, IndexError):
        return None
    return sk if len(sk) >= MIN_SKELETON and sk.isalpha() else None


@lru_cache(maxsize=200_000)
def word_skeletons(word: str) -> frozenset[str]:
    """Skeletons of a text word's keys that are long enough for a cross-script match."""
    return frozenset(sk for sk in map(key_skeleton, word_keys(word)) if sk is not None)


@lru_cache(maxsize=200_000)
def name_skeletons(word: str) -> frozenset[str]:
    """Skeleton readings of one word as a name part (empty for particles, initials, numbers)."""
    from amane.names import NameInputError, analyse

    if len(word) < 2 or any(c.isdigit() for c in word):
        return frozenset()  # name parts have no digits (an Arabizi name is rare enough to miss)
    try:
        a = analyse(word)
    except NameInputError:
        return frozenset()
    return frozenset(v for t in a.tokens for v in t.variants)


@dataclass(frozen=True)
class _WordTerm:
    term: Term
    keys: tuple[str, ...]
    skels: tuple[str | None, ...]


@dataclass(frozen=True)
class _NameTerm:
    term: Term
    parts: tuple[frozenset[str], ...]  # per name part, its skeleton readings
    displays: tuple[str, ...]  # per name part, as written in the term
    initials: tuple[frozenset[str], ...]  # per name part, the Latin letters its initial may be
    subparts: tuple[tuple[str, ...], ...] = ()  # per name part, skeletons of a compound's words

    def present(self, j: int, window: set[str]) -> bool:
        """Whether name part j is in a window of skeletons (a compound also as its words)."""
        if self.parts[j] & window:
            return True
        sub = self.subparts[j] if self.subparts else ()
        return bool(sub) and all(x in window for x in sub)


def _initials(token: object) -> frozenset[str]:
    """Latin initials a name part may be abbreviated to: "Mohamed" -> m; "محمد" -> the first
    letters of its usual Latin spellings (m)."""
    from amane.names import latin_candidates

    script = getattr(token, "script", "")
    display = str(getattr(token, "display", ""))
    text = str(getattr(token, "text", ""))
    if script == "la":
        return frozenset(text[:1]) if text else frozenset()
    try:
        spellings = latin_candidates(display, k=3)
    except ValueError:
        return frozenset()
    return frozenset(sp[:1].casefold() for sp in spellings if sp[:1].isalpha())


class Watchlist:
    """A compiled set of terms. Invalid terms raise ValueError at construction (``validate_term``)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        from amane.names import analyse

        self.terms: list[Term] = list(terms)
        seen: set[str] = set()
        self._by_key: dict[str, list[_WordTerm]] = {}
        self._by_skel: dict[str, list[_WordTerm]] = {}
        self._names: dict[str, list[_NameTerm]] = {}
        self._regexes: list[tuple[Term, Any]] = []
        for t in self.terms:
            if t.id in seen:
                raise ValueError(f"id: unique: term id {t.id!r} appears twice")
            seen.add(t.id)
            validate_term(t.kind, t.pattern)
            if t.kind in ("keyword", "phrase"):
                ws = [w for _, _, w in words(t.pattern)]
                keys = tuple(term_key(w) for w in ws)
                skels = tuple(key_skeleton(k) for k in keys)
                wt = _WordTerm(t, keys, skels)
                self._by_key.setdefault(keys[0], []).append(wt)
                if skels[0] is not None:
                    self._by_skel.setdefault(skels[0], []).append(wt)
            elif t.kind == "name":
                a = analyse(t.pattern)
                parts = tuple(frozenset(tok.variants) for tok in a.tokens)
                nt = _NameTerm(
                    t,
                    parts,
                    tuple(tok.display for tok in a.tokens),
                    tuple(map(_initials, a.tokens)),
                    tuple(tuple(tok.parts) for tok in a.tokens),
                )
                for anchor in frozenset().union(*parts, *(frozenset(x) for x in nt.subparts)):
                    self._names.setdefault(anchor, []).append(nt)
            else:
                self._regexes.append((t, regex.compile(t.pattern, regex.IGNORECASE | regex.V0)))
        self._hs = _hyperscan_db([p for _, p in self._regexes]) if self._regexes else None

    def __len__(self) -> int:
        return len(self.terms)

    def match(self, text: str) -> list[Hit]:
        """Every hit of every term in the text, sorted by position (offsets in ``text``)."""
        hits: set[Hit] = set()
        if self._by_key or self._by_skel or self._names:
            ws = words(text)
            if self._by_key or self._by_skel:
                self._match_words(text, ws, hits)
            if self._names:
                self._match_names(text, ws, hits)
        if self._regexes:
            self._match_regexes(text, hits)
        return sorted(hits, key=lambda h: (h.start, h.end, h.term_id))

    def _match_words(self, text: str, ws: list[tuple[int, int, str]], hits: set[Hit]) -> None:
        use_skel = bool(self._by_skel)
        keys = [word_keys(w) for _, _, w in ws]
        skels = [word_skeletons(w) for _, _, w in ws] if use_skel else []
        n = len(ws)
        for i in range(n):
            cands: list[_WordTerm] = []
            for k in keys[i]:
                cands.extend(self._by_key.get(k, ()))
            if use_skel:
                for sk in skels[i]:
                    cands.extend(self._by_skel.get(sk, ()))
            for wt in cands:
                m = len(wt.keys)
                if i + m > n:
                    continue
                if all(
                    wt.keys[j] in keys[i + j] or (wt.skels[j] is not None and use_skel and wt.skels[j] in skels[i + j])
                    for j in range(m)
                ):
                    s, e = ws[i][0], ws[i + m - 1][1]
                    hits.add(Hit(wt.term.id, s, e, text[s:e]))

    def _match_names(self, text: str, ws: list[tuple[int, int, str]], hits: set[Hit]) -> None:
        """Every name part's skeleton is an anchor; around an anchor, a window that carries every
        part (or every part but one, written as its initial: "M. El Alaoui") is scored with the
        name engine; the best-scoring, then shortest, span is the hit."""
        sk = [name_skeletons(w) for _, _, w in ws]
        n = len(ws)
        found: dict[tuple[str, int, int], float] = {}
        done: set[tuple[int, int]] = set()
        for i in range(n):
            for anchor in sk[i]:
                for nt in self._names.get(anchor, ()):
                    k = len(nt.parts)
                    lo, hi = max(0, i - k - 2), min(n, i + k + 3)
                    if (id(nt), i) in done:  # reached again through another of its skeletons
                        continue
                    done.add((id(nt), i))
                    window = set().union(*sk[lo:hi])
                    missing = [j for j in range(k) if not nt.present(j, window)]
                    if not missing:
                        self._best_span(text, ws, nt.term.pattern, lo, hi, i, k, None, found, nt.term.id)
                    elif len(missing) == 1 and k >= 2:
                        j = missing[0]
                        initial_at = [
                            x
                            for x in range(lo, hi)
                            if len(ws[x][2]) == 1 and ws[x][2].casefold() in nt.initials[j] and ws[x][2].isalpha()
                        ]
                        if initial_at:
                            reduced = " ".join(d for m, d in enumerate(nt.displays) if m != j)
                            for x in initial_at:
                                self._best_span(text, ws, reduced, lo, hi, i, k, x, found, nt.term.id)
        # one hit per term and place: overlapping spans of a term keep the best score, then the shortest
        ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0][2] - kv[0][1], kv[0][1]))
        kept: list[tuple[str, int, int]] = []
        for (tid, st, en), _score in ranked:
            if not any(t == tid and st < e and s < en for t, s, e in kept):
                kept.append((tid, st, en))
        for tid, st, en in kept:
            hits.add(Hit(tid, st, en, text[st:en]))

    @staticmethod
    def _best_span(
        text: str,
        ws: list[tuple[int, int, str]],
        pattern: str,
        lo: int,
        hi: int,
        anchor: int,
        k: int,
        initial: int | None,
        found: dict[tuple[str, int, int], float],
        term_id: str,
    ) -> None:
        from amane.names import similarity

        best: tuple[float, int, int] | None = None
        for s in range(lo, anchor + 1):
            for e in range(anchor + 1, min(hi, s + k + 2) + 1):
                if e - s < k - (1 if initial is not None else 0):
                    continue
                if initial is not None and not s <= initial < e:
                    continue
                cand = text[ws[s][0] : ws[e - 1][1]]
                try:
                    m = similarity(pattern, [cand])
                except ValueError:
                    continue
                score = m.score
                if any(not t.mark or t.score < NAME_PART_MIN for t in m.tokens):
                    continue
                if score >= NAME_THRESHOLD and (
                    best is None or score > best[0] or (score == best[0] and e - s < best[2] - best[1])
                ):
                    best = (score, s, e)
        if best is not None:
            key = (term_id, ws[best[1]][0], ws[best[2] - 1][1])
            found[key] = max(found.get(key, 0.0), best[0])

    def _match_regexes(self, text: str, hits: set[Hit]) -> None:
        candidates: Iterable[int]
        if self._hs is not None:
            found: set[int] = set()

            def on_match(idx: int, _from: int, _to: int, _flags: int, _ctx: object) -> None:
                found.add(idx)

            try:
                self._hs.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match)
                candidates = sorted(found)
            except Exception:  # noqa: BLE001 - fall back to running every term
                candidates = range(len(self._regexes))
        else:
            candidates = range(len(self._regexes))
        for idx in candidates:
            term, pat = self._regexes[idx]
            try:
                for m in pat.finditer(text, timeout=REGEX_TIMEOUT):
                    if m.end() > m.start():
                        hits.add(Hit(term.id, m.start(), m.end(), m.group()))
            except TimeoutError:
                log.warning("watchlist term %s: regex ran past %.2f s on a document; skipped", term.id, REGEX_TIMEOUT)


def _hyperscan_db(patterns: list[Any]) -> Any:
    """One Hyperscan database (prefilter mode: a superset of each regex) or None without Hyperscan
    or when a pattern does not compile even as a prefilter."""
    try:
        import hyperscan
    except ImportError:
        return None
    flags = (
        hyperscan.HS_FLAG_PREFILTER
        | hyperscan.HS_FLAG_UTF8
        | hyperscan.HS_FLAG_UCP
        | hyperscan.HS_FLAG_CASELESS
        | hyperscan.HS_FLAG_SINGLEMATCH
        | hyperscan.HS_FLAG_ALLOWEMPTY
    )
    try:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[p.pattern.encode("utf-8") for p in patterns],
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=[flags] * len(patterns),
        )
    except Exception as exc:  # noqa: BLE001 - hyperscan.error; the regex engine still runs them all
        log.info("hyperscan cannot compile the watchlist regexes (%s); running them one by one", exc)
        return None
    return db
