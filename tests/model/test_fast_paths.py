"""The fast paths of the validation hot path give what the general code gives.

Each test checks a short cut (ASCII names, ISO dates, Moroccan phone numbers...) against a
plain reference: the general code it skips, written out here as it was before the short cut.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from typing import Any

import phonenumbers
import pytest

from amane.model.errors import InvalidValue, ValidationFailed
from amane.model.schema import load_registry
from amane.model.types import TYPES, _ascii_digits, _phone_e164, clear_caches, name_key


def reference_ascii_digits(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.decimal(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)


def test_ascii_digits_matches_reference_for_every_digit_like_character() -> None:
    specials = [chr(cp) for cp in range(sys.maxunicode + 1) if chr(cp).isdigit() or chr(cp).isnumeric()]
    assert len(specials) > 500
    for ch in specials + ["a", "é", "م", " "]:
        text = f"1{ch}x{ch}"
        assert _ascii_digits(text) == reference_ascii_digits(text), hex(ord(ch))
    assert _ascii_digits("٠٦١٢ ۳۴") == "0612 34"
    assert _ascii_digits("x²") == "x²"  # a superscript is a digit but has no decimal value


_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
_NAME_PUNCT = re.compile(r"[\s\-‐‑–—'’`´.,_/]+")
_FOLD = str.maketrans({"\u0640": None, "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})


def reference_name_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_FOLD)
    text = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
    return _NAME_PUNCT.sub(" ", unicodedata.normalize("NFC", text)).strip()


def test_name_key_matches_full_normalisation() -> None:
    rng = random.Random(3)
    alphabet = "".join(chr(c) for c in range(128)) + "éÉçßİıﬁ" + "محمدأإآىةؤئـَُّ" + "\u0301\u00a0’—"
    samples = ["Ait Ali", "  O'Brien-Smith ", "ÉLODIE", "فاطمة الزهراء", "ﬁfi", "A\tB\nC"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    for text in samples:
        assert name_key(text) == reference_name_key(text), repr(text)


def reference_phone(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "MA")
    except phonenumbers.NumberParseException:
        return "not a number"
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_moroccan_phone_shortcut_matches_phonenumbers() -> None:
    rng = random.Random(4)
    texts = [
        "+212612345678",
        "0612345678",
        "0522123456",
        "+212528123456",
        "0912345678",
        "06123456789",
        "+2120612345678",
    ]
    for prefix in range(100):  # every two-digit start of the national number, fixed and mobile alike
        suffix = f"{rng.randrange(10**7):07d}"
        texts += [f"+212{prefix:02d}{suffix}", f"0{prefix:02d}{suffix}", f"212{prefix:02d}{suffix}"]
    for text in texts:
        assert _phone_e164.__wrapped__(text, "MA") == reference_phone(text), text


def test_phone_cache_gives_strings_and_fresh_keys() -> None:
    clear_caches()
    phone = TYPES["phone"]
    assert phone.clean("06 12 34 56 78") == phone.clean("0612345678") == "+212612345678"
    first = phone.keys("+212612345678")
    first.append("mutated")
    assert phone.keys("+212612345678") == ["+212612345678"]
    for bad, words in (("abc", "is not a phone number"), ("0912345678", "is not a valid phone number")):
        for _ in range(2):  # the second time from the cache, same message
            with pytest.raises(InvalidValue, match=words):
                phone.clean(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-05-22", "1990-05-22"),
        (" ١٩٩٠-٠٥-٢٢ ", "1990-05-22"),
        ("22/05/1990", "1990-05-22"),
        ("2020-02-30", "date.format"),
        ("1990-5-22", "date.format"),
        ("1799-12-31", "date.range"),
        ("2999-01-01", "2999-01-01"),  # no past_only property here
        ("199０-05-22", "1990-05-22"),  # a full-width digit
        ("²990-05-22", "date.format"),
    ],
)
def test_iso_dates_by_slicing(raw: str, expected: str) -> None:
    try:
        got = TYPES["date"].clean(raw)
    except InvalidValue as exc:
        got = exc.rule
    assert got == expected


def test_validate_orders_output_and_reports_errors_in_input_order() -> None:
    person = load_registry().get("Person")
    data: dict[str, Any] = {
        "phone": "0612345678",
        "family_name": "  Alaoui ",
        "nickname": "x",
        "given_name": "Mohamed",
        "birth_date": "2099-01-01",
        "aliases": ["Simo", "", "simo", "Simo", "123"],
    }
    with pytest.raises(ValidationFailed) as info:
        person.validate(data)
    assert [(e.field, e.rule) for e in info.value.errors] == [
        ("data.nickname", "property.unknown"),
        ("data.birth_date", "date.future"),
        ("data.aliases.4", "name.letters"),
    ]
    del data["nickname"], data["birth_date"]
    data["aliases"] = ["Simo", "", "simo", "Simo"]
    cleaned = person.validate(data)
    assert list(cleaned) == ["given_name", "family_name", "aliases", "phone"]
    assert cleaned == {
        "given_name": "Mohamed",
        "family_name": "Alaoui",
        "aliases": ["Simo", "simo"],
        "phone": "+212612345678",
    }
    assert person.caption(cleaned) == "Mohamed Alaoui"
    assert person.keys(cleaned) == [
        ("name", "mohamed"),
        ("name", "alaoui"),
        ("name", "simo"),
        ("phone", "+212612345678"),
    ]
    assert person.references(cleaned) == []
