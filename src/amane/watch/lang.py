"""Language and script detection for collected posts: Arabic (MSA), French, English, Moroccan Arabic
(Darija) in Arabic script and in Latin letters ("Arabizi"), and French-Arabic mixes.

Written by hand: general identifiers (``langdetect``, ``lingua``, fastText's lid.176) know MSA but
not Darija, and read Arabizi as some random Latin-script language; none of them reports a mix of
scripts in one post. The method is deliberately simple and explainable:

1. letters are counted per script (Arabic block vs Latin letters; digits and symbols are not
   letters), which gives ``shares`` and the ``script``; a post whose minority script holds at least
   :data:`MIXED_SHARE_WORDS` of the letters of its words is ``mixed``;
2. words are folded (the project's Arabic folding from :mod:`amane.names.normalize`, Latin folded
   to lower-case ASCII) and looked up in small marker lexicons (``data/language_markers.yaml``):
   function words of MSA, French and English, and Darija markers in each script (``ديال``, ``بزاف``,
   ``dyal``, ``bzaf``...); the Arabizi habit of writing ع ح ق with the digits 3 7 9 inside a word
   ("m3a", "7ta", "9a3ida"), the Darija negation ``ما...ش`` / ``ma...ch``, the verb prefixes
   (``كنبيع`` / ``kanbi3``, ``ghanmchi``) and the article glued to a consonant (``lflous``) count too;
3. the language with the most marker weight wins; Latin-script text with strong French and strong
   Darija markers at once is ``mixed`` (code-switching); text with no marker at all is
   ``unknown`` in Latin script and ``ar`` (low confidence) in Arabic script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from amane.names.normalize import fold_latin_char, normalize_arabic

LANGUAGES = ("ar", "fr", "en", "darija_ar", "darija_latn", "mixed", "unknown")
SCRIPTS = ("arabic", "latin", "mixed", "none")

MIXED_SHARE_WORDS = 0.08
"""Share of the letters of real words (acronyms and codes left out) that the minority script must
hold for a post to be read as mixed-script (with at least one Arabic word of three letters and
some Latin-script language: three words or one marker)."""

# A word: letters/digits plus Arabic combining marks and tatweel (which Python's \w leaves out),
# with inner apostrophes ("l'argent", "j'ai").
WORD_RE = re.compile(r"[\w\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]+(?:['’][\w]+)*")

# A digit read as a letter: between letters (m3a, sa7bi) or starting a word (3la, 7ta), not a model
# number at the end of one (track2, mp3) nor "3d".
_ARABIZI_DIGIT_RE = re.compile(r"[a-z][2379][a-z]|^[2379][a-z]{2,}")
_NOT_NEGATION = frozenset({"marrakech", "marrakch", "match", "machine", "manch", "mach"})
_DARIJA_NEG_LATN_RE = re.compile(r"^ma[a-z0-9]{2,}(?:ch|sh)$")
# Arabizi verb prefixes ka-/ta- + person (kanbi3, kaydir, katkhdem) and gha- (future: ghanmchi), and
# the article glued to a consonant (lflous, lbanka, l7chich): shapes French and English words do not take.
_DARIJA_VERB_LATN_RE = re.compile(r"^(?:ka|gha)[nyt][a-z0-9]{2,}$")
_DARIJA_ARTICLE_LATN_RE = re.compile(r"^l[bcdfghjkmnqrstwxz2379][a-z0-9]{2,}$")
_DARIJA_NEG_AR_RE = re.compile(r"^ما[\u0621-\u064A]{2,}ش$")
# Darija present-tense verbs: ك + person prefix (كنبيع، كيبيع، كتخدم); MSA words of that shape are listed.
_DARIJA_VERB_AR_RE = re.compile(r"^ك[نيت][\u0621-\u064A]{2,}$")
_MSA_K_WORDS = frozenset(
    "كيف كيفيه كيلو كيلومتر كيلوغرام كيلوغرامات كنيسه كتاب كتب كتابه كتيب كتيبه كتله كيان كيميا كتايب كندا كنز كنت كنتم"
    " كتابات كيفما كينيا".split()
)
# Darija plural verbs end in و without the alif of MSA (نوضو، خداو، كانو; MSA نهضوا، كانوا).
_DARIJA_PLURAL_AR_RE = re.compile(r"^[\u0621-\u064A]{2,}[^ا]و$")
_MSA_W_WORDS = frozenset(
    "نحو عضو عدو ابو اخو يدعو يرجو يبدو يعلو يسمو يغزو فيديو راديو ستوديو سيناريو كيلو بيانو".split()
)


@dataclass(frozen=True)
class LanguageResult:
    """The detected language of a text."""

    language: str  # one of LANGUAGES
    script: str  # "arabic", "latin", "mixed", "none"
    confidence: float  # 0..1
    shares: dict[str, float] = field(default_factory=dict)  # share of letters per script


def is_arabic_char(ch: str) -> bool:
    """An Arabic-block letter (marks, digits and punctuation excluded)."""
    o = ord(ch)
    return (0x0620 <= o <= 0x064A or 0x066E <= o <= 0x06D3 or 0x06FA <= o <= 0x06FF or 0x0750 <= o <= 0x077F) and (
        ch.isalpha()
    )


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Comparison form of one word: folded Arabic letters, or lower-case ASCII Latin letters and
    digits (digits are kept: they carry Arabizi letters). Mixed-script words keep both parts."""
    out: list[str] = []
    for ch in word.casefold():
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif ch.isalpha() and not is_arabic_char(ch) and ord(ch) < 0x0590:
            out.append(fold_latin_char(ch))
        elif 0x0600 <= ord(ch) <= 0x08FF:
            if "\u0660" <= ch <= "\u0669":
                out.append(str(ord(ch) - 0x0660))
            else:
                out.append(ch)
    text = "".join(out)
    if any(0x0600 <= ord(c) <= 0x08FF for c in text):
        # normalize_arabic drops digits and Latin letters; keep Latin/digit runs around Arabic ones.
        parts = re.findall(r"[a-z0-9]+|[^a-z0-9]+", text)
        folded = []
        for part in parts:
            if part[0].isascii():
                folded.append(part)
            else:
                try:
                    folded.append(normalize_arabic(part).replace(" ", ""))
                except ValueError:
                    folded.append(part)
        text = "".join(folded)
    return text


