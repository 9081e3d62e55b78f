"""Darija views for the sentence encoder (amane.watch.darija) and their use by the classifier."""

from __future__ import annotations

import numpy as np
import pytest

from amane.watch.classify import darija_view, embed, embed_views
from amane.watch.darija import arabizi_to_arabic, arabizi_word, darija_to_msa
from amane.watch.lang import detect_language


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("l7chich", "الحشيش"),
        ("3la", "على"),
        ("wa7ed", "واحد"),
        ("lflous", "الفلوس"),
        ("bghit", "بغيت"),
        ("khouya", "خويا"),
        ("9rib", "قريب"),
        ("lbolis", "البوليس"),
    ],
)
def test_arabizi_words_are_written_in_arabic_script(latin: str, arabic: str) -> None:
    assert arabizi_word(latin) == arabic


@pytest.mark.parametrize("word", ["livraison", "the", "pour", "10g", "2024", "operation", "privé"])
def test_french_english_words_and_numbers_stay_latin(word: str) -> None:
    assert arabizi_word(word) is None


def test_strict_mode_rewrites_only_darija_words_in_french_text() -> None:
    text = "j'ai besoin de 10 grammes 3la 7sab ce soir"
    out = arabizi_to_arabic(text, strict=True)
    assert "besoin" in out and "soir" in out and "grammes" in out
    assert "على" in out and "حساب" in out


def test_arabizi_rewrite_keeps_punctuation_and_spacing() -> None:
    assert arabizi_to_arabic("wach kayn, khouya?") == "واش كاين, خويا?"


def test_darija_to_msa_glossary_and_verb_prefixes() -> None:
    out = darija_to_msa("خويا بغيت شي حاجة دابا، كنبيع فالدار البيضاء")
    for msa in ("أخي", "أريد", "الآن", "نبيع", "في الدار"):
        assert msa in out, (msa, out)
    assert "ديال" not in darija_to_msa("السلعة ديال الشمال")
    # Words that only look like Darija verbs are left alone.
    assert darija_to_msa("كتاب كتيبة") == "كتاب كتيبة"


def test_darija_view_only_for_darija_and_mixed() -> None:
    assert darija_view("We sell fresh bread every morning", "en") is None
    assert darija_view("نبيع الخبز كل صباح", "ar") is None
    assert darija_view("wach kayn livraison 3la casa ce soir", "mixed") is None
    assert darija_view("wach kayn chi 7aja daba", "darija_latn") == darija_to_msa(
        arabizi_to_arabic("wach kayn chi 7aja daba")
    )
    assert darija_view("بغيت نمشي دابا", "darija_ar") == "أريد نمشي الآن"


def test_embed_views_averages_the_two_readings_of_a_darija_text() -> None:
    texts = ["We sell fresh bread every morning", "khouya bghit chi 7aja daba"]
    langs = [detect_language(t).language for t in texts]
    assert langs[1] == "darija_latn"
    plain = embed(texts)
    views = embed_views(texts, langs)
    assert views.shape == plain.shape
    assert np.allclose(views[0], plain[0])  # not Darija: unchanged
    assert not np.allclose(views[1], plain[1])
    assert np.linalg.norm(views[1]) == pytest.approx(1.0, abs=1e-6)
    view_vec = embed([darija_view(texts[1], "darija_latn") or ""])[0]
    expected = (plain[1] + view_vec) / np.linalg.norm(plain[1] + view_vec)
    assert np.allclose(views[1], expected, atol=1e-6)
    # Languages detected when not given.
    assert np.allclose(embed_views(texts), views)


def test_embed_views_replace_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from amane.watch import classify

    texts = ["khouya bghit chi 7aja daba", "بغيت نمشي دابا", "Je cherche un appartement à Rabat"]
    langs = ["darija_latn", "darija_ar", "fr"]
    monkeypatch.setattr(classify, "DARIJA_VIEWS", {"darija_latn": "replace", "darija_ar": "replace"})
    got = embed_views(texts, langs)
    expected = embed([darija_view(texts[0], langs[0]) or "", darija_view(texts[1], langs[1]) or "", texts[2]])
    assert np.allclose(got, expected, atol=1e-6)
