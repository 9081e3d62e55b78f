"""Cyber-watch category classifier quality and speed: `python bench/watch_classify.py [--json]`.

Data: the held-out split of ``src/amane/watch/data/posts.jsonl`` (texts written for Amane, see
docs/watch-classifier.md), never used for training or tuning. The model is trained on the
training split only, in this run, and timed.

Systems, measured in the same run on the same texts:
  amane      ``amane.watch.classify``: TF-IDF (folded char n-grams, cross-script consonant
             skeletons, words) + lexicon counts, one-vs-rest logistic regression, cut-off 0.5
  keywords   the plain baseline: the same per-category keyword lists (``data/lexicon.yaml``),
             each matched case-insensitively as a whole word or phrase in the raw text; a text
             gets every category one of whose keywords it contains

Reported: precision, recall and F1 per category and per language (micro over the category
decisions of that language's texts, and macro over its categories), macro-F1 over the
categories, the rate of "none" texts that got a category, exact-match accuracy, language
detection accuracy, training time and throughput (texts/s, one text at a time, with and without
language detection and evidence). Two reference figures, apart from the headline: the held-out
split with analysts' feedback simulated (half of it fed back to ``Classifier.train``, the other
half classified, two folds), and a grouped 5-fold cross-validation on the training split.
With ``--mode accurate`` the accurate model as it was before the Darija views (``PREVIOUS``) is
measured in the same run too.

Model selection: ``python bench/watch_classify.py --cv 5 [--mode accurate|fast|previous]`` reads
the training split only (grouped folds, and the grouped leave-language-out variant; per language).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from amane.watch.classify import (
    CATEGORIES,
    EVAL_LANGUAGES,
    Classifier,
    evaluate,
    evaluation_examples,
    lexicon,
    training_examples,
)
from amane.watch.lang import detect_language

#: The models measured: the two shipped ones (``classify.MODES``) and, as a reference in the same
#: run, the accurate model as it was before the Darija views were added (sentence vector of the text
#: as written only; same C and shift).
PREVIOUS = {"c": 128.0, "shift": 2.0, "embedding_scale": 1.0}


def _params(mode: str) -> dict[str, float]:
    from amane.watch.classify import MODES

    return dict(PREVIOUS) if mode == "previous" else dict(MODES[mode])


def keyword_baseline() -> Callable[[str], set[str]]:
    """Plain keyword matcher: case-insensitive whole-word match of each category's keywords."""
    patterns = {
        cat: re.compile(
            "|".join(rf"(?<!\w){re.escape(t.lower())}(?!\w)" for t in sorted(terms, key=len, reverse=True)),
        )
        for cat, terms in lexicon().raw.items()
        if terms
    }

    def predict(text: str) -> set[str]:
        low = text.lower()
        return {cat for cat, pat in patterns.items() if pat.search(low)}

    return predict


def _half(record_id: str) -> int:
    return int(record_id.rsplit("-", 1)[1]) % 2


def _fold(record_id: str, k: int = 5) -> int:
    return int(record_id.rsplit("-", 1)[1]) % k


def _train_records() -> list[dict[str, Any]]:
    """The training split with ids and languages (for the cross-validation reference)."""
    from amane.watch.classify import _records

    return [r for r in _records() if r["split"] == "train"]


