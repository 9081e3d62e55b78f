"""Consonant skeletons: one reduced alphabet that Arabic letters and Latin spellings both map to.

Arabic writes consonants and long vowels; Latin spellings of Arabic names write every vowel,
in French or English fashion, and disagree on consonants only in predictable ways (ش ch/sh,
ج j/dj/g, ق k/q/g, خ kh/x, غ gh/rh...). So the comparison key of a name part is its consonant
skeleton over 15 classes, computed the same way from both scripts:

=====  ==========================  ===================================================
class  Arabic                      Latin
=====  ==========================  ===================================================
B      ب (پ)                       b, p
T      ت ط ث                       t, th
J      ج (چ)                       j, dj, g before e/i/y
H      ح ه                         h
X      خ                           kh, x
D      د ض ذ ظ                     d, dh
R      ر                           r
Z      ز (ژ)                       z
S      س ص                         s, c before e/i/y, ç
C      ش                           ch, sh, sch
K      ق ك غ (ڭ ݣ گ ڨ)            k, q, c, ck, gh, rh, g, gu before e/i
F      ف (ڤ)                       f, ph, v
L M N  ل م ن                       l m n
=====  ==========================  ===================================================

Vowels and semi-vowels (ا و ي ع ء; a e i o u y w and Arabizi 2 3) are not in the skeleton. Rules
applied identically to both scripts, segment by segment (a segment is a stem, a particle such as
ben/abd, or a suffix such as eddine):

1. the article is removed (ال; Latin el-/l- glued before a consonant, el- before a vowel, e- before
   a doubled sun letter: Ettaleb, Essamlali);
2. Latin doubled consonants collapse (mm, ss; not across a vowel: "Allali" = LL like علالي);
3. H after T or D is dropped (التهامي = Thami = Touhami; الذهبي = Dahbi = Dhahbi);
4. an Arabic final ه (ta marbuta folded, or ه) is dropped; a Latin final h is kept (صلاح = Salah)
   and dropped only as a query reading (فاطمة = Fatimah), except in Allah, where it is ه.

Ambiguities that one script cannot decide become query-side readings (``variants``), never index
keys: a Latin leading L before a vowel may be the article (Lahcen = الحسن) or not (Lahlou = لحلو),
likewise al- (Alaoui = علوي, Alamrani = العمراني); an Arabic article, or a word starting with a
vowel, may be written with a bare L (Larbi = العربي, Laalaoui = العلوي, Lamine = أمين); a final ه may
be written h, or t after alef (حياة = Hayat); and the letter readings listed at LATIN_FLIPS.

A second, vowel-aware "fold" string (consonant classes plus a/i/u) ranks candidates whose
skeletons agree (Ali vs Alaoui, both "L").
"""

from __future__ import annotations

from dataclasses import dataclass

from .normalize import AR, LA

CLASSES = "BTJHXDRZSCKFLMN"

_AR_CLASS: dict[str, str] = {
    "ب": "B",
    "ت": "T",
    "ط": "T",
    "ث": "T",
    "ج": "J",
    "ح": "H",
    "ه": "H",
    "خ": "X",
    "د": "D",
    "ض": "D",
    "ذ": "D",
    "ظ": "D",
    "ر": "R",
    "ز": "Z",
    "س": "S",
    "ص": "S",
    "ش": "C",
    "غ": "K",
    "ق": "K",
    "ك": "K",
    "ف": "F",
    "ل": "L",
    "م": "M",
    "ن": "N",
}
_AR_VOWEL: dict[str, str] = {"ا": "a", "ع": "a", "و": "u", "ي": "i"}

_LA_SINGLE: dict[str, str] = {
    "b": "B",
    "p": "B",
    "t": "T",
    "j": "J",
    "h": "H",
    "d": "D",
    "r": "R",
    "z": "Z",
    "s": "S",
    "k": "K",
    "q": "K",
    "f": "F",
    "l": "L",
    "m": "M",
    "n": "N",
    # Arabizi digits (chat alphabet): 5 = خ, 6 = ط, 7 = ح, 8 = غ, 9 = ق
    "5": "X",
    "6": "T",
    "7": "H",
    "8": "K",
    "9": "K",
}
_LA_VOWEL: dict[str, str] = {"a": "a", "e": "a", "i": "i", "y": "i", "o": "u", "u": "u", "w": "u", "3": "a", "2": ""}
_FRONT = frozenset("eiy")


@dataclass(frozen=True, slots=True)
class Unit:
    """One sound of a segment: a consonant class (upper case) or a vowel (a/i/u). gem marks a
    Latin doubled consonant that collapses into the previous one; src is the letter it came from."""

    sym: str
    gem: bool = False
    src: str = ""


