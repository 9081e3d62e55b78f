"""Tokenisation of a personal name: particles, titles, compounds, skeletons per name part."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .errors import NameTooShortError, OnlyParticlesError, UnsupportedScriptError
from .normalize import AR, LA, RawToken, clean
from .particles import (
    ABBREVIATIONS_LA,
    ABDOU_LA,
    ARTICLES_AR,
    ARTICLES_LA,
    COMPOUNDS,
    DIVINE_NAMES_AR,
    FILIATION_KINDS,
    GLUED_SUFFIX_AR,
    GLUED_SUFFIX_LA_RE,
    MOHAMED_SKELETON,
    PREFIX_FORMS,
    PREFIXES_AR,
    PREFIXES_LA,
    SUFFIXES_AR,
    SUFFIXES_LA,
    SUN_ARTICLE_RE,
    TITLES_AR,
    TITLES_LA,
)
from .skeleton import (
    ARABIC_FLIPS,
    LATIN_FLIPS,
    deletions,
    ending_variants,
    fold_of,
    join_skeletons,
    skeleton_of,
    units_of,
)

MAX_TOKENS = 8
"""Name parts kept per name; more than this is not a name (the rest is reported as dropped)."""
MAX_VARIANTS = 6
"""Query-side skeleton variants kept per name part."""
EMPTY_SKELETON = "_"
"""Skeleton of a part with no consonant at all (Aya, آية)."""

_LA_CONS = "bcdfghjklmnpqrstvxz"
_EL_CONS_RE = re.compile(rf"^el(?=[{_LA_CONS}])")
_ART_VOWEL_RE = re.compile(r"^el(?=[aeiouyw])")
_SUN_GLUED_RE = re.compile(r"^e(?=([dnrstz])\1|chch|shsh)")
_L_CONS_RE = re.compile(rf"^l(?=[{_LA_CONS.replace('l', '')}])")
_AMBIGUOUS_L_RE = re.compile(rf"^l(?=[aeiouyw])|^[ai]l(?=[aeiouyw{_LA_CONS}])|^le(?=[{_LA_CONS}])")
_ABD_STEM_ART_RE = re.compile(r"^(?:el|al|ul|oul|ol|il)(?=[a-z]{2})")
_GLUED_ABD_RE = re.compile(r"^(?P<pre>ben|bin|ibn|bou|ait|ould)?abd(?P<rest>[a-z]{2,})$")
_APOSTROPHE_ARTICLE_RE = re.compile(r"^(l|el|al)'(.{2,})$")
# "Mohamedamine", "Mohammedlamine": a compound given name written as one word.
_GLUED_MOHAMED_RE = re.compile(r"^(?:mohamed|mohammed|mohamad|mohammad|muhammad|mouhamed|mhamed)(?=[a-z]{4,}$)")


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a name part: a stem, a prefix particle (ben, abd...) or a suffix (eddine)."""

    text: str
    script: str
    kind: str  # "stem" | "abdstem" | "suffix" | a PREFIX_FORMS kind
    article: bool = False  # an article was written apart before it ("El Alaoui")


@dataclass(frozen=True, slots=True)
class NameToken:
    """One name part once particles are attached and compounds joined."""

    text: str  # folded comparison text, pieces separated by spaces ("abd el aziz", "محمد")
    display: str  # as written ("Abd El Aziz", "عبد العزيز")
    script: str  # "ar" | "la"
    kind: str  # "name" | "compound" | "filiation"
    skeleton: str  # canonical consonant skeleton (index key material)
    variants: tuple[str, ...]  # skeleton first, then query-side readings
    fold: str  # vowel-aware form for ranking
    article: bool = False  # had an article (removed from the skeleton)
    optional: bool = False  # Mohamed heading a compound given name ("Mohamed Amine"): often omitted
    role: str = ""  # "given" | "family" | "father" | "mother" when the caller said so
    parts: tuple[str, ...] = ()  # skeletons of joined words (Fatima + Zahra), for partial matches
    segments: tuple[Segment, ...] = field(default=(), repr=False)

    @property
    def key(self) -> str:
        return self.text.replace(" ", "")


