"""Language and script detection of collected posts (amane.watch.lang)."""

from __future__ import annotations

import pytest

from amane.watch.lang import LANGUAGES, LanguageResult, detect_language


@pytest.mark.parametrize(
    ("text", "language", "script"),
    [
        ("أعلنت المديرية العامة للأمن الوطني أنها أوقفت شخصين يشتبه في تورطهما في قضية نصب.", "ar", "arabic"),
        ("Les services de police ont interpellé deux suspects dans le cadre d'une enquête.", "fr", "latin"),
        ("The police arrested two suspects and said that the investigation is ongoing.", "en", "latin"),
        ("واش كاين شي واحد عندو الطوموبيل ديالو للبيع؟ بغيتها دابا", "darija_ar", "arabic"),
        ("ماعندكش شي نمرة ديال الميكانيسيان؟ الطوموبيل ديالي خسرات", "darija_ar", "arabic"),
        ("wach kayn chi wa7ed 3ndo tomobil lbi3? bghitha daba, khouya", "darija_latn", "latin"),
        ("salam 3likom, fin ghadi tkoun lyoum? nmchiw m3a b3d l match", "darija_latn", "latin"),
        ("السلام عليكم, je cherche un appartement à louer f Rabat, واش كاين شي حاجة؟", "mixed", "mixed"),
        ("wach nta m3a la réunion demain? j'ai besoin dyal les documents", "mixed", "latin"),
    ],
)
def test_clear_examples(text: str, language: str, script: str) -> None:
    result = detect_language(text)
    assert result.language == language, result
    assert result.script == script
    assert 0.0 < result.confidence <= 1.0


def test_shares_are_letter_shares() -> None:
    result = detect_language("abcd ابجد")  # 4 Latin + 4 Arabic letters
    assert result.shares == {"arabic": 0.5, "latin": 0.5}
    only_arabic = detect_language("مرحبا 123 !!!")
    assert only_arabic.shares == {"arabic": 1.0, "latin": 0.0}
    assert only_arabic.script == "arabic"


@pytest.mark.parametrize("text", ["", "   ", "123 456 !!!", "😀😀"])
def test_no_letters_is_unknown(text: str) -> None:
    assert detect_language(text) == LanguageResult("unknown", "none", 0.0, {})


def test_arabizi_digits_count_as_darija() -> None:
    # No marker word, only Arabizi spellings with 3/7/9 inside words.
    assert detect_language("m3ak s7abi f l9hwa").language == "darija_latn"
    # Digits standing alone are numbers, not letters.
    assert detect_language("Order 3 items for 7 euros each").language == "en"


def test_acronyms_do_not_make_arabic_text_mixed() -> None:
    result = detect_language("نبيع أرقام CVV أوروبية، قائمة BIN متوفرة للجميع")
    assert result.language == "ar"
    assert result.script == "arabic"


def test_results_are_known_languages_on_the_data_set() -> None:
    from amane.watch.classify import evaluation_examples

    for example in evaluation_examples()[:50]:
        assert detect_language(example["text"]).language in LANGUAGES
