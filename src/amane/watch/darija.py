"""Views of Moroccan Darija text for the multilingual sentence encoder, written by hand.

Google's Universal Sentence Encoder knows Arabic (MSA), French and English but has never seen
Darija, and reads Arabizi (Darija in Latin letters with the digits 3, 7, 9) as noise. Before a
Darija post is embedded, it is therefore also rewritten the way the encoder can read it:

- :func:`arabizi_to_arabic`: Arabizi -> Arabic script, word by word (a small dictionary of common
  Darija words, then letter rules: ``3`` -> ع, ``7`` -> ح, ``9`` -> ق, ``ch`` -> ش, ``kh`` -> خ,
  ``gh`` -> غ, long vowels written, short ``e`` dropped, the article ``l`` glued to a consonant
  written ال); words that look French or English (accents, ``p``/``v``/``x``, French endings, the
  function words of ``data/language_markers.yaml``) are left in Latin letters;
- :func:`darija_to_msa`: Darija words in Arabic script -> their Modern Standard Arabic equivalent
  (a glossary of function words and everyday words: ديال, كاين, بغيت, دابا, الفلوس...), the
  Darija verb prefixes ``ك`` / ``غا`` and the glued preposition ``ف`` before the article split off.

Both are word-level rewrites for the encoder only (no offsets are kept: evidence spans come from the
original text). The glossary and the rules were written from general knowledge of Darija and
checked on the training split only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from amane.names.normalize import fold_latin_char

from .lang import WORD_RE, _markers

# Common Darija words in Arabizi -> Arabic script (spelling variants folded by _latin_key below).
_ARABIZI_WORDS: dict[str, str] = {
    "w": "و", "l": "ل", "f": "ف", "b": "ب", "d": "د", "o": "و", "u": "و",
    "dyal": "ديال", "dial": "ديال", "dyali": "ديالي", "dyalek": "ديالك", "dyalk": "ديالك", "dyalo": "ديالو",
    "dyalha": "ديالها", "dyalna": "ديالنا", "dyalkom": "ديالكم", "dyalhom": "ديالهم",
    "3la": "على", "3ala": "على", "m3a": "مع", "m3ak": "معاك", "m3ah": "معاه", "m3aya": "معايا", "mn": "من",
    "men": "من", "fin": "فين", "fine": "فين", "mnin": "منين", "ila": "إلا", "ola": "ولا", "wla": "ولا",
    "wach": "واش", "kayn": "كاين", "kain": "كاين", "kayna": "كاينة", "kaynin": "كاينين", "chi": "شي",
    "bla": "بلا", "ghir": "غير", "had": "هاد", "hadi": "هادي", "hada": "هادا", "hadok": "هادوك",
    "li": "اللي", "lli": "اللي", "7ta": "حتى", "hta": "حتى", "ghadi": "غادي", "gha": "غا", "daba": "دابا",
    "bzaf": "بزاف", "bzzaf": "بزاف", "machi": "ماشي", "kifach": "كيفاش", "kifax": "كيفاش", "chhal": "شحال",
    "ch7al": "شحال", "rah": "راه", "raha": "راها", "rahom": "راهم", "bach": "باش", "kolchi": "كلشي",
    "koulchi": "كلشي", "kol": "كل", "ana": "أنا", "nta": "نتا", "nti": "نتي", "howa": "هو", "hiya": "هي",
    "homa": "هوما", "hna": "حنا", "7na": "حنا", "ntoma": "نتوما", "liya": "ليا", "lia": "ليا", "lik": "ليك",
    "lih": "ليه", "liha": "ليها", "lina": "لينا", "3ndi": "عندي", "3andi": "عندي", "3ndek": "عندك",
    "3ndk": "عندك", "3ndo": "عندو", "3nd": "عند", "3nda": "عندها", "3ndna": "عندنا", "3ndhom": "عندهم",
    "bghit": "بغيت", "bgha": "بغا", "bghiti": "بغيتي", "mzyan": "مزيان", "mzian": "مزيان", "zwin": "زوين",
    "wa7ed": "واحد", "wahed": "واحد", "wa7da": "وحدة", "jouj": "جوج", "joj": "جوج", "tlata": "تلاتة",
    "khouya": "خويا", "khoya": "خويا", "sa7bi": "صاحبي", "drari": "الدراري", "nas": "ناس", "flous": "فلوس",
    "lflous": "الفلوس", "floss": "فلوس", "dghya": "دغيا", "daghya": "دغيا", "sift": "صيفط", "sifet": "صيفط",
    "lyoum": "اليوم", "lyom": "اليوم", "ghda": "غدا", "lbare7": "البارح", "db": "دابا", "walo": "والو",
    "mazal": "مازال", "ba9i": "باقي", "baqi": "باقي", "tanja": "طنجة", "casa": "كازا", "wjda": "وجدة",
}

_LATIN_PAIRS = (("ch", "ش"), ("sh", "ش"), ("kh", "خ"), ("gh", "غ"), ("ou", "و"), ("th", "ت"), ("dj", "ج"))
_LATIN_LETTERS = {
    "b": "ب", "t": "ت", "j": "ج", "d": "د", "r": "ر", "z": "ز", "s": "س", "f": "ف", "q": "ق", "k": "ك",
    "l": "ل", "m": "م", "n": "ن", "h": "ه", "g": "ك", "c": "ك", "w": "و", "y": "ي", "a": "ا", "i": "ي",
    "o": "و", "u": "و", "p": "ب", "v": "ف", "x": "كس",
    "2": "ء", "3": "ع", "4": "", "5": "خ", "6": "ط", "7": "ح", "8": "غ", "9": "ق",
}
_FRENCH_SHAPE_RE = re.compile(r"[pvx]|(?:tion|aison|ment|ique|eur|euse|age|ette|ance|ence|ée|es|er)$")
_ARABIZI_SHAPE_RE = re.compile(r"[a-z][2379]|[2379][a-z]|^(?:ka|ta|gha)[nyt]|^l[bcdfghjklmnqrstwz]")


def _foreign_marker(word: str) -> bool:
    """A French or English function word (``data/language_markers.yaml``)."""
    weights = _markers().weights
    return word in weights.get("fr", {}) or word in weights.get("en", {})


def _latin_key(word: str) -> str:
    return "".join(ch if ch.isdigit() else fold_latin_char(ch) for ch in word.lower())


@lru_cache(maxsize=65536)
def arabizi_word(word: str, strict: bool = False) -> str | None:
    """One Latin word as Darija in Arabic script, or None when it looks French/English (left as is);
    ``strict``: only known Darija words and words with Arabizi digits (in French-Arabic mixed text)."""
    w = _latin_key(word).replace("'", "")
    if not w or w[0].isdigit() and not re.match(r"^[2379][a-z]", w):  # 10g, 2024; but 3la, 7ta
        return None
    if w in _ARABIZI_WORDS:
        return _ARABIZI_WORDS[w]
    if strict and not re.search(r"[a-z][2379]|[2379][a-z]", w):
        return None
    if not _ARABIZI_SHAPE_RE.search(w) and (_foreign_marker(w) or _FRENCH_SHAPE_RE.search(w) or len(w) > 9):
        return None
    article = ""
    if len(w) >= 4 and w[0] == "l" and w[1] not in "aeiouy":
        article, w = "ال", w[1:]
    out: list[str] = []
    i = 0
    while i < len(w):
        pair = w[i : i + 2]
        for latin, arabic in _LATIN_PAIRS:
            if pair == latin:
                out.append(arabic)
                i += 2
                break
        else:
            ch = w[i]
            if ch == "e":  # a short vowel: not written (but a word-initial one is an alif)
                if i == 0:
                    out.append("ا")
            elif ch == "a" and i == 0:
                out.append("ا")
            else:
                out.append(_LATIN_LETTERS.get(ch, ""))
            i += 1
    text = re.sub(r"(.)\1+", r"\1", "".join(out))  # doubled letters (shadda is not written)
    return article + text if text else None


def arabizi_to_arabic(text: str, strict: bool = False) -> str:
    """Arabizi words of a text rewritten in Arabic script; other words and punctuation unchanged
    (``strict``: see :func:`arabizi_word`)."""

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        if not word[0].isascii():
            return word
        return arabizi_word(word, strict) or word

    return WORD_RE.sub(sub, text)


# Darija (Arabic script, as folded by amane.names.normalize: no hamza forms, ة -> ه, ى -> ي) -> MSA.
_DARIJA_MSA: dict[str, str] = {
    "ديال": "", "ديالي": "لي", "ديالك": "لك", "ديالو": "له", "ديالها": "لها", "ديالنا": "لنا",
    "ديالكم": "لكم", "ديالهم": "لهم", "ديالت": "", "كاين": "يوجد", "كاينه": "توجد", "كاينين": "يوجد",
    "واش": "هل", "شي": "بعض", "بلا": "بدون", "غير": "فقط", "هاد": "هذا", "هادي": "هذه", "هادا": "هذا",
    "هادوك": "أولئك", "داك": "ذلك", "ديك": "تلك", "اللي": "الذي", "غادي": "سوف", "غاديه": "سوف",
    "دابا": "الآن", "بزاف": "كثيرا", "ماشي": "ليس", "كيفاش": "كيف", "شحال": "كم", "فين": "أين",
    "منين": "من أين", "علاش": "لماذا", "شنو": "ماذا", "اشنو": "ماذا", "شكون": "من", "راه": "", "راها": "",
    "راهم": "", "باش": "لكي", "ولا": "أو", "كلشي": "كل شيء", "حنا": "نحن", "نتا": "أنت", "نتي": "أنت",
    "نتوما": "أنتم", "هوما": "هم", "ليا": "لي", "ليك": "لك", "ليه": "له", "ليها": "لها", "لينا": "لنا",
    "عندي": "لدي", "عندك": "لديك", "عندو": "لديه", "عندها": "لديها", "عندنا": "لدينا", "عندهم": "لديهم",
    "بغيت": "أريد", "بغا": "يريد", "بغيتي": "تريد", "بغينا": "نريد", "كنبغي": "أحب", "مزيان": "جيد",
    "مزيانه": "جيدة", "زوين": "جميل", "زوينه": "جميلة", "واعر": "رائع", "واحد": "أحد", "وحده": "واحدة",
    "جوج": "اثنان", "بجوج": "باثنين", "خويا": "أخي", "صاحبي": "صديقي", "الدراري": "الشباب",
    "دراري": "شباب", "ناس": "الناس", "فلوس": "مال", "الفلوس": "المال", "دغيا": "بسرعة", "صيفط": "أرسل",
    "ميساج": "رسالة", "نمره": "رقم", "النمره": "الرقم", "سيمانه": "أسبوع", "السيمانه": "الأسبوع",
    "خدمه": "عمل", "الخدمه": "العمل", "خدام": "عامل", "خدامه": "عاملة", "خدامات": "عاملات",
    "الخلاص": "الدفع", "خلص": "ادفع", "البوليس": "الشرطة", "السلعه": "البضاعة", "سلعه": "بضاعة",
    "البلايص": "الأماكن", "بلاصه": "مكان", "مول": "صاحب", "تقدر": "تستطيع", "نقدر": "أستطيع",
    "اليوم": "اليوم", "غدا": "غدا", "البارح": "أمس", "والو": "لا شيء", "مازال": "ما زال", "باقي": "ما زال",
    "كازا": "الدار البيضاء", "بزز": "بالقوة", "حتى": "حتى",
    "لفوق": "فوق", "تما": "هناك", "هنا": "هنا", "ملي": "عندما", "قبل": "قبل", "بعد": "بعد", "شلا": "كثير",
    "فابور": "مجانا", "الكاش": "النقد", "كاش": "نقدا", "كارطه": "بطاقة", "الكارطه": "البطاقة",
    "الكارطات": "البطاقات", "كارطات": "بطاقات", "البنكه": "البنك", "الحريك": "الهجرة السرية",
    "الحراك": "المهاجرين", "حراك": "مهاجر", "نحرك": "أهاجر", "يحركو": "يهاجرون", "الفلوكه": "القارب",
    "فلوكه": "قارب", "الكيف": "القنب", "الشيرا": "الحشيش", "القرقوبي": "الحبوب المخدرة",
}
# كنبيع / كيبيع -> نبيع / يبيع (not كت-: كتاب, كتيبة, كتامة are not verbs)
_DARIJA_VERB_RE = re.compile(r"^(?:كا|ك|غا)(?=[ني][\u0621-\u064A]{3,}$)")


@lru_cache(maxsize=65536)
def _msa_word(word: str) -> str:
    from amane.names.normalize import normalize_arabic

    folded = normalize_arabic(word)
    if folded in _DARIJA_MSA:
        return _DARIJA_MSA[folded]
    for prefix, msa in (("فال", "في ال"), ("ف", "في "), ("و", "و")):
        if folded.startswith(prefix) and len(folded) - len(prefix) >= 3:
            rest = folded[len(prefix) :] if prefix != "فال" else "ال" + folded[3:]
            if rest in _DARIJA_MSA and _DARIJA_MSA[rest]:
                return (msa if prefix != "فال" else "في ") + _DARIJA_MSA[rest]
            if prefix == "فال":
                return "في " + rest
    if _DARIJA_VERB_RE.match(folded):
        return _DARIJA_VERB_RE.sub("", folded)
    return word


def darija_to_msa(text: str) -> str:
    """Darija words of an Arabic-script text replaced by their MSA equivalents (glossary + verb prefixes)."""

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        if word[0].isascii():
            return word
        return _msa_word(word)

    return re.sub(r"\s{2,}", " ", WORD_RE.sub(sub, text)).strip()
