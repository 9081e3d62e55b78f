"""Watchlist terms matched across scripts and spellings."""

from __future__ import annotations

import pytest

from amane.watch import watchlist as wlmod
from amane.watch.watchlist import Hit, Term, Watchlist, validate_term


def spans(wl: Watchlist, text: str) -> list[tuple[str, str]]:
    return [(h.term_id, h.matched) for h in wl.match(text)]


def test_keyword_across_scripts_arabizi_and_clitics() -> None:
    wl = Watchlist([Term("h", "keyword", "حشيش", "drugs")])
    text = "Kayn 7achich w hashish, HACHICH mzyan. والحشيش متوفر، الحشيش. Hachage de viande."
    assert spans(wl, text) == [
        ("h", "7achich"),
        ("h", "hashish"),
        ("h", "HACHICH"),
        ("h", "والحشيش"),
        ("h", "الحشيش"),
    ]


def test_glued_darija_article_in_latin_letters() -> None:
    wl = Watchlist([Term("hrig", "keyword", "الحريك"), Term("kif", "keyword", "kif")])
    assert spans(wl, "lhrig w l7rig, lkif, hrig, lhbal") == [
        ("hrig", "lhrig"),
        ("hrig", "l7rig"),
        ("kif", "lkif"),
        ("hrig", "hrig"),
    ]


def test_offsets_point_into_original_text() -> None:
    wl = Watchlist([Term("k", "keyword", "karkoubi")])
    text = "🔥🔥 بيع القرقوبي و Qarqoubi"
    hits = wl.match(text)
    assert [text[h.start : h.end] for h in hits] == ["القرقوبي", "Qarqoubi"]
    assert all(isinstance(h, Hit) and h.matched == text[h.start : h.end] for h in hits)


def test_phrase_in_sequence_only() -> None:
    wl = Watchlist([Term("p", "phrase", "vente de chira")])
    assert spans(wl, "VENTE DE CHIRA à Tanger") == [("p", "VENTE DE CHIRA")]
    assert spans(wl, "chira de vente") == []


def test_short_words_need_same_spelling() -> None:
    # "bus" and "بس" have a one-consonant-class skeleton: no cross-script match for them.
    wl = Watchlist([Term("b", "keyword", "bus")])
    assert spans(wl, "بس و bas و bus") == [("b", "bus")]


def test_name_term_matches_other_script_spellings() -> None:
    wl = Watchlist([Term("n", "name", "محمد العلوي")])
    text = "Contact: Mohamed Alaoui (Tanger). Aussi Mohammed El Alaoui. Pas Ahmed Bennani ni Mohamed Ali."
    assert spans(wl, text) == [("n", "Mohamed Alaoui"), ("n", "Mohammed El Alaoui")]
    assert spans(wl, "محمد علي و محمد العلوي و Mohamed Aloui") == [("n", "محمد العلوي"), ("n", "Mohamed Aloui")]
    latin = Watchlist([Term("n2", "name", "Mohamed Alaoui")])
    assert spans(latin, "رأيت محمد العلوي أمس") == [("n2", "محمد العلوي")]


def test_name_initials_and_compounds() -> None:
    wl = Watchlist([Term("n", "name", "محمد العلوي"), Term("f", "name", "Fatima Zahra Bennani")])
    text = "Signé M. EL ALAOUI; témoin K. Alaoui. Fatima-Zahra BENNANI, pas Fatima Bennani."
    assert spans(wl, text) == [("n", "M. EL ALAOUI"), ("f", "Fatima-Zahra BENNANI")]
    abd = Watchlist([Term("a", "name", "عبد العزيز بناني")])
    assert spans(abd, "Abdelaziz Bennani / Abd El Aziz BENNANI / Aziz Bennouna") == [
        ("a", "Abdelaziz Bennani"),
        ("a", "Abd El Aziz BENNANI"),
    ]


def test_regex_terms_one_pass_and_case_insensitive() -> None:
    wl = Watchlist(
        [Term("r1", "regex", r"\bcvv\d?\b"), Term("r2", "regex", r"\d{3,4} ?dh"), Term("k", "keyword", "x9")]
    )
    assert spans(wl, "CVV2 frais à 300 DH et 50dh") == [("r1", "CVV2"), ("r2", "300 DH")]


def test_regex_timeout_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    wl = Watchlist([Term("r", "regex", "a"), Term("k", "keyword", "chira")])

    class Slow:
        pattern = "a"

        def finditer(self, text: str, timeout: float) -> list[object]:
            raise TimeoutError("regex timed out")

    monkeypatch.setattr(wl, "_regexes", [(wl._regexes[0][0], Slow())])
    monkeypatch.setattr(wl, "_hs", None)
    assert spans(wl, "a chira") == [("k", "chira")]


def test_hundreds_of_terms() -> None:
    terms = [Term(f"t{i}", "keyword", f"mot{i}x") for i in range(500)]
    terms.append(Term("last", "phrase", "fin du texte"))
    wl = Watchlist(terms)
    assert spans(wl, "le mot17x et mot499x puis fin du texte") == [
        ("t17", "mot17x"),
        ("t499", "mot499x"),
        ("last", "fin du texte"),
    ]


@pytest.mark.parametrize(
    ("kind", "pattern", "rule"),
    [
        ("keyword", "", "pattern: required"),
        ("keyword", "x" * 400, "pattern: max_length"),
        ("keyword", "!!!", "pattern: no_words"),
        ("color", "red", "kind: one_of"),
        ("regex", "[a-", "pattern: regex"),
        ("regex", "(a+)+$", "pattern: regex_backtracking"),
        ("regex", r"(\w+\s?)*$", "pattern: regex_backtracking"),
        ("regex", "x*", "pattern: regex_empty_match"),
        ("name", "Alaoui", "pattern: name_parts"),
        ("name", "El Ben", "pattern: name"),
    ],
)
def test_validate_term_errors(kind: str, pattern: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        validate_term(kind, pattern)


def test_valid_terms_and_duplicate_ids() -> None:
    validate_term("regex", r"\b(?:\d{4}[ -]?){3}\d{4}\b")
    validate_term("name", "Fatima Zahra Bennani")
    with pytest.raises(ValueError, match="id: unique"):
        Watchlist([Term("a", "keyword", "x1"), Term("a", "keyword", "x2")])


def test_without_hyperscan_regexes_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wlmod, "_hyperscan_db", lambda patterns: None)
    wl = Watchlist([Term("r", "regex", r"\bbc1[a-z0-9]{6,}")])
    assert spans(wl, "pay to BC1QXY2KGDYGJRSQTZQ2N0YRF2493P83KKFJHX0WLH") == [
        ("r", "BC1QXY2KGDYGJRSQTZQ2N0YRF2493P83KKFJHX0WLH")
    ]