@dataclass(frozen=True)
class _Markers:
    weights: dict[str, dict[str, float]]  # language -> folded word -> weight


@lru_cache(maxsize=1)
def _markers() -> _Markers:
    raw = yaml.safe_load(resources.files("amane.watch").joinpath("data/language_markers.yaml").read_text("utf-8"))
    weights: dict[str, dict[str, float]] = {}
    for lang, groups in raw.items():
        table: dict[str, float] = {}
        for weight_name, words in groups.items():
            weight = {"strong": 2.0, "normal": 1.0, "weak": 0.5}[weight_name]
            for w in str(words).split():
                table[fold_word(w)] = weight
        weights[lang] = table
    return _Markers(weights)


def is_marker(folded: str) -> bool:
    """Whether a folded word is a marker (mostly a function word) of some language."""
    return any(folded in table for table in _markers().weights.values())


def _strip_arabic_clitics(word: str) -> list[str]:
    """The folded word and its forms without the common proclitics (و ف ب ل ال...)."""
    forms = [word]
    for prefix in ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل"):
        if word.startswith(prefix) and len(word) - len(prefix) >= (3 if len(prefix) > 1 else 4):
            forms.append(word[len(prefix) :])
    return forms


def marker_scores(words: list[str]) -> dict[str, float]:
    """Marker weight per language ("ar", "fr", "en", "darija_ar", "darija_latn") of folded words."""
    m = _markers().weights
    scores = {lang: 0.0 for lang in m}
    for w in words:
        if not w:
            continue
        if w[0].isascii():
            for lang in ("fr", "en", "darija_latn"):
                weight = m[lang].get(w)
                if weight:
                    scores[lang] += weight
            if _ARABIZI_DIGIT_RE.search(w) and not w.isdigit():
                scores["darija_latn"] += 1.0
            elif _DARIJA_NEG_LATN_RE.match(w) and len(w) >= 6 and w not in _NOT_NEGATION:
                scores["darija_latn"] += 1.0
            elif _DARIJA_VERB_LATN_RE.match(w):
                scores["darija_latn"] += 1.0
            elif _DARIJA_ARTICLE_LATN_RE.match(w):
                scores["darija_latn"] += 0.5
        else:
            for lang in ("ar", "darija_ar"):
                table = m[lang]
                weight = table.get(w)
                if weight is None and len(w) > 3:
                    weight = next((table[f] for f in _strip_arabic_clitics(w)[1:] if f in table), None)
                if weight:
                    scores[lang] += weight
            if _DARIJA_NEG_AR_RE.match(w):
                scores["darija_ar"] += 1.0
            elif _DARIJA_VERB_AR_RE.match(w) and w not in _MSA_K_WORDS:
                scores["darija_ar"] += 1.0
            elif _DARIJA_PLURAL_AR_RE.match(w) and w not in _MSA_W_WORDS:
                scores["darija_ar"] += 0.5
    return scores


