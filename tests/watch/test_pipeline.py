"""The processing pipeline over the sample drop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from amane.watch import pipeline as pl
from amane.watch.dedup import NearDuplicateIndex, content_hash
from amane.watch.pipeline import STAGES, Pipeline, Processed, doc_key, register_stage
from amane.watch.sources import RawDoc, read_path
from amane.watch.watchlist import Term, Watchlist

SAMPLES = Path(__file__).parent / "samples" / "drop"
NO_MODELS = ["text", "dedup", "normalise", "selectors", "watchlist"]


@pytest.fixture(scope="module")
def docs() -> list[RawDoc]:
    return [d for d in read_path(SAMPLES, "cyber") if isinstance(d, RawDoc)]


@pytest.fixture(scope="module")
def watchlist() -> Watchlist:
    return Watchlist(
        [
            Term("hash", "keyword", "حشيش", "drugs"),
            Term("name", "name", "محمد العلوي"),
            Term("hrig", "keyword", "الحريك", "migrant_smuggling"),
            Term("cvv", "regex", r"\bcvv\d?\b", "carding"),
        ]
    )


def by_location(results: list[Processed]) -> dict[str, Processed]:
    return {r.doc.location: r for r in results}


def test_stage_order() -> None:
    assert list(STAGES)[:7] == ["text", "dedup", "language", "normalise", "selectors", "watchlist", "classify"]


def test_batch_selectors_hits_and_duplicates(docs: list[RawDoc], watchlist: Watchlist) -> None:
    p = Pipeline(watchlist, stages=NO_MODELS)
    res = by_location([p.process(d) for d in docs])
    ar = res["notes/ar_cp1256.txt"]
    assert [(h.term_id, h.matched) for h in ar.hits] == [("hash", "الحشيش"), ("name", "محمد العلوي")]
    assert [(s.kind, s.value) for s in ar.selectors] == [("phone", "+212612345678")]
    offer = res["pages/offer.html"]
    assert [(h.term_id, h.matched) for h in offer.hits] == [("hash", "7achich")]
    assert ("email", "vendeur.nord@proton.me") in [(s.kind, s.value) for s in offer.selectors]
    # the Arabic word, and its Latin spelling inside the channel link
    assert [h.matched for h in res["telegram/result.json#message 3"].hits] == ["الحريك", "hrig"]
    assert [h.matched for h in res["notes/fr_utf16.txt"].hits] == ["CVV"]
    # message 5 repeats message 2 with other accents and punctuation
    assert res["telegram/result.json#message 5"].duplicate_of == "cyber:1734567890:2"
    assert sum(r.duplicate_of is not None for r in res.values()) == 1
    assert offer.normalized.startswith("vente de chira livraison rapide bonjour je vends du hachich")
    assert len(offer.signature) == 512 and offer.content_hash == content_hash(offer.doc.text)
    assert offer.language is None and offer.classification is None  # stages not run


def test_reingest_same_batch_is_all_known(docs: list[RawDoc]) -> None:
    first = Pipeline(stages=["text", "dedup"])
    results = [first.process(d) for d in docs]
    known = {r.content_hash: r.key for r in results if r.duplicate_of is None}
    second = Pipeline(known_hashes=known, stages=["text", "dedup"])
    again = [second.process(d) for d in docs]
    # the same documents (same keys) are not duplicates of themselves; the copy still is
    assert [r.duplicate_of for r in again] == [r.duplicate_of for r in results]


def test_near_duplicate_within_batch() -> None:
    base = RawDoc(
        "s",
        "1",
        "Passage vers l'Espagne en zodiac depuis Nador ce week-end, 2000 euros par personne, "
        "places limitées, contactez vite",
        "text",
        "a",
    )
    edited = replace(
        base, external_id="2", location="b", text=base.text.replace("contactez vite", "contactez-nous vite") + " 🚤🚤"
    )
    other = RawDoc(
        "s",
        "3",
        "Réunion du conseil municipal de Fès sur le budget des routes et des écoles pour l'année prochaine",
        "text",
        "c",
    )
    p = Pipeline(index=NearDuplicateIndex(threshold=0.8), stages=["text", "dedup"])
    out = [p.process(d) for d in (base, edited, other)]
    assert [(o.duplicate_of, o.near_duplicate_of) for o in out] == [(None, None), (None, "s:1"), (None, None)]


def test_models_when_present(docs: list[RawDoc]) -> None:
    pytest.importorskip("amane.watch.lang")
    pytest.importorskip("amane.watch.classify")
    p = Pipeline()
    res = by_location([p.process(d) for d in docs])
    ar = res["notes/ar_cp1256.txt"]
    assert ar.language is not None and ar.language.language == "ar"
    assert ar.classification is not None
    assert "drugs" in [c.category for c in ar.classification.categories]


def test_register_stage_and_unknown_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pl, "STAGES", dict(STAGES))
    seen: list[str] = []

    def shout(p: Pipeline, s: pl.State) -> None:
        seen.append(s.text)
        s.text = s.text.upper()

    register_stage("shout", shout, after="text")
    assert list(pl.STAGES)[:3] == ["text", "shout", "dedup"]
    with pytest.raises(ValueError, match="name: unique"):
        register_stage("shout", shout)
    with pytest.raises(ValueError, match="after"):
        register_stage("other", shout, after="nope")
    out = Pipeline(stages=["text", "shout", "normalise"]).process(RawDoc("s", "1", " <b>salam</b> ", "text", "x"))
    assert seen == ["<b>salam</b>"] and out.normalized == "b salam b"
    with pytest.raises(ValueError, match="stages: unknown"):
        Pipeline(stages=["text", "ocr"])


def test_html_left_in_a_doc_is_extracted() -> None:
    doc = RawDoc("s", "h", "<html><body><nav>menu</nav><p>Vente <b>chira</b></p></body></html>", "html", "x")
    assert Pipeline(stages=["text", "normalise"]).process(doc).normalized == "vente chira"


def test_parallel_gives_same_answers(docs: list[RawDoc], watchlist: Watchlist) -> None:
    many = docs * 3
    serial = [
        (r.key, r.duplicate_of, r.near_duplicate_of, r.hits, r.selectors)
        for r in Pipeline(watchlist, stages=NO_MODELS).process_many(many)
    ]
    parallel = [
        (r.key, r.duplicate_of, r.near_duplicate_of, r.hits, r.selectors)
        for r in Pipeline(watchlist, stages=NO_MODELS).process_parallel(many, workers=2, chunksize=4)
    ]
    assert parallel == serial
    assert doc_key(docs[0]) == serial[0][0]
