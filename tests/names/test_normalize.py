"""One test per normalisation rule (amane.names.normalize)."""

from __future__ import annotations

import pytest

from amane.names import EmptyNameError, NameTooLongError, normalize_arabic, normalize_latin
from amane.names.normalize import clean, scripts_of


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("أحمد", "احمد"),  # hamza above alef
        ("إبراهيم", "ابراهيم"),  # hamza below alef
        ("آمنة", "امنه"),  # madda; and ta marbuta -> ha
        ("ٱلحسن", "الحسن"),  # alef wasla
        ("مصطفى", "مصطفي"),  # alef maqsura -> ya
        ("رؤوف", "رووف"),  # waw with hamza
        ("هانئ", "هاني"),  # ya with hamza
        ("وفاء", "وفا"),  # lone hamza dropped
        ("زكرياء", "زكريا"),
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("محـــمد", "محمد"),  # tatweel
        ("کریم", "كريم"),  # Persian kaf and ya
        ("ڭرواني", "كرواني"),  # Maghrebi gaf (ڭ) -> kaf
        ("أݣادير", "اكادير"),  # IRCAM gaf (ݣ) -> kaf
        ("گلميم", "كلميم"),  # Persian gaf -> kaf
        ("ڤيكتور", "فيكتور"),  # ve -> fa
        ("پول", "بول"),  # pe -> ba
        ("ﷲ", "الله"),  # ligature (NFKC)
        ("ﻣﺤﻤﺪ", "محمد"),  # presentation forms (NFKC)
    ],
)
def test_arabic_folding(written: str, folded: str) -> None:
    assert normalize_arabic(written) == folded


def test_ta_marbuta_inside_a_word_splits_the_word() -> None:
    assert normalize_arabic("فاطمةالزهراء") == "فاطمه الزهرا"


def test_arabic_indic_digits_are_digits_and_dropped_from_names() -> None:
    cleaned = clean("محمد ١٢٣")
    assert [t.text for t in cleaned.tokens] == ["محمد"]
    assert cleaned.digits_dropped
    assert clean("7amid ٣").digits_dropped
    assert [t.text for t in clean("Ahmed٢").tokens] == ["ahmed2"]  # with Latin letters: Arabizi digit


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("MOHAMMED", "mohammed"),  # case
        ("Saïd Chérif", "said cherif"),  # accents
        ("Lahçen", "lahsen"),  # c cedilla is s
        ("Straße", "strasse"),
        ("M'hamed", "mhamed"),  # apostrophe
        ("M’hamed", "mhamed"),  # typographic apostrophe
        ("Fatima-Zohra", "fatima zohra"),  # hyphen
        ("Fatima – Zohra", "fatima zohra"),  # dash and spaces
        ("  Mohamed   Alaoui  ", "mohamed alaoui"),  # spacing
        ("Ｍｏｈａｍｅｄ", "mohamed"),  # full-width (NFKC)
    ],
)
def test_latin_folding(written: str, folded: str) -> None:
    assert normalize_latin(written) == folded


def test_control_and_format_characters_are_removed() -> None:
    assert normalize_latin("Mo\u200bha\x00med\x7f") == "mohamed"
    assert normalize_arabic("مح\u200fمد\ufeff") == "محمد"


def test_mixed_scripts_in_one_word_are_split() -> None:
    cleaned = clean("Mohamedمحمد")
    assert [(t.text, t.script) for t in cleaned.tokens] == [("mohamed", "la"), ("محمد", "ar")]
    assert cleaned.mixed_scripts
    assert scripts_of("Mohamedمحمد") == frozenset({"ar", "la"})


def test_display_keeps_what_was_written() -> None:
    tok = clean("فاطمة").tokens[0]
    assert tok.text == "فاطمه" and tok.display == "فاطمة"


@pytest.mark.parametrize("text", ["", "   ", "123", "!!!", "\x00\x01", "٠١٢"])
def test_empty_names_are_refused(text: str) -> None:
    with pytest.raises(EmptyNameError):
        clean(text)


def test_long_input_is_refused_before_any_work() -> None:
    with pytest.raises(NameTooLongError, match="at most 200"):
        clean("x" * 10_000)
    with pytest.raises(NameTooLongError):
        clean(" ".join(["Mohamed"] * 30))
    with pytest.raises(NameTooLongError, match="word"):
        clean("a" * 60)


def test_not_a_string_is_refused() -> None:
    with pytest.raises(EmptyNameError):
        clean(None)  # type: ignore[arg-type]
