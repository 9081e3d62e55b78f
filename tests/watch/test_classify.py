"""Category classification of collected posts (amane.watch.classify) and its shipped data set."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

import pytest
from bench.watch_classify import keyword_baseline

from amane.watch.classify import (
    CATEGORIES,
    EVAL_LANGUAGES,
    MODES,
    Classifier,
    _word_forms,
    classify,
    evaluate,
    evaluation_examples,
    fold_token,
    lexicon,
    skeleton,
    tokens,
    training_examples,
)


def _records() -> list[dict[str, Any]]:
    raw = resources.files("amane.watch").joinpath("data/posts.jsonl").read_text("utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


# -- data set ----------------------------------------------------------------------------------------


def test_data_set_shape() -> None:
    records = _records()
    assert len(records) >= 700
    assert len({r["id"] for r in records}) == len(records)
    assert len({r["text"] for r in records}) == len(records)
    for r in records:
        assert set(r) == {"id", "text", "labels", "language", "split", "source"}
        assert r["split"] in ("train", "test")
        assert r["language"] in EVAL_LANGUAGES
        assert set(r["labels"]) <= set(CATEGORIES)
        assert r["source"].startswith("written for Amane")
    test_share = sum(r["split"] == "test" for r in records) / len(records)
    assert 0.2 <= test_share <= 0.45  # 25 % since the third training batch (41 % before the second)
    per_cell = Counter((label, r["language"]) for r in records for label in (r["labels"] or ["none"]))
    for lang in EVAL_LANGUAGES:
        for cat in CATEGORIES:
            assert per_cell[(cat, lang)] >= 12, (cat, lang)
        assert per_cell[("none", lang)] >= 25, lang
    # Both splits hold every category in every language.
    for split in ("train", "test"):
        cells = {(label, r["language"]) for r in records if r["split"] == split for label in r["labels"] or ["none"]}
        assert len(cells) == (len(CATEGORIES) + 1) * len(EVAL_LANGUAGES)


def test_splits_are_disjoint_and_exposed() -> None:
    train = training_examples()
    test = evaluation_examples()
    assert len(train) + len(test) == len(_records())
    assert not {t for t, _ in train} & {e["text"] for e in test}
    assert set(test[0]) == {"id", "text", "labels", "language", "source"}


#: Lexicon terms that occur in the held-out split and not in the training split, as they stood when
#: the held-out split was written (2026-11-30, by authors who never saw the lexicon; the lexicon was
#: last changed on 2026-11-29). Any other such term was added after, from held-out wording: leakage.
TERMS_BEFORE_THE_HELD_OUT_SPLIT = {
    ("bomb",), ("carte", "bancaire"), ("guns",), ("kafir",), ("karkubi",), ("martyr",), ("paseurs",), ("patera",),
    ("prostitution",), ("الهجره", "غير", "الشرعيه"), ("انغماسي",), ("فيروس",),
}


def test_no_lexicon_term_is_found_only_in_the_held_out_split() -> None:
    """The lexicon (evidence, features and keyword baseline) must not gain held-out vocabulary."""
    lex = lexicon()
    seen: dict[str, set[tuple[str, ...]]] = {"train": set(), "test": set()}
    for r in _records():
        forms = [_word_forms(t) for _, _, t in tokens(r["text"])]
        for cat in CATEGORIES:
            for term in lex.terms[cat]:
                n = len(term)
                if any(all(term[k] in forms[i + k] for k in range(n)) for i in range(len(forms) - n + 1)):
                    seen[r["split"]].add(term)
    assert seen["train"]
    assert not seen["test"] - seen["train"] - TERMS_BEFORE_THE_HELD_OUT_SPLIT, sorted(seen["test"] - seen["train"])


# -- folding -------------------------------------------------------------------------------------------


def test_arabizi_folding_meets_arabic_script() -> None:
    assert fold_token("L7chich") == fold_token("lhshich") == "lhchich"
    assert skeleton(fold_token("L7chich")) == skeleton(fold_token("lhachiiich"))
    assert fold_token("bzzzaaaf") == "bzaf"
    assert fold_token("9r9oubi") == "krkubi"
    assert skeleton(fold_token("9r9oubi")) == skeleton(fold_token("qarqoubi")) == skeleton(fold_token("القرقوبي"))[1:]
    assert skeleton(fold_token("الحشيش")) == skeleton(fold_token("l7chich"))
    assert skeleton(fold_token("كارطات")) == skeleton(fold_token("cartat"))


def test_tokens_keep_offsets_of_the_original_text() -> None:
    text = "  Wach   KAYN l7chich?؟ الحَشِيش "
    for start, end, folded in tokens(text):
        assert text[start:end].strip() == text[start:end]
        assert folded
    assert [text[s:e] for s, e, _ in tokens(text)] == ["Wach", "KAYN", "l7chich", "الحَشِيش"]


# -- classification ------------------------------------------------------------------------------------


def test_darija_latin_drug_ad_round_trip() -> None:
    text = "Salam, kayn l7chich n9i dyal ketama, 50 dh l gram, livraison f casa, sift msg f whatsapp"
    result = classify(text)
    assert result.language.language == "darija_latn"
    assert result.categories, result.scores
    best = result.categories[0]
    assert best.category == "drugs"
    assert best.score >= 0.5
    assert best.score == result.scores["drugs"]
    assert best.evidence
    for ev in best.evidence:
        assert text[ev.start : ev.end] == ev.term
    assert "l7chich" in {ev.term for ev in best.evidence}
    assert set(result.scores) == set(CATEGORIES)
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())


def test_categories_are_sorted_and_thresholded() -> None:
    text = "Pack: 1 kg of hashish and a Glock pistol with ammo, meet in person, cash only."
    result = classify(text, threshold=0.3)
    scores = [c.score for c in result.categories]
    assert scores == sorted(scores, reverse=True)
    assert {c.category for c in result.categories} == {c for c, s in result.scores.items() if s >= 0.3}
    assert {"drugs", "weapons"} <= {c.category for c in result.categories}
    assert classify(text, threshold=1.01).categories == ()


def test_neutral_news_sentence_is_not_flagged() -> None:
    result = classify("Heavy rain is expected in the north of the country this weekend, the weather service said.")
    assert result.categories == ()
    assert max(result.scores.values()) < 0.5


@pytest.mark.parametrize("text", ["", "   ", "!!! 123"])
def test_empty_posts(text: str) -> None:
    result = classify(text)
    assert result.categories == ()
    assert result.language.language == "unknown"


def test_train_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        Classifier.train([("some text", {"spam"})])
    with pytest.raises(ValueError, match="no training examples"):
        Classifier.train([])


def test_feedback_retraining_changes_a_prediction() -> None:
    """Analysts' triage feedback teaches a code word the shipped data never uses."""
    # (no "10 grams" in the probe any more: since the former held-out posts joined the training
    # split, the fast model reads that context alone as drugs)
    probe = "wach kayn zanzoun mzyan lyoum?"
    # the lexical model: the accurate one already suspects this post from its sentence vector
    before = Classifier.train(training_examples(), **MODES["fast"]).scores(probe)["drugs"]
    drugs = frozenset({"drugs"})
    feedback = [
        ("zanzoun jdid wsel, sift msg l prix", drugs),
        ("3ndi zanzoun nadi, 10 grams b 100 dh", drugs),
        ("ZANZOUN disponible, livraison f rbat", drugs),
        ("chkon 3ndo zanzoun? khassni daba", drugs),
    ]
    retrained = Classifier.train(training_examples() + feedback, **MODES["fast"])
    after = retrained.scores(probe)["drugs"]
    assert before < 0.5 <= after, (before, after)
    assert "drugs" in retrained.predict_labels(probe)


