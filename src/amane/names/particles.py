"""Name particles, titles and compound heads, as data (Latin forms are folded: lower case, ASCII).

Hand-written: no library lists Maghrebi name particles with their French and English spellings.
"""

from __future__ import annotations

import re

# The article written as its own word: "El Alaoui", "Al-Fassi", "L'Alaoui".
ARTICLES_LA = frozenset({"el", "al", "l", "ell", "ul"})
ARTICLES_AR = frozenset({"ال"})
# The article assimilated to a sun letter, written apart: "Es-Samlali", "Ech Chaoui", "Ed-Dine".
# Only an article when the next word starts with the same consonant letters.
SUN_ARTICLE_RE = re.compile(r"^[eau](ch|sh|dh|th|ss|s|dd|d|tt|t|nn|n|rr|r|zz|z)$")

# Prefix particles joined to the next word, with the fixed skeleton and fold of the particle, so
# that Ben/Bin/Ibn/بن/ابن all give the same key.
PREFIXES_LA: dict[str, str] = {
    "ben": "ben",
    "bel": "bel",
    "bin": "ben",
    "ibn": "ben",
    "ebn": "ben",
    "bent": "bent",
    "bint": "bent",
    "ould": "ould",
    "oueld": "ould",
    "ouled": "ould",
    "oulad": "ould",
    "ulad": "ould",
    "ait": "ait",
    "ayt": "ait",
    "id": "id",
    "abou": "bou",
    "abu": "bou",
    "abi": "bou",
    "bou": "bou",
    "oum": "oum",
    "om": "oum",
    "umm": "oum",
    "um": "oum",
    "abd": "abd",
    "abdel": "abd",
    "abdal": "abd",
    "abdul": "abd",
    "abdoul": "abd",
    "abdol": "abd",
    "abdil": "abd",
    "abde": "abd",
    "abda": "abd",
}
PREFIXES_AR: dict[str, str] = {
    "بن": "ben",
    "ابن": "ben",
    "بنت": "bent",
    "ولد": "ould",
    "اولاد": "ould",
    "ايت": "ait",
    "ايد": "id",
    "ابو": "bou",
    "ابي": "bou",
    "بو": "bou",
    "ام": "oum",
    "عبد": "abd",
}
# "Abdou"/"Abdo" is a name of its own ("Abdou Alaoui") unless one of the divine names follows.
ABDOU_LA = frozenset({"abdou", "abdu", "abdo"})
PREFIX_FORMS: dict[str, tuple[str, str]] = {
    # kind: (skeleton, fold)
    "ben": ("BN", "BaN"),
    "bel": ("BL", "BaL"),
    "bent": ("BNT", "BaNT"),
    "ould": ("LD", "uLD"),
    "ait": ("T", "aiT"),
    "id": ("D", "iD"),
    "bou": ("B", "aBu"),
    "oum": ("M", "uM"),
    "abd": ("BD", "aBD"),
}
FILIATION_KINDS = frozenset({"ben", "bent", "ould", "ait", "id"})  # "bel" is part of family names

# Suffixes joined to the previous word: "Nour Eddine", "Fath Allah".
SUFFIXES_LA = frozenset(
    {
        "eddine",
        "eddin",
        "edine",
        "edin",
        "addine",
        "addin",
        "uddin",
        "uddine",
        "ouddine",
        "ddine",
        "dine",
        "din",
        "allah",
        "ellah",
        "illah",
        "ullah",
        "alla",
        "ella",
    }
)
SUFFIXES_AR = frozenset({"الدين", "الله"})
GLUED_SUFFIX_LA_RE = re.compile(r"^(?P<head>[a-z]{3,}?)(?P<tail>(?:e|a|ou|u)?dd?(?:i|y)nn?e?|(?:a|e|i|ou|u)llah)$")
GLUED_SUFFIX_AR = ("الدين", "الله")

# Titles and honorifics: kept in the analysis, left out of keys and scores (often omitted).
TITLES_LA = frozenset(
    {
        "moulay",
        "moulai",
        "mulay",
        "mly",
        "lalla",
        "lala",
        "sidi",
        "si",
        "hadj",
        "haj",
        "hajj",
        "hadja",
        "hajja",
        "elhadj",
        "elhaj",
        "mr",
        "mme",
        "mlle",
        "dr",
    }
)
TITLES_AR = frozenset(
    {"مولاي", "مولاى", "للا", "لالا", "لاله", "سيدي", "سي", "الحاج", "حاج", "الحاجه", "حاجه", "السيد", "السيده"}
)

# Abbreviations officers write for Mohamed.
ABBREVIATIONS_LA: dict[str, str] = {"med": "mohamed", "mohd": "mohamed", "mhd": "mohamed", "md": "mohamed"}
MOHAMED_SKELETON = "MHMD"

# Compound given names written as two words, one word or hyphenated: (head, tail) skeletons.
COMPOUNDS: frozenset[tuple[str, str]] = frozenset({("FTM", "ZHR")})

# The divine names that follow عبد, Arabic (folded); their skeletons decide whether "Abdou" + X is
# the compound Abd-X.
DIVINE_NAMES_AR = (
    "الله الرحمن الرحيم الملك القدوس السلام المومن المهيمن العزيز الجبار المتكبر الخالق الباري المصور "
    "الغفار القهار الوهاب الرزاق الفتاح العليم القابض الباسط الخافض الرافع المعز المذل السميع البصير "
    "الحكم العدل اللطيف الخبير الحليم العظيم الغفور الشكور العلي الكبير الحفيظ المقيت الحسيب الجليل "
    "الكريم الرقيب المجيب الواسع الحكيم الودود المجيد الباعث الشهيد الحق الوكيل القوي المتين الولي "
    "الحميد المحصي المبدي المعيد المحيي المميت الحي القيوم الواجد الماجد الواحد الاحد الصمد القادر "
    "المقتدر المقدم الموخر الاول الاخر الظاهر الباطن الوالي المتعالي البر التواب المنتقم العفو الروف "
    "الغني المغني المانع الضار النافع النور الهادي البديع الباقي الوارث الرشيد الصبور الاله النبي "
    "المطلب الجليل الرزاق المالك الستار"
).split()