@dataclass(frozen=True, slots=True)
class NameAnalysis:
    text: str
    scripts: tuple[str, ...]  # scripts of the name parts, sorted ("ar", "la")
    tokens: tuple[NameToken, ...]  # name parts, in written order
    particles: tuple[str, ...] = ()  # articles, titles and prefixes left out (as written)
    dropped: tuple[str, ...] = ()  # initials, digits, words in other scripts, parts over MAX_TOKENS
    warnings: tuple[str, ...] = field(default=())

    @property
    def normalized(self) -> str:
        return " ".join(t.text for t in self.tokens)

    @property
    def skeletons(self) -> tuple[str, ...]:
        return tuple(t.skeleton for t in self.tokens)


# -- segments -> skeletons ------------------------------------------------------------------------


def _segment_forms(seg: Segment, canon_only: bool = False) -> tuple[str, list[str], str]:
    """(canonical skeleton, variants with the canonical first, fold) of one segment; with
    ``canon_only``, no readings (the variants are the canonical skeleton alone)."""
    if seg.kind in PREFIX_FORMS:
        skel, fold = PREFIX_FORMS[seg.kind]
        return skel, [skel], fold
    text = seg.text
    unstripped = ""
    article = seg.article
    ambiguous_l = False
    bi_article = False
    if seg.script == AR:
        if text.startswith("ال") and len(text) >= 4:
            text = text[2:]
            article = seg.kind != "abdstem"  # after عبد the article is always written: no variant
        elif text.startswith("ل") and len(text) >= 3 and text[1] not in "اوي":
            ambiguous_l = True  # "لحسن" for الحسن, or a real ل (لبنى)
        elif text.startswith("بال") and len(text) >= 6:
            bi_article = True  # "بالرحمة" = Berrahma: ب + article
    elif seg.kind == "abdstem":
        m = _ABD_STEM_ART_RE.match(text) or _L_CONS_RE.match(text)
        if m:
            unstripped = text  # "Abdelah", "Abdelatif": the l may be the name's own
            text = text[m.end() :]
    else:
        m = _EL_CONS_RE.match(text) if len(text) >= 4 else None
        if m is None and len(text) >= 5:
            m = _SUN_GLUED_RE.match(text)  # "Ettaleb", "Essamlali": the article assimilated
        if m is None and len(text) >= 5:
            m = _ART_VOWEL_RE.match(text)
        if m is None and len(text) >= 4:
            m = _L_CONS_RE.match(text)
        if m is not None:
            text, article = text[m.end() :], True
        elif _AMBIGUOUS_L_RE.match(text):
            ambiguous_l = True
    units, seen = units_of(text, seg.script)
    canon = skeleton_of(units, seg.script)
    allah = seg.script == LA and seg.kind in ("suffix", "abdstem") and text.endswith("lah")
    if canon_only and not allah:
        return canon, [canon], fold_of(units)
    endings = ending_variants(units, seg.script)
    if allah and endings:
        canon, endings = endings[0], [canon]  # the h of Allah is the ه that Arabic skeletons drop
    if canon_only:
        return canon, [canon], fold_of(units)
    variants: dict[str, None] = {canon: None}
    for v in endings:
        variants.setdefault(v, None)
    if article:
        variants.setdefault("L" + canon, None)
    if ambiguous_l and canon.startswith("L") and len(canon) > 1:
        variants.setdefault(canon[1:], None)
    if bi_article:
        variants.setdefault("B" + skeleton_of(units_of(text[3:], AR)[0], AR), None)
    if unstripped:
        kept = units_of(unstripped, LA)[0]
        variants.setdefault(skeleton_of(kept, LA), None)
        for v in ending_variants(kept, LA):
            variants.setdefault(v, None)
    if not article and seg.kind == "stem" and canon:
        # the article glued as a bare L: أمين written Lamine, Alaoui written Laalaoui
        if (seg.script == AR and text[:1] == "ا") or (seg.script == LA and text[:1] in "aeiou"):
            variants.setdefault("L" + canon, None)
    for flip in LATIN_FLIPS if seg.script == LA else ARABIC_FLIPS:
        if flip in seen:
            variants.setdefault(skeleton_of(units_of(text, seg.script, frozenset({flip}))[0], seg.script), None)
    return canon, list(variants), fold_of(units)