def run(mode: str = "accurate") -> dict[str, Any]:
    params = _params(mode)
    examples = evaluation_examples()
    train = training_examples()
    t0 = time.perf_counter()
    model = Classifier.train(train, **params)
    train_s = time.perf_counter() - t0

    texts = [e["text"] for e in examples]
    t0 = time.perf_counter()
    for t in texts:
        model.predict(t)
    full_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    predicted = {t: model.predict_labels(t) for t in texts}
    labels_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict_many(texts)
    batch_s = time.perf_counter() - t0
    # the other model, in the same run: lexical only when measuring the accurate one, and back
    other_mode = "fast" if mode != "fast" else "accurate"
    other = Classifier.train(train, **_params(other_mode))
    other_pred = {t: other.predict_labels(t) for t in texts}
    previous_pred: dict[str, set[str]] = {}
    if mode == "accurate":
        previous = Classifier.train(train, **_params("previous"))
        previous_pred = {t: previous.predict_labels(t) for t in texts}
    baseline = keyword_baseline()
    t0 = time.perf_counter()
    base_pred = {t: baseline(t) for t in texts}
    base_s = time.perf_counter() - t0

    lang_ok = sum(detect_language(e["text"]).language == e["language"] for e in examples)
    confusion: dict[str, dict[str, int]] = {}
    for e in examples:
        got = detect_language(e["text"]).language
        row = confusion.setdefault(e["language"], {})
        row[got] = row.get(got, 0) + 1

    # Analysts' feedback, simulated: half of the held-out texts (by id) are added to the training
    # split as triaged feedback, the other half is classified, and the other way round. Reported
    # apart from the headline figures: it measures the retraining loop, not the shipped model.
    fed: dict[str, set[str]] = {}
    for half in (0, 1):
        feedback = [(e["text"], e["labels"]) for e in examples if _half(e["id"]) == half]
        retrained = Classifier.train([*train, *feedback], **params)
        for e in examples:
            if _half(e["id"]) != half:
                fed[e["text"]] = retrained.predict_labels(e["text"])

    # In-distribution reference: 5-fold cross-validation on the training split, folds grouped by
    # the position of a text in its language file (the parallel versions of one post stay together).
    cv_pred: dict[str, set[str]] = {}
    train_records = _train_records()
    for fold in range(5):
        model_k = Classifier.train([(r["text"], r["labels"]) for r in train_records if _fold(r["id"]) != fold],
                                   **params)
        for r in train_records:
            if _fold(r["id"]) == fold:
                cv_pred[r["text"]] = model_k.predict_labels(r["text"])

    return {
        "train_examples": len(train),
        "test_examples": len(examples),
        "train_seconds": round(train_s, 3),
        "mode": mode,
        "amane": evaluate(lambda t: predicted[t], examples),
        "other_mode": {"mode": other_mode, **evaluate(lambda t: other_pred[t], examples)},
        "previous": evaluate(lambda t: previous_pred[t], examples) if previous_pred else None,
        "keywords": evaluate(lambda t: base_pred[t], examples),
        "throughput": {
            "classify_texts_per_s": round(len(texts) / full_s, 1),
            "labels_only_texts_per_s": round(len(texts) / labels_s, 1),
            "classify_batch_texts_per_s": round(len(texts) / batch_s, 1),
            "keywords_texts_per_s": round(len(texts) / base_s, 1),
        },
        "with_feedback": evaluate(lambda t: fed[t], examples),
        "train_cv": evaluate(lambda t: cv_pred[t], train_records),
        "language_detection": {"accuracy": round(lang_ok / len(examples), 4), "confusion": confusion},
    }


def cross_validate(mode: str = "accurate", k: int = 5, *, by_language: bool = True) -> dict[str, Any]:
    """Model selection figures from the training split only (the held-out split is not read).

    ``grouped``: k-fold cross-validation, folds grouped by the position of a text in its language
    file (the parallel versions of one post stay in one fold). ``grouped_leave_language_out``: the
    texts of fold i in language L are classified by a model trained on the other folds *without*
    language L, so that the wording of the language under test is new to the model (a closer proxy
    for the held-out split, whose wording differs on purpose, than the plain folds; k x 6 models).
    """
    params = _params(mode)
    records = _train_records()
    pred: dict[str, set[str]] = {}
    for fold in range(k):
        model = Classifier.train([(r["text"], r["labels"]) for r in records if _fold(r["id"], k) != fold], **params)
        for r in records:
            if _fold(r["id"], k) == fold:
                pred[r["text"]] = model.predict_labels(r["text"])
    out: dict[str, Any] = {"mode": mode, "folds": k, "grouped": evaluate(lambda t: pred[t], records)}
    if by_language:
        llo: dict[str, set[str]] = {}
        for lang in EVAL_LANGUAGES:
            for fold in range(k):
                train = [(r["text"], r["labels"]) for r in records
                         if _fold(r["id"], k) != fold and r["language"] != lang]
                model = Classifier.train(train, **params)
                for r in records:
                    if _fold(r["id"], k) == fold and r["language"] == lang:
                        llo[r["text"]] = model.predict_labels(r["text"])
        out["grouped_leave_language_out"] = evaluate(lambda t: llo[t], records)
    return out


def print_cv(r: dict[str, Any]) -> None:
    print(f"model: {r['mode']}; training split only, {r['folds']} folds grouped by parallel position")
    print(f"{'':<28} {'macroF1':>7} {'noneFP':>7}  " + " ".join(f"{lang:>11}" for lang in EVAL_LANGUAGES))
    for name in ("grouped", "grouped_leave_language_out"):
        if name not in r:
            continue
        e = r[name]
        langs = " ".join(f"{e['per_language'][lang]['f1']:>11.3f}" for lang in EVAL_LANGUAGES)
        print(f"{name:<28} {e['macro_f1']:>7.3f} {e['none_fp_rate']:>7.3f}  {langs}")


