"""Text normalisation for personal names, in the Arabic and the Latin script.

Written by hand because no library does this exact folding for names: general Arabic
normalisers (``pyarabic``, ``camel-tools``) keep hamza and ta marbuta apart, which is right for
text and wrong for names typed by officers; ``arabic-name-romanizer`` folds less (it keeps ؤ, ئ
and the Maghrebi letters for /g/ and /v/) and only for the Arabic side.

Arabic folding (comparison forms, never for display):

- hamza and alef forms أ إ آ ٱ ٲ ٳ ٵ -> ا; ؤ -> و; ئ -> ي; a lone ء is dropped
  ("زكرياء" = "زكريا", "وفاء" = "وفا");
- ta marbuta ة -> ه and alef maqsura ى -> ي (the usual confusions of hand-typed names);
- diacritics (harakat, shadda, sukun, superscript alef, Quranic marks) and tatweel removed;
- Persian/Urdu and Maghrebi letters: ک -> ك, ی ې -> ي, ہ ھ ۀ ە -> ه, پ -> ب, چ -> ج, ژ -> ز;
  the Maghrebi letters for /g/ (ڭ, ݣ, and گ ڨ) -> ك, because Moroccan /g/ in names comes
  from qaf or kaf ("ڭرواني" / "قرواني" Guerouani) and is written g in Latin, not j;
  ڤ (/v/) -> ف, the way officers write v in Arabic;
- Arabic-Indic digits (٠-٩, ۰-۹) -> ASCII digits; Arabic punctuation ، ؛ ؟ -> space.

Latin folding: NFKC, case folding, accents removed (é -> e, ï -> i; ç -> s, ß -> ss, æ -> ae,
œ -> oe, ø -> o, ł -> l, ı -> i), apostrophes (’ ‘ ʼ ʻ ` ´) unified to ' and hyphens (‐ – —)
to -, both kept at this stage because they carry meaning for tokenisation (L'Alaoui, El-Fassi,
Fatima-Zohra). Control and format characters (C*) are removed everywhere.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .errors import EmptyNameError, NameTooLongError

MAX_NAME_CHARS = 200
"""Longest accepted input, in characters after cleaning; longer text is refused, not truncated."""
MAX_WORD_CHARS = 40
"""Longest accepted word (the longest real name words have about 20 letters)."""

# -- Arabic ---------------------------------------------------------------------------------------

_AR_FOLD: dict[str, str] = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ٵ": "ا",
    "ؤ": "و",
    "ئ": "ي",
    "ء": "",
    "ٴ": "",
    "ى": "ي",
    "ی": "ي",
    "ې": "ي",
    "ێ": "ي",
    "ۍ": "ي",
    "ة": "ه",
    "ہ": "ه",
    "ھ": "ه",
    "ۀ": "ه",
    "ە": "ه",
    "ک": "ك",
    "ڪ": "ك",
    "ګ": "ك",
    "ڭ": "ك",
    "ݣ": "ك",
    "گ": "ك",
    "ڨ": "ك",
    "ڤ": "ف",
    "ڥ": "ف",
    "پ": "ب",
    "چ": "ج",
    "ژ": "ز",
}
# The 28 letters (plus ه for ة) that survive folding.
AR_LETTERS = frozenset("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")


def _is_ar_mark(ch: str) -> bool:
    o = ord(ch)
    return (
        0x0610 <= o <= 0x061A
        or 0x064B <= o <= 0x065F
        or o == 0x0670
        or 0x06D6 <= o <= 0x06ED
        or o == 0x0640  # tatweel
        or 0x08D3 <= o <= 0x08FF
    )


_AR_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
_AR_PUNCT = frozenset("،؛؟٪٫٬۔")

# -- Latin ----------------------------------------------------------------------------------------

_LA_SPECIAL: dict[str, str] = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "ı": "i",
    "þ": "th",
    "ç": "s",
    "ħ": "h",
}
_APOSTROPHES = frozenset("'’‘ʼʻ`´′ʹ")
_HYPHENS = frozenset("-‐‑‒–—−﹣－")


def fold_latin_char(ch: str) -> str:
    """One lower-case character -> ASCII letters ('' when it is not a Latin letter)."""
    if "a" <= ch <= "z":
        return ch
    special = _LA_SPECIAL.get(ch)
    if special is not None:
        return special
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base.isascii() and base.isalpha() else ""


# -- character classes ----------------------------------------------------------------------------

AR = "ar"
LA = "la"


@dataclass(frozen=True, slots=True)
class RawToken:
    """A run of letters of one script, as cut from the cleaned text."""

    text: str  # folded letters (Arabic) or ASCII lower-case letters/digits (Latin), apostrophes kept
    display: str  # the same letters as written (case, accents, hamza kept; marks and controls removed)
    script: str  # "ar" | "la"
    hyphen_before: bool  # joined to the previous token by a hyphen ("Fatima-Zohra", "El-Fassi")
    split_from_mixed: bool = False  # cut out of a token that mixed scripts


@dataclass(frozen=True, slots=True)
class CleanText:
    tokens: tuple[RawToken, ...]
    unsupported: tuple[str, ...]  # tokens dropped because they use another script
    digits_dropped: bool
    mixed_scripts: bool


@lru_cache(maxsize=8192)
def _char_class(ch: str) -> tuple[str, str]:
    """(class, folded text) for one character of NFKC input."""
    if "a" <= ch <= "z":
        return LA, ch
    if "A" <= ch <= "Z":
        return LA, ch.lower()
    if ch.isspace():
        return " ", " "
    if ch in _APOSTROPHES:
        return "'", "'"
    if ch in _HYPHENS:
        return "-", "-"
    if "0" <= ch <= "9":
        return "9", ch
    o = ord(ch)
    if 0x0600 <= o <= 0x08FF:
        if _is_ar_mark(ch):
            return "", ""
        if ch in _AR_DIGITS:
            return "9", _AR_DIGITS[ch]
        if ch in _AR_PUNCT:
            return " ", " "
        folded = _AR_FOLD.get(ch, ch)
        if folded == "":
            return AR, ""  # lone hamza: kept for display, nothing to compare
        if folded in AR_LETTERS:
            return AR, folded
        return " ", " "  # other Arabic-block signs act as separators
    cat = unicodedata.category(ch)
    if cat[0] == "C":  # control, format (ZWJ, RLM, BOM), private use, surrogates
        return "", ""
    if cat[0] == "M":  # stray combining mark
        return "", ""
    if cat[0] == "L":
        latin = "".join(fold_latin_char(c) for c in ch.casefold())
        if latin:
            return LA, latin
        return "x", ch
    return " ", " "  # punctuation, symbols


def clean(text: str) -> CleanText:
    """Cut text into script-homogeneous raw tokens; raise for empty or over-long input."""
    if not isinstance(text, str):
        raise EmptyNameError(f"name must be text, got {type(text).__name__}")
    if len(text) > MAX_NAME_CHARS * 4:
        raise NameTooLongError(f"name is {len(text)} characters long; at most {MAX_NAME_CHARS} are accepted")
    text = unicodedata.normalize("NFKC", text)
    # A space is a separator whatever surrounds it, so the words between spaces are cleaned one
    # by one, each once per process (names repeat a lot): the same result as the whole text.
    pieces = [_clean_piece(w) for w in text.split(" ") if w]
    compact = [n for p in pieces for n in p[0]]
    if sum(compact) + max(len(compact) - 1, 0) > MAX_NAME_CHARS:
        raise NameTooLongError(f"name is longer than {MAX_NAME_CHARS} characters")
    longest = max(compact, default=0)
    if longest > MAX_WORD_CHARS:
        raise NameTooLongError(f"a word of the name has {longest} letters; at most {MAX_WORD_CHARS} are accepted")
    if len(pieces) == 1:
        _, tokens, unsupported, digits_dropped, mixed = pieces[0]
    else:
        tokens = tuple(t for p in pieces for t in p[1])
        unsupported = tuple(u for p in pieces for u in p[2])
        digits_dropped = any(p[3] for p in pieces)
        mixed = any(p[4] for p in pieces)
    if not tokens and not unsupported:
        raise EmptyNameError("name is empty: no Arabic or Latin letters")
    return CleanText(tokens, unsupported, digits_dropped, mixed)


_Piece = tuple[tuple[int, ...], tuple[RawToken, ...], tuple[str, ...], bool, bool]


@lru_cache(maxsize=65536)
def _clean_piece(text: str) -> _Piece:
    """One space-free piece of NFKC text: (lengths of its compact words, raw tokens, words in
    other scripts, digits dropped, scripts mixed in one word)."""
    # Characters -> (class, folded, as written). An Arabic ta marbuta inside a word becomes a word
    # break ("فاطمةالزهراء" -> "فاطمة الزهراء"): ة only ever ends a word.
    chars: list[tuple[str, str, str]] = []
    n = len(text)
    for i, ch in enumerate(text):
        cls, folded = _char_class(ch)
        if not cls:
            continue
        chars.append((cls, folded, ch))
        if ch == "ة" and i + 1 < n and _char_class(text[i + 1])[0] == AR:
            chars.append((" ", " ", " "))
    compact = tuple(len(t) for t in "".join(f for _, f, _ in chars).split())

    chunks: list[list[tuple[str, str, str]]] = []
    chunk: list[tuple[str, str, str]] = []
    for item in chars:
        if item[0] == " ":
            if chunk:
                chunks.append(chunk)
                chunk = []
        else:
            chunk.append(item)
    if chunk:
        chunks.append(chunk)

    tokens: list[RawToken] = []
    unsupported: list[str] = []
    digits_dropped = False
    mixed = False
    for chunk in chunks:
        if any(cls == "x" for cls, _, _ in chunk):
            unsupported.append("".join(o for _, _, o in chunk))
            continue
        pieces: list[list[tuple[str, str, str]]] = [[]]
        for item in chunk:
            if item[0] == "-":
                pieces.append([])
            else:
                pieces[-1].append(item)
        for p_index, piece in enumerate(pieces):
            runs = _script_runs(piece)
            if len(runs) > 1:
                mixed = True
            for k, (script, run_text, display, had_digits) in enumerate(runs):
                digits_dropped = digits_dropped or had_digits
                if not run_text.strip("'"):
                    continue
                tokens.append(RawToken(run_text, display, script, p_index > 0 and k == 0, len(runs) > 1))
    return compact, tuple(tokens), tuple(unsupported), digits_dropped, mixed


def _script_runs(piece: list[tuple[str, str, str]]) -> list[tuple[str, str, str, bool]]:
    """Split one hyphen-free piece at script changes: (script, folded, as written, digits dropped).
    Digits stay with Latin letters (Arabizi "7amid"); next to Arabic letters, or alone, they are
    dropped. Apostrophes are kept in Latin runs only."""
    has_latin = any(cls == LA for cls, _, _ in piece)
    runs: list[tuple[str, str, str, bool]] = []
    cur_script = ""
    cur: list[str] = []
    cur_disp: list[str] = []
    dropped = False
    for cls, folded, orig in piece:
        if cls == "9":
            if has_latin and cur_script != AR:
                cur.append(folded)
                cur_disp.append(orig)
                cur_script = cur_script or LA
            else:
                dropped = True
            continue
        if cls == "'":
            if cur_script == LA or (not cur_script and has_latin):
                cur.append("'")
                cur_disp.append(orig)
                cur_script = cur_script or LA
            continue  # apostrophes carry no meaning in Arabic script
        if cls != cur_script and cur_script and cur:
            runs.append((cur_script, "".join(cur), "".join(cur_disp), dropped))
            cur, cur_disp, dropped = [], [], False
        cur_script = cls
        cur.append(folded)
        cur_disp.append(orig)
    if cur and cur_script:
        runs.append((cur_script, "".join(cur), "".join(cur_disp), dropped))
    elif dropped:
        runs.append((LA, "", "", True))
    out: list[tuple[str, str, str, bool]] = []
    for script, run_text, display, had_digits in runs:
        if script == LA and not any(c.isalpha() for c in run_text):
            out.append((LA, "", "", True))  # digits only
            continue
        out.append((script, run_text, display, had_digits))
    return out


def normalize_arabic(text: str) -> str:
    """Folded Arabic comparison form of a text (Latin letters and digits are dropped)."""
    return " ".join(t.text for t in clean(text).tokens if t.script == AR)


def normalize_latin(text: str) -> str:
    """Folded Latin comparison form: lower-case ASCII, no accents, apostrophes removed,
    hyphens as spaces (Arabic letters are dropped)."""
    return " ".join(t.text.replace("'", "") for t in clean(text).tokens if t.script == LA and t.text.strip("'"))


def scripts_of(text: str) -> frozenset[str]:
    """The scripts ("ar", "la") a text is written in."""
    return frozenset(t.script for t in clean(text).tokens)