# -- evaluation ------------------------------------------------------------------------------------------


def test_evaluate_on_a_hand_set() -> None:
    examples = [
        {"text": "a", "labels": ["drugs"], "language": "en"},
        {"text": "b", "labels": ["drugs", "weapons"], "language": "en"},
        {"text": "c", "labels": [], "language": "fr"},
        {"text": "d", "labels": [], "language": "fr"},
        {"text": "e", "labels": ["weapons"], "language": "fr"},
    ]
    answers = {"a": {"drugs"}, "b": {"drugs"}, "c": {"weapons"}, "d": set(), "e": {"weapons", "drugs"}}
    r = evaluate(lambda t: answers[t], examples)
    # drugs: tp a, b; fp e -> P 2/3, R 1, F1 0.8. weapons: tp e; fp c; fn b -> P 1/2, R 1/2, F1 0.5.
    assert r["per_category"]["drugs"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert r["per_category"]["weapons"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert r["per_category"]["hacking"]["support"] == 0
    assert r["macro_f1"] == 0.65  # over the categories present only
    assert r["none_examples"] == 2 and r["none_fp_rate"] == 0.5
    assert r["exact_match"] == 0.4  # a and d
    # en: drugs tp 2, weapons fn 1 -> P 1, R 2/3. fr: weapons tp 1 fp 1, drugs fp 1 -> P 1/3, R 1.
    assert r["per_language"]["en"]["precision"] == 1.0 and r["per_language"]["en"]["recall"] == 0.6667
    assert r["per_language"]["fr"]["precision"] == 0.3333 and r["per_language"]["fr"]["recall"] == 1.0
    assert r["micro"] == {"precision": 0.6, "recall": 0.75, "f1": 0.6667, "support": 4}  # 3 tp, 2 fp, 1 fn


def test_quality_floor_on_the_held_out_split() -> None:
    """Regression guard, set a little under the figures measured on the held-out split written on
    2026-11-30 by independent authors (docs/watch-classifier.md): accurate macro-F1 0.773 (every
    language >= 0.736, "none" flagged 0.319), fast 0.716 (every language >= 0.65, "none" flagged
    0.417), keyword baseline 0.420."""
    examples = evaluation_examples()
    texts = [e["text"] for e in examples]
    accurate = Classifier.train(training_examples(), **MODES["accurate"])
    labels = dict(zip(texts, (set(c.category for c in x.categories) for x in accurate.predict_many(texts)),
                      strict=True))
    r = evaluate(lambda t: labels[t], examples)
    fast = Classifier.train(training_examples(), **MODES["fast"])
    f = evaluate(lambda t: fast.predict_labels(t), examples)
    base = evaluate(keyword_baseline(), examples)
    assert r["macro_f1"] >= 0.75, r["macro_f1"]
    assert min(v["f1"] for v in r["per_language"].values()) >= 0.72, r["per_language"]
    assert r["none_fp_rate"] <= 0.35
    assert f["macro_f1"] >= 0.69, f["macro_f1"]
    assert f["macro_f1"] >= base["macro_f1"] + 0.25
    assert min(v["f1"] for v in f["per_language"].values()) >= 0.62, f["per_language"]
    assert f["micro"]["precision"] >= 0.7 and r["micro"]["precision"] >= 0.7
    assert f["none_fp_rate"] <= 0.45