_T_D_PREFIXES = frozenset({"id", "ait", "bent", "ould"})


def _h_joins_prefix(segments: tuple[Segment, ...], i: int, fold: str) -> bool:
    """Rule 3 across the joint of a prefix ending in T/D: segment ``i`` starts with an h that the
    prefix absorbs ("Id Hammou" = "إدحمو"), so its skeleton loses its first consonant."""
    return i > 0 and segments[i - 1].kind in _T_D_PREFIXES and fold[:1] == "H"


def _token_skeleton(segments: tuple[Segment, ...]) -> str:
    """The canonical skeleton of a name part alone (``_token_forms(segments)[0]``, without the
    readings)."""
    if len(segments) == 1:
        return _segment_forms(segments[0], True)[0] or EMPTY_SKELETON
    parts: list[tuple[str, str]] = []
    for i, seg in enumerate(segments):
        skel, _, fold = _segment_forms(seg, True)
        parts.append((skel[1:] if _h_joins_prefix(segments, i, fold) else skel, fold))
    return join_skeletons(parts) or EMPTY_SKELETON


@lru_cache(maxsize=65536)
def _token_forms(segments: tuple[Segment, ...]) -> tuple[str, tuple[str, ...], str]:
    forms = [_segment_forms(s) for s in segments]
    for i in range(1, len(forms)):
        skel, readings, fold = forms[i]
        if _h_joins_prefix(segments, i, fold):
            forms[i] = (skel[1:], [v[1:] if v.startswith("H") else v for v in readings], fold)
    folds = [f[2] for f in forms]
    canon = join_skeletons([(f[0], f[2]) for f in forms]) or EMPTY_SKELETON
    variants: dict[str, None] = {canon: None}
    for combo in itertools.product(*(f[1] for f in forms)):
        v = join_skeletons(list(zip(combo, folds, strict=True)))
        if v:
            variants.setdefault(v, None)
        if len(variants) >= MAX_VARIANTS:
            break
    # short and long forms of Abd- names (Aziz / Abdelaziz), the last readings tried
    if len(variants) < MAX_VARIANTS:
        if len(forms) == 2 and segments[0].kind == "abd" and len(forms[1][0]) >= 2:
            variants.setdefault(forms[1][0], None)
        elif len(forms) == 1 and segments[0].kind == "stem" and canon in _divine_skeletons():
            variants.setdefault("BD" + canon, None)
    return canon, tuple(variants), "".join(folds)


MAX_EDIT_READINGS = 6
"""Letter-typo readings kept per name part (``edit_readings``)."""
_DIGRAPH_HEADS = frozenset("cskgdtp")
"""Latin letters that an h after them makes into another consonant (ch, sh, kh, gh, dh, th, ph)."""