# Alternative readings (query variants). Latin: rh = ر+ح (not غ), sh = س+ه (not ش), kh = ك+ح
# (not خ), g = ج (Egyptian style), c before a/o/u = s (Tlemcani), z = ظ (Mahfouz), one s between
# vowels = z (Ghislane = غزلان). Arabic: ظ ذ written z, ث written s, ج written g (Egyptian
# style), خ written k (Kadija), ر+ح written rh (= the Latin reading of غ), س+ه written sh.
LATIN_FLIPS = ("rh", "g", "c", "sh", "kh", "z", "s", "v")
ARABIC_FLIPS = ("z", "rh", "s", "g", "sh", "kh", "x")
# Arabic letter + ح/ه read as one Latin digraph: ر+ح = rh (غ), س+ه = sh (ش), ك+ح = kh (خ).
_AR_DIGRAPH: dict[str, tuple[str, str]] = {
    "ر": ("rh", "K"),
    "س": ("sh", "C"),
    "ص": ("sh", "C"),
    "ك": ("kh", "X"),
    "ق": ("kh", "X"),
}


def latin_units(text: str, flips: frozenset[str] = frozenset()) -> tuple[list[Unit], set[str]]:
    """Units of one Latin segment (ASCII lower case; an apostrophe only separates letters, as in
    S'himi or M'hamed). Returns (units, the flips that would change something)."""
    out: list[Unit] = []
    seen: set[str] = set()
    i = 0
    n = len(text)
    prev_cons = ""

    def emit(sym: str, src: str) -> None:
        nonlocal prev_cons
        out.append(Unit(sym, sym == prev_cons, src))
        prev_cons = sym

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "s" and nxt == "c" and i + 2 < n and text[i + 2] == "h":
            emit("C", "sch")
            i += 3
        elif ch == "c":
            if nxt == "h":
                emit("C", "ch")
                i += 2
            elif nxt == "k":
                emit("K", "ck")
                i += 2
            elif nxt in _FRONT:
                emit("S", "c")
                i += 1
            else:
                seen.add("c")
                emit("S" if "c" in flips else "K", "c")
                i += 1
        elif nxt == "h" and ch in "srkgdtp":
            if ch == "s":
                seen.add("sh")
                if "sh" in flips:
                    emit("S", "s")
                    emit("H", "h")
                else:
                    emit("C", "sh")
            elif ch == "r":
                seen.add("rh")
                if "rh" in flips:
                    emit("R", "r")
                    emit("H", "h")
                else:
                    emit("K", "rh")
            elif ch == "k":
                seen.add("kh")
                if "kh" in flips:
                    emit("K", "k")
                    emit("H", "h")
                else:
                    emit("X", "kh")
            else:
                emit({"g": "K", "d": "D", "t": "T", "p": "F"}[ch], ch + "h")
            i += 2
        elif ch == "d" and nxt == "j":
            emit("J", "dj")
            i += 2
        elif ch == "g":
            seen.add("g")
            if nxt == "u" and i + 2 < n and text[i + 2] in _FRONT:
                emit("J" if "g" in flips else "K", "gu")  # gue, gui: hard g
                i += 2
            else:
                emit("J" if "g" in flips else "K", "g")
                i += 1
        elif ch in _LA_VOWEL:
            v = _LA_VOWEL[ch]
            if v:
                out.append(Unit(v, False, ch))
            prev_cons = ""
            i += 1
        elif ch == "x":
            emit("K", "x")  # x = ks (Axel, Yaxine); خ is kh
            emit("S", "x")
            i += 1
        elif ch == "s" and nxt and nxt in _LA_VOWEL and out and out[-1].sym.islower() and _LA_VOWEL[nxt]:
            seen.add("s")  # one s between vowels sounds z in French spelling (Ghislane = غزلان)
            emit("Z" if "s" in flips else "S", "s")
            i += 1
        elif ch == "v":
            seen.add("v")
            emit("B" if "v" in flips else "F", "v")  # v = ب in Amazigh and Hebrew names (Youva, Rivka)
            i += 1
        elif ch == "z":
            seen.add("z")
            emit("D" if "z" in flips else "Z", "z")
            i += 1
        elif ch == "'":
            prev_cons = ""
            i += 1
        else:
            sym = _LA_SINGLE.get(ch, "")
            if sym:
                emit(sym, ch)
            i += 1
    return out, seen


