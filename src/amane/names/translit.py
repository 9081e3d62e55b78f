"""Latin spellings for display, suggestions and exports: Arabic -> Latin candidates in the
French-influenced Maghrebi style and the English style, and Latin -> Latin variants.

The comparison keys do not need any of this (skeletons make spellings meet without generating
them). Ranked, attested Maghrebi spellings come from ``arabic-name-romanizer`` when it is
installed: its dictionary of Wikidata spellings (about 0.1-0.5 ms a name) and, only when asked
(``model=True``), its ONNX model for names nobody spelled before (about 15-20 ms a unit, so it is
off by default). The two rule-based styles below are hand-written: that package has one generic
rule romanizer and no notion of style.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Any, Literal

from .analysis import analyse
from .errors import NameInputError
from .normalize import AR, clean

Style = Literal["maghrebi", "english"]

_SUN = frozenset("تثدذرزسشصضطظلن")

# Arabic letter -> (Maghrebi/French spelling, English spelling); vowels and ة handled apart.
_CONS: dict[str, tuple[str, str]] = {
    "ب": ("b", "b"),
    "ت": ("t", "t"),
    "ث": ("t", "th"),
    "ج": ("j", "j"),
    "ح": ("h", "h"),
    "خ": ("kh", "kh"),
    "د": ("d", "d"),
    "ذ": ("d", "dh"),
    "ر": ("r", "r"),
    "ز": ("z", "z"),
    "س": ("s", "s"),
    "ش": ("ch", "sh"),
    "ص": ("s", "s"),
    "ض": ("d", "d"),
    "ط": ("t", "t"),
    "ظ": ("d", "z"),
    "غ": ("gh", "gh"),
    "ف": ("f", "f"),
    "ق": ("k", "q"),
    "ك": ("k", "k"),
    "ل": ("l", "l"),
    "م": ("m", "m"),
    "ن": ("n", "n"),
    "ه": ("h", "h"),
}


def _romanize_word(word: str, style: Style) -> str:
    """One folded Arabic word in one style; a short vowel (e/a) is put between two consonants."""
    m = 0 if style == "maghrebi" else 1
    prefix = ""
    if word.startswith("ال") and len(word) >= 4:
        first = word[2]
        word = word[2:]
        if first in _SUN and style == "maghrebi":
            cons = _CONS[first][0]
            prefix = "e" + cons[0] if first != "ل" else "el-"
        else:
            prefix = "el " if style == "maghrebi" else "al-"
    out: list[str] = []
    prev_cons = False
    n = len(word)
    for i, ch in enumerate(word):
        last = i == n - 1
        if ch == "ا" or ch == "ع":
            out.append("a" if style == "maghrebi" or ch == "ا" else "'a")
            prev_cons = False
        elif ch == "و":
            if i == 0 or not prev_cons and i + 1 < n:
                out.append("ou" if style == "maghrebi" else "w")
                prev_cons = style == "english"
            else:
                out.append("ou" if style == "maghrebi" else "u")
                prev_cons = False
        elif ch == "ي":
            if i == 0:
                out.append("y")
                prev_cons = True
            else:
                out.append("i" if style == "maghrebi" or not last else "i")
                prev_cons = False
        elif ch == "ه" and last and i > 0:
            out.append("a" if style == "maghrebi" else "ah")  # ta marbuta (folded)
            prev_cons = False
        elif ch in _CONS:
            spell = _CONS[ch][m]
            if prev_cons:
                out.append("e" if style == "maghrebi" else "a")
            if style == "maghrebi" and ch in "سص" and out and out[-1][-1:] in "aeiou" and not last:
                spell = "ss"  # French: a single s between vowels would be read z
            out.append(spell)
            prev_cons = True
    body = "".join(out)
    return (prefix + body).strip()


def romanize(text: str, style: Style = "maghrebi") -> str:
    """Rule-based romanization of an Arabic name in one style (Latin text passes through)."""
    words: list[str] = []
    for tok in clean(text).tokens:
        if tok.script != AR:
            words.append(tok.text.replace("'", ""))
            continue
        if tok.text == "عبد":
            words.append("abd")
            continue
        words.append(_romanize_word(tok.text, style))
    return _title(" ".join(words))


def _title(text: str) -> str:
    return re.sub(r"(^|[\s-])([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


@lru_cache(maxsize=1)
def _romanizer(model: bool) -> Any:
    try:
        import arabic_name_romanizer as anr
    except ImportError:  # optional: rules only
        return None
    return anr.Transliterator(auto_load_model=model)


def latin_candidates(arabic: str, *, k: int = 5, model: bool = False) -> list[str]:
    """Ranked Latin spellings of an Arabic name: attested Maghrebi spellings first (from
    arabic-name-romanizer's dictionary, country MA), then the rule-based Maghrebi and English
    styles, then their Latin variants. At most k, no duplicates (case and accents ignored)."""
    out: dict[str, str] = {}

    def add(spelling: str) -> None:
        key = re.sub(r"[^a-z]", "", spelling.casefold())
        if key and key not in out and len(out) < k:
            out[key] = spelling

    tr = _romanizer(model)
    if tr is not None:
        for cand in tr.transliterate(arabic, top_k=k, country="MA"):
            if getattr(cand, "source", "") != "rules":
                add(str(cand.text))
    add(romanize(arabic, "maghrebi"))
    add(romanize(arabic, "english"))
    for v in latin_variants(romanize(arabic, "maghrebi"), limit=k):
        add(v)
    return list(out.values())


# Latin -> Latin rewrites, each both ways; applied to whole words, filtered to spellings whose
# keys still meet the original's.
_RULES: tuple[tuple[str, str], ...] = (
    ("ou", "u"),
    ("ch", "sh"),
    ("mm", "m"),
    ("ss", "s"),
    ("dj", "j"),
    ("k", "q"),
    ("gh", "rh"),
    ("e", "a"),
    ("o", "u"),
    ("ll", "l"),
    ("rr", "r"),
    ("i", "y"),
    ("kh", "x"),
)


def latin_variants(latin: str, *, limit: int = 12) -> list[str]:
    """Other Latin spellings of the same name ("Mohamed" -> "Mohammed", "Muhamed"...), in both
    styles, at most ``limit``; every one has keys that meet the original's."""
    try:
        base = analyse(latin)
    except NameInputError:
        return []
    if not base.tokens:
        return []
    base_skels = {t.skeleton for t in base.tokens}
    words = latin.split()
    seen: dict[str, None] = {latin: None}
    frontier = [latin]
    for _ in range(2):  # one or two rewrites
        nxt: list[str] = []
        for text, (a, b) in itertools.product(frontier, _RULES):
            for src, dst in ((a, b), (b, a)):
                if src not in text.casefold():
                    continue
                cand = _replace_keep_case(text, src, dst)
                if cand in seen or len(cand.split()) != len(words):
                    continue
                try:
                    skels = {t.skeleton for t in analyse(cand).tokens}
                except NameInputError:
                    continue
                if skels == base_skels:
                    seen[cand] = None
                    nxt.append(cand)
                if len(seen) > limit:
                    return list(seen)[1:]
        frontier = nxt
    return list(seen)[1:]


def _replace_keep_case(text: str, src: str, dst: str) -> str:
    def sub(m: re.Match[str]) -> str:
        found = m.group(0)
        return dst.upper() if found.isupper() and len(found) > 1 else (dst.capitalize() if found[0].isupper() else dst)

    return re.sub(re.escape(src), sub, text, count=1, flags=re.IGNORECASE)
