"""Model selection in bench/watch_classify.py: cross-validation on the training split only."""

from __future__ import annotations

import pytest
from bench import watch_classify

from amane.watch import classify
from amane.watch.classify import EVAL_LANGUAGES


def test_cross_validation_reads_the_training_split_only(monkeypatch: pytest.MonkeyPatch) -> None:
    test_texts = {e["text"] for e in classify.evaluation_examples()}
    seen: list[str] = []
    real_train = classify.Classifier.train

    def train(examples, **kw):  # type: ignore[no-untyped-def]
        examples = list(examples)
        seen.extend(t for t, _ in examples)
        return real_train(examples, **kw)

    def no_held_out() -> None:
        raise AssertionError("the held-out split was read")

    monkeypatch.setattr(classify.Classifier, "train", train)
    monkeypatch.setattr(watch_classify, "evaluation_examples", no_held_out)
    monkeypatch.setattr(classify, "evaluation_examples", no_held_out)
    r = watch_classify.cross_validate("fast", 2, by_language=True)
    assert seen and not set(seen) & test_texts
    for name in ("grouped", "grouped_leave_language_out"):
        e = r[name]
        assert e["examples"] == len(classify.training_examples())
        assert set(e["per_language"]) == set(EVAL_LANGUAGES)
        assert 0.5 < e["macro_f1"] <= 1.0
    # Leave-language-out is harder than plain folds for at least one language (new wording).
    assert any(
        r["grouped_leave_language_out"]["per_language"][lang]["f1"] < r["grouped"]["per_language"][lang]["f1"]
        for lang in EVAL_LANGUAGES
    )


def test_previous_model_parameters() -> None:
    assert watch_classify._params("previous") == watch_classify.PREVIOUS
    assert "darija_views" not in watch_classify.PREVIOUS
    assert classify.MODES["accurate"]["darija_views"] == 1.0
    assert classify.Classifier.train(classify.training_examples()[:40], **watch_classify._params("fast")).mode == "fast"