def arabic_units(text: str, flips: frozenset[str] = frozenset()) -> tuple[list[Unit], set[str]]:
    """Units of one folded Arabic segment, and the flips that would change something."""
    out: list[Unit] = []
    seen: set[str] = set()
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch in _AR_VOWEL:
            out.append(Unit(_AR_VOWEL[ch], False, ch))
            i += 1
            continue
        sym = _AR_CLASS.get(ch, "")
        if not sym:
            i += 1
            continue
        if nxt in ("ح", "ه") and ch in _AR_DIGRAPH:
            flip, joined = _AR_DIGRAPH[ch]
            seen.add(flip)
            if flip in flips:
                out.append(Unit(joined, False, ch + nxt))
                i += 2
                continue
        if ch in ("ظ", "ذ"):
            seen.add("z")
            if "z" in flips:
                sym = "Z"
        elif ch == "ث":
            seen.add("s")
            if "s" in flips:
                sym = "S"
        elif ch == "ج":
            seen.add("g")
            if "g" in flips:
                sym = "K"
        elif ch == "خ":
            seen.add("x")
            if "x" in flips:
                sym = "K"  # Kadija for Khadija
        out.append(Unit(sym, False, ch))
        i += 1
    return out, seen


def _consonants(units: list[Unit]) -> list[Unit]:
    """Rules 2 and 3: consonant units without geminates and without H after T or D."""
    cons: list[Unit] = []
    for u in units:
        if u.sym.islower() or u.gem:
            continue
        if u.sym == "H" and cons and cons[-1].sym in "TD":
            continue
        cons.append(u)
    return cons


def skeleton_of(units: list[Unit], script: str) -> str:
    """Canonical skeleton of a segment (rules 2-4). Rule 4 differs by script: an Arabic final ه
    (ta marbuta folded, or ه) is dropped; a Latin final h is kept (Salah = صلاح) and only dropped
    as a query variant (Fatimah = فاطمة)."""
    cons = _consonants(units)
    if script == AR and cons and units and units[-1].src == "ه" and cons[-1] is units[-1]:
        cons.pop()
    return "".join(u.sym for u in cons)


def ending_variants(units: list[Unit], script: str) -> list[str]:
    """Query readings of a segment's ending: Arabic final ه kept as H, or read t after alef
    (حياة = Hayat); Latin last-consonant h dropped (Fatimah, Taha), t after a dropped (Najat)."""
    cons = _consonants(units)
    if not cons:
        return []
    out: list[str] = []
    full = "".join(u.sym for u in cons)
    if script == AR:
        if units[-1].src == "ه" and cons[-1] is units[-1]:
            out.append(full)
            if len(units) >= 2 and units[-2].src == "ا":
                out.append(full[:-1] + "T")
    else:
        last = cons[-1]
        k = next(i for i, u in enumerate(units) if u is last)
        tail_vowels = all(u.sym.islower() or u.gem for u in units[k + 1 :])
        if last.sym == "H" and tail_vowels:
            out.append(full[:-1])
        if last.sym == "T" and last.src == "t" and k >= 1 and units[k - 1].sym == "a" and tail_vowels:
            out.append(full[:-1])
    return out


def fold_of(units: list[Unit]) -> str:
    """Vowel-aware form: consonant classes and a/i/u, doubled letters and repeated vowels
    collapsed; a final ه is read as the vowel a (ة)."""
    out: list[str] = []
    for u in units:
        if u.gem:
            continue
        if out and u.sym.islower() and out[-1] == u.sym:
            continue  # "ou" = u, "aa" = a
        out.append(u.sym)
    if units and units[-1].src == "ه" and out and out[-1] == "H":
        if len(out) > 1 and out[-2].islower():
            out.pop()
        else:
            out[-1] = "a"
    return "".join(out)


def join_skeletons(parts: list[tuple[str, str]]) -> str:
    """Concatenate (skeleton, fold) of segments, merging a consonant repeated across the joint
    when no vowel separates them ("Ben" + "Nani" = Bennani, but "Abou" + "Bakr" = Aboubakr)."""
    out = ""
    prev_fold = ""
    for skel, fold in parts:
        if out and skel and out[-1] == skel[0] and prev_fold[-1:].isupper() and fold[:1].isupper():
            skel = skel[1:]
        out += skel
        if fold:
            prev_fold = fold
    return out


def units_of(text: str, script: str, flips: frozenset[str] = frozenset()) -> tuple[list[Unit], set[str]]:
    if script == AR:
        return arabic_units(text, flips)
    if script == LA:
        return latin_units(text, flips)
    raise ValueError(f"unknown script {script!r}")


def deletions(skel: str) -> list[str]:
    """Skeletons one consonant shorter (symmetric-deletion neighbours), in order, deduplicated."""
    seen: dict[str, None] = {}
    for i in range(len(skel)):
        seen.setdefault(skel[:i] + skel[i + 1 :], None)
    return list(seen)