@lru_cache(maxsize=16384)
def edit_readings(segments: tuple[Segment, ...]) -> tuple[str, ...]:
    """Skeletons of a name part read with one letter of its written form deleted, two adjacent
    letters swapped or (Latin) an h put back after c, s, k, g, d, t or p, that the deletion keys
    do not meet already: not its skeleton nor one of its readings, and neither one consonant
    more, less or different. These are the one-letter typos that move a skeleton by two
    consonants or more: a letter too many that is itself two consonants (Latin x = KS:
    "Azxani" for Azmani), or that breaks a digraph ("Cahfik" for Chafik, "Fennihc" for
    Fennich) or an article ("اتلنمروشي" for النمروشي, no longer seen as ال); a digraph's h left
    out ("Aica" for Aicha). Query side only (``query_keys`` and the ranking): never stored."""
    canon, variants, _ = _token_forms(segments)
    # the one-consonant deletions that the deletion keys look up (none for a part this short)
    near = set(deletions(canon)) if len(canon) >= 2 else set()
    known = {canon, EMPTY_SKELETON, *variants, *near}
    out: dict[str, None] = {}
    for k, seg in enumerate(segments):
        if seg.kind in PREFIX_FORMS:
            continue
        text = seg.text
        n = len(text)
        edits: dict[str, None] = {}
        for i in range(n):
            edits.setdefault(text[:i] + text[i + 1 :], None)
        for i in range(n - 1):
            if text[i] != text[i + 1]:
                edits.setdefault(text[:i] + text[i + 1] + text[i] + text[i + 2 :], None)
        if seg.script == LA:
            for i in range(n):
                if text[i] in _DIGRAPH_HEADS and text[i + 1 : i + 2] != "h":
                    edits.setdefault(text[: i + 1] + "h" + text[i + 1 :], None)  # Aica = Aicha
        for edited in edits:
            if not edited:
                continue
            typed = Segment(edited, seg.script, seg.kind, seg.article)
            skel = _token_skeleton((*segments[:k], typed, *segments[k + 1 :]))
            if skel not in known and skel not in out:
                # one consonant more, or one changed or two swapped, the deletion keys meet already
                if canon not in deletions(skel) and near.isdisjoint(deletions(skel)):
                    out.setdefault(skel, None)
                else:
                    known.add(skel)
    return tuple(out)[:MAX_EDIT_READINGS]


def _latin_segments(text: str, kind: str = "stem", article: bool = False) -> list[Segment]:
    """Segments of one Latin word: a glued Abd- compound or a glued -eddine/-allah suffix."""
    m = _GLUED_ABD_RE.match(text)
    if m:
        out: list[Segment] = []
        pre = m.group("pre")
        if pre:
            out.append(Segment(pre, LA, PREFIXES_LA[pre]))
        out.append(Segment("abd", LA, "abd"))
        out.append(Segment(m.group("rest"), LA, "abdstem"))
        return out
    m = GLUED_SUFFIX_LA_RE.match(text)
    if m:
        return [Segment(m.group("head"), LA, kind, article), Segment(m.group("tail"), LA, "suffix")]
    return [Segment(text, LA, kind, article)]


@lru_cache(maxsize=1)
def _divine_skeletons() -> frozenset[str]:
    out = set()
    for name in DIVINE_NAMES_AR:
        skel = _segment_forms(Segment(name, AR, "stem"))[0]
        if len(skel) >= 2:
            out.add(skel)
    return frozenset(out)


# -- items ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    text: str
    display: str
    script: str
    kind: str = "name"  # name | title | article | prefix | suffix | initial
    prefix: str = ""  # PREFIX_FORMS kind when kind == "prefix"


def _items(raw: tuple[RawToken, ...]) -> list[_Item]:
    items: list[_Item] = []
    sun_checks: list[tuple[int, str]] = []
    for tok in raw:
        for text, display, script, kind, prefix, sun in _token_items(tok.text, tok.display, tok.script):
            if sun:
                sun_checks.append((len(items), sun))
            items.append(_Item(text, display, script, kind, prefix))
    # a Latin sun-letter article written apart ("Es Semlali", "Ed Dahbi") is one only before a
    # word that starts with that letter
    for i, sun in sun_checks:
        nxt = items[i + 1] if i + 1 < len(items) else None
        if nxt is not None and nxt.script == LA and nxt.text.startswith(sun):
            items[i].kind = "article"
    # "Abdou" + a divine name is the compound Abd-X; otherwise a name of its own.
    for i, it in enumerate(items):
        if it.script == LA and it.kind == "name" and it.text in ABDOU_LA:
            j = i + 1
            while j < len(items) and items[j].kind == "article":
                j += 1
            if j < len(items) and items[j].kind == "name":
                skel = _segment_forms(Segment(items[j].text, items[j].script, "stem", j > i + 1))[0]
                if skel in _divine_skeletons():
                    it.kind, it.prefix = "prefix", "abd"
    return items