def detect_language(text: str) -> LanguageResult:
    """Language, script, confidence and per-script letter shares of a post."""
    arabic = latin = 0
    for ch in text:
        if ch.isalpha():
            if is_arabic_char(ch):
                arabic += 1
            elif ord(ch) < 0x0590 and fold_latin_char(ch.lower()):
                latin += 1
    total = arabic + latin
    if total == 0:
        return LanguageResult("unknown", "none", 0.0, {})
    shares = {"arabic": round(arabic / total, 4), "latin": round(latin / total, 4)}
    raw_words = WORD_RE.findall(text)
    words = [fold_word(w) for w in raw_words]
    ar_words = [w for w in words if w and not w[0].isascii()]
    # Latin words that are language, not acronyms or codes ("CVV", "BIN", "iPhone14").
    la_real = [
        f
        for w, f in zip(raw_words, words, strict=True)
        if f.isalpha() and f.isascii() and len(f) >= 2 and not w.isupper()
    ]
    la_words = [w for w in words if w and w[0].isascii() and not w.isdigit()]
    scores = marker_scores(words)
    if ar_words and la_real:
        ar_real = sum(len(w) for w in ar_words)
        la_letters = sum(len(w) for w in la_real)
        minority = min(ar_real, la_letters) / (ar_real + la_letters)
        latin_is_language = len(la_real) >= 3 or scores["fr"] + scores["en"] + scores["darija_latn"] >= 1
        arabic_is_language = max(len(w) for w in ar_words) >= 3
        if minority >= MIXED_SHARE_WORDS and latin_is_language and arabic_is_language:
            return LanguageResult("mixed", "mixed", round(min(1.0, 0.5 + minority), 3), shares)
    scores = marker_scores(words)
    if arabic >= latin:
        script = "arabic"
        dar, msa = scores["darija_ar"], scores["ar"]
        if dar == 0 and msa == 0:
            return LanguageResult("ar", script, 0.3, shares)
        if dar > 0 and dar * 1.5 >= msa:
            return LanguageResult("darija_ar", script, _confidence(dar, msa, len(ar_words)), shares)
        return LanguageResult("ar", script, _confidence(msa, dar, len(ar_words)), shares)
    script = "latin"
    fr, en, dz = scores["fr"], scores["en"], scores["darija_latn"]
    if fr + en + dz == 0:
        return LanguageResult("unknown", script, 0.0, shares)
    # French carrying Darija words, or Darija carrying whole French phrases: code-switching.
    if fr >= 1.5 and dz >= 1 and (fr >= dz or fr >= 0.25 * dz):
        return LanguageResult("mixed", script, _confidence(fr + dz, en, len(la_words)), shares)
    ranked = sorted((("darija_latn", dz), ("fr", fr), ("en", en)), key=lambda kv: -kv[1])
    # Arabizi texts borrow French function words ("la", "a", "de"): Darija markers weigh more.
    if dz > 0 and dz * 1.6 >= ranked[0][1]:
        best, runner = "darija_latn", max(fr, en)
        return LanguageResult(best, script, _confidence(dz, runner, len(la_words)), shares)
    best, top = ranked[0]
    runner = max(v for k, v in ranked if k != best)
    return LanguageResult(best, script, _confidence(top, runner, len(la_words)), shares)


def _confidence(top: float, runner: float, n_words: int) -> float:
    """Margin between the best and the runner-up marker weight, damped for very short texts."""
    margin = (top - runner) / (top + runner) if top + runner else 0.0
    evidence = min(1.0, top / 4.0)
    length = min(1.0, 0.4 + n_words / 10.0)
    return round(max(0.05, min(1.0, (0.5 + 0.5 * margin) * (0.5 + 0.5 * evidence) * length)), 3)