def _row(name: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    return (
        f"{name:<20} {a['precision']:>6.3f} {a['recall']:>6.3f} {a['f1']:>6.3f}   "
        f"{b['precision']:>6.3f} {b['recall']:>6.3f} {b['f1']:>6.3f} {a['support']:>6}"
    )


def print_table(r: dict[str, Any]) -> None:
    a, b = r["amane"], r["keywords"]
    print(f"held-out texts: {r['test_examples']}   training texts: {r['train_examples']}")
    print(f"{'':<20} {'amane P':>6} {'R':>6} {'F1':>6}   {'kw P':>6} {'R':>6} {'F1':>6} {'support':>6}")
    for c in CATEGORIES:
        print(_row(c, a["per_category"][c], b["per_category"][c]))
    print(f"{'macro-F1':<20} {'':>13} {a['macro_f1']:>6.3f}   {'':>13} {b['macro_f1']:>6.3f}")
    print(f"{'micro':<20} " + _row("", a["micro"], b["micro"])[21:])
    print(f"{'none FP rate':<20} {a['none_fp_rate']:>20.3f}   {b['none_fp_rate']:>20.3f} {a['none_examples']:>6}")
    print(f"{'exact match':<20} {a['exact_match']:>20.3f}   {b['exact_match']:>20.3f}")
    print()
    print(f"{'per language':<20} {'P':>6} {'R':>6} {'F1':>6} {'macroF1':>7}   {'kw F1':>6} {'macroF1':>7}")
    for lang in EVAL_LANGUAGES:
        x, y = a["per_language"].get(lang), b["per_language"].get(lang)
        if x is None or y is None:
            continue
        print(
            f"{lang:<20} {x['precision']:>6.3f} {x['recall']:>6.3f} {x['f1']:>6.3f} {x['macro_f1']:>7.3f}   "
            f"{y['f1']:>6.3f} {y['macro_f1']:>7.3f}"
        )
    print()
    o = r["other_mode"]
    print(f"per language, {o['mode']} model: " + ", ".join(
        f"{lang} {o['per_language'][lang]['f1']:.3f}" for lang in EVAL_LANGUAGES if lang in o["per_language"]))
    print(f"model measured: {r['mode']}; the {o['mode']} model in the same run: macro-F1 {o['macro_f1']:.3f}, "
          f"none FP rate {o['none_fp_rate']:.3f}")
    p = r.get("previous")
    if p:
        print(f"previous accurate model (no Darija views) in the same run: macro-F1 {p['macro_f1']:.3f}, "
              f"none FP rate {p['none_fp_rate']:.3f}, per language "
              + ", ".join(f"{lang} {p['per_language'][lang]['f1']:.3f}" for lang in EVAL_LANGUAGES
                          if lang in p["per_language"]))
    t = r["throughput"]
    print(
        f"training: {r['train_seconds']:.2f} s   "
        f"classify (language + evidence): {t['classify_texts_per_s']:.0f} texts/s one by one, "
        f"{t['classify_batch_texts_per_s']:.0f} texts/s in one batch   "
        f"scores only: {t['labels_only_texts_per_s']:.0f} texts/s   keywords: {t['keywords_texts_per_s']:.0f} texts/s"
    )
    f, cv = r["with_feedback"], r["train_cv"]
    print(
        f"with analysts' feedback (half of the held-out texts fed back, the other half classified, two folds): "
        f"macro-F1 {f['macro_f1']:.3f}, none FP rate {f['none_fp_rate']:.3f}, per language "
        + ", ".join(f"{k} {v['f1']:.3f}" for k, v in f["per_language"].items())
    )
    print(
        f"in-distribution reference (grouped 5-fold CV on the training split): macro-F1 {cv['macro_f1']:.3f}, "
        f"none FP rate {cv['none_fp_rate']:.3f}"
    )
    print(f"language detection accuracy on the held-out split: {r['language_detection']['accuracy']:.3f}")
    for gold, row in sorted(r["language_detection"]["confusion"].items()):
        print(f"  {gold:<12} -> " + ", ".join(f"{k}: {v}" for k, v in sorted(row.items(), key=lambda kv: -kv[1])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--mode", choices=("accurate", "fast", "previous"), default="accurate",
                        help="model measured (the other one is measured too, as a reference; 'previous': the "
                             "accurate model before the Darija views)")
    parser.add_argument("--cv", type=int, default=0, metavar="K",
                        help="model selection: K-fold cross-validation on the training split only (per language, "
                             "plus the leave-language-out variant); the held-out split is not read")
    parser.add_argument("--no-llo", action="store_true", help="with --cv: skip the leave-language-out variant")
    args = parser.parse_args(argv)
    if args.cv:
        cv = cross_validate(args.mode, args.cv, by_language=not args.no_llo)
        if args.json:
            json.dump(cv, sys.stdout, ensure_ascii=False, indent=2)
            print()
        else:
            print_cv(cv)
        return 0
    result = run(args.mode)
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