@lru_cache(maxsize=65536)
def _token_items(text: str, display: str, script: str) -> tuple[tuple[str, str, str, str, str, str], ...]:
    """The items one raw token gives, classified: (text, display, script, kind, prefix, sun),
    ``sun`` being the letters a next word must start with for this word to be a sun-letter
    article ("" when it cannot be one). A function of the token alone: cached."""
    pieces: list[tuple[str, str, str, str]] = []
    if script == LA:
        m = _APOSTROPHE_ARTICLE_RE.match(text)
        if m:
            pieces.append((m.group(1), display[: len(m.group(1))], LA, "article"))
            rest = m.group(2).strip("'")
            pieces.append((rest, display[len(m.group(1)) + 1 :], LA, "name"))
        else:
            text = text.strip("'")
            if not text.replace("'", ""):
                return ()
            text = ABBREVIATIONS_LA.get(text, text)
            m = _GLUED_MOHAMED_RE.match(text)
            if m and len(display) == len(text):
                cut = m.end()
                pieces.append((text[:cut], display[:cut], LA, "name"))
                pieces.append((text[cut:], display[cut:], LA, "name"))
            else:
                pieces.append((text, display, LA, "name"))
    else:
        if text.startswith("عبدال") and len(text) >= 6:
            pieces.append(("عبد", display[:3], AR, "name"))
            text, display = text[3:], display[3:]
        for suffix in GLUED_SUFFIX_AR:
            if text.endswith(suffix) and len(text) >= len(suffix) + 2:
                cut = len(text) - len(suffix)
                pieces.append((text[:cut], display[: len(display) - len(suffix)], AR, "name"))
                text, display = suffix, display[len(display) - len(suffix) :]
                break
        pieces.append((text, display, AR, "name"))
    out = []
    for t, disp, scr, kind in pieces:
        prefix = sun = ""
        if scr == LA:
            if t in TITLES_LA:
                kind = "title"
            elif t in ARTICLES_LA:
                kind = "article"
            elif t in PREFIXES_LA:
                kind, prefix = "prefix", PREFIXES_LA[t]
            elif t in SUFFIXES_LA:
                kind = "suffix"
            elif len(t) == 1:
                kind = "initial"
            else:
                m = SUN_ARTICLE_RE.match(t)
                if m:
                    sun = m.group(1)[:2]
        else:
            if t in TITLES_AR:
                kind = "title"
            elif t in ARTICLES_AR:
                kind = "article"
            elif t in PREFIXES_AR:
                kind, prefix = "prefix", PREFIXES_AR[t]
            elif t.endswith("عبد") and len(t) > 3:
                kind, prefix = "prefix", "abd+"  # "بنعبد الجليل", "بوعبد الله"
            elif t in SUFFIXES_AR:
                kind = "suffix"
            elif len(t) == 1:
                kind = "initial"
        out.append((t, disp, scr, kind, prefix, sun))
    return tuple(out)


# -- analyse --------------------------------------------------------------------------------------


def _make_token(pieces: list[_Item], segments: list[Segment], kind: str) -> NameToken:
    segs = tuple(segments)
    canon, variants, fold = _token_forms(segs)
    return NameToken(
        text=" ".join(p.text.replace("'", "") for p in pieces),
        display=" ".join(p.display for p in pieces),
        script=segments[-1].script,
        kind=kind,
        skeleton=canon,
        variants=variants,
        fold=fold,
        article=any(s.article for s in segments) or any(p.kind == "article" for p in pieces),
        segments=segs,
    )


def _stem_segments(it: _Item, article: bool, after_abd: bool) -> list[Segment]:
    if it.script == LA:
        return _latin_segments(it.text, "abdstem" if after_abd else "stem", article)
    return [Segment(it.text, AR, "abdstem" if after_abd else "stem", article)]


def analyse(text: str) -> NameAnalysis:
    """Analyse one personal name written in Arabic or Latin script (or both).

    Raises EmptyNameError, NameTooLongError or UnsupportedScriptError for text that is no name;
    a name made only of particles or initials gives an analysis with no tokens (see
    ``require_tokens``)."""
    # Words are cleaned, cut into items and made into name parts once per process (names repeat
    # a lot: see the caches of ``clean``, ``_token_items`` and ``_name_token``); whole names are
    # not cached here (the callers that need it cache them: search keys, ranked candidates), so
    # that no cache of millions of names makes the garbage collector slow.
    cleaned = clean(text)
    if not cleaned.tokens:
        raise UnsupportedScriptError(
            "names must be written in Arabic or Latin script; not understood: " + ", ".join(cleaned.unsupported)
        )
    items = _items(cleaned.tokens)
    tokens, particles, dropped = _build(items, titles_as_names=False)
    if len(tokens) < 2 and any(it.kind == "title" for it in items):
        # "Lalla Taja", "Moulay Ali": with a single name left, the title is part of the name
        tokens, particles, dropped = _build(items, titles_as_names=True)
    dropped = list(cleaned.unsupported) + dropped
    warnings: list[str] = []
    if cleaned.mixed_scripts:
        warnings.append("a word mixing Arabic and Latin letters was split in two")
    if cleaned.digits_dropped:
        warnings.append("digits were ignored")
    if cleaned.unsupported:
        warnings.append("words in other scripts were ignored")
    tokens = _join_compounds(tokens)
    if len(tokens) > MAX_TOKENS:
        dropped.extend(t.display for t in tokens[MAX_TOKENS:])
        tokens = tokens[:MAX_TOKENS]
        warnings.append(f"only the first {MAX_TOKENS} name parts are used")
    tokens = _mark_optional(tokens)
    scripts = tuple(sorted({t.script for t in tokens}))
    return NameAnalysis(text, scripts, tuple(tokens), tuple(particles), tuple(dropped), tuple(warnings))


def _build(items: list[_Item], *, titles_as_names: bool) -> tuple[list[NameToken], list[str], list[str]]:
    tokens: list[NameToken] = []
    particles: list[str] = []
    dropped: list[str] = []
    pending: list[_Item] = []  # articles and prefixes waiting for their name
    for it in items:
        kind = it.kind
        if kind == "title" and (titles_as_names or any(p.kind == "prefix" for p in pending)):
            kind = "name"  # "Ait Moulay", "Lalla Taja"
        if kind == "title":
            particles.extend(p.display for p in pending if p.kind == "article")
            pending = [p for p in pending if p.kind != "article"]
            particles.append(it.display)
            continue
        if kind in ("article", "prefix"):
            pending.append(it)
            continue
        if kind == "initial":
            dropped.append(it.display)
            continue
        if kind == "suffix" and not pending and tokens and tokens[-1].script == it.script:
            last = tokens.pop()
            segs = (*last.segments, Segment(it.text, it.script, "suffix"))
            canon, variants, fold = _token_forms(segs)
            tokens.append(
                replace(
                    last,
                    text=f"{last.text} {it.text}",
                    display=f"{last.display} {it.display}",
                    kind="compound" if last.kind == "name" else last.kind,
                    skeleton=canon,
                    variants=variants,
                    fold=fold,
                    segments=segs,
                )
            )
            continue
        # a name (or a suffix word standing alone, treated as a name)
        fields = (it.text, it.display, it.script, it.kind, it.prefix)
        tokens.append(_name_token(tuple([_fields(p) for p in pending]) if pending else (), fields))
        particles.extend(p.display for p in pending if p.kind == "article")
        pending = []
    if sum(1 for p in pending if p.kind == "prefix") >= 2:
        # "Ait Abou": the last particle is the name itself
        cut = max(i for i, p in enumerate(pending) if p.kind == "prefix")
        segments = [
            Segment(p.text, p.script, "stem" if p.prefix == "abd+" else p.prefix)
            for p in pending[:cut]
            if p.kind == "prefix"
        ]
        segments.extend(_stem_segments(pending[cut], False, False))
        kind = "filiation" if {s.kind for s in segments} & FILIATION_KINDS else "compound"
        tokens.append(_make_token(pending[: cut + 1], segments, kind))
        pending = pending[cut + 1 :]
    particles.extend(p.display for p in pending)
    return tokens, particles, dropped


_Fields = tuple[str, str, str, str, str]


def _fields(it: _Item) -> _Fields:
    return it.text, it.display, it.script, it.kind, it.prefix


@lru_cache(maxsize=65536)
def _name_token(pending: tuple[_Fields, ...], item: _Fields) -> NameToken:
    """The name part made of one name word and the articles and prefixes written before it: a
    function of those words alone, computed once per process (name words repeat a lot)."""
    pieces = [_Item(*f) for f in pending]
    it = _Item(*item)
    segments: list[Segment] = []
    article = False
    after_abd = False
    for p in pieces:
        if p.kind == "prefix" and p.prefix == "abd+":
            segments.append(Segment(p.text, p.script, "stem"))
            after_abd, article = True, False
        elif p.kind == "prefix":
            segments.append(Segment(p.text, p.script, p.prefix))
            after_abd = p.prefix == "abd" and p.text in ("abd", "عبد")
            article = False
        else:
            article = True
    segments.extend(_stem_segments(it, article, after_abd))
    kinds = {s.kind for s in segments}
    if kinds & FILIATION_KINDS:
        token_kind = "filiation"
    elif len(segments) > 1:
        token_kind = "compound"
    else:
        token_kind = "name"
    return _make_token([*pieces, it], segments, token_kind)


def _join_compounds(tokens: list[NameToken]) -> list[NameToken]:
    """Join two-word given names written apart ("Fatima Zahra", "فاطمة الزهراء")."""
    out: list[NameToken] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        u = tokens[i + 1] if i + 1 < len(tokens) else None
        pair = (t.skeleton, u.skeleton) if u is not None else None
        if u is not None and u.kind == "name" and t.kind == "name" and pair in COMPOUNDS:
            segs = t.segments + u.segments
            canon, variants, fold = _token_forms(segs)
            out.append(
                replace(
                    t,
                    text=f"{t.text} {u.text}",
                    display=f"{t.display} {u.display}",
                    kind="compound",
                    skeleton=canon,
                    variants=variants,
                    fold=fold,
                    parts=(t.skeleton, u.skeleton),
                    segments=segs,
                )
            )
            i += 2
            continue
        out.append(t)
        i += 1
    # A glued "Fatimazahra" gets its parts too, for partial matches against "Zahra".
    for k, t in enumerate(out):
        if not t.parts:
            for head, tail in COMPOUNDS:
                if t.skeleton == head + tail:
                    out[k] = replace(t, kind="compound", parts=(head, tail))
    return out


def _mark_optional(tokens: list[NameToken]) -> list[NameToken]:
    """Mohamed followed by another given name, in a name of three parts or more, is often left
    out ("Mohamed Amine Alaoui" = "Amine Alaoui")."""
    names = [t for t in tokens if t.kind != "filiation"]
    if len(names) < 3:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1):
        t, u = out[k], out[k + 1]
        if t.skeleton == MOHAMED_SKELETON and u.kind != "filiation" and u.skeleton != MOHAMED_SKELETON:
            out[k] = replace(t, optional=True)
    return out


def require_tokens(analysis: NameAnalysis) -> NameAnalysis:
    """The analysis, or OnlyParticlesError / NameTooShortError when it has no name part."""
    if analysis.tokens:
        return analysis
    if analysis.particles:
        raise OnlyParticlesError(
            "the name has only particles or titles (" + " ".join(analysis.particles) + "); add a name"
        )
    raise NameTooShortError("the name has only initials or single letters; write at least one full name")
