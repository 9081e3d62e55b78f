"""Exact hashes and MinHash near-duplicates."""

from __future__ import annotations

import pytest

from amane.watch.dedup import (
    LONG_TEXT_WORDS,
    NUM_PERM,
    NearDuplicateIndex,
    content_hash,
    shingles,
    signature,
    similarity,
)

POST = (
    "Vente de chira de qualité à Tanger, livraison rapide dans tout le nord, contactez moi sur "
    "telegram pour les prix et les quantités disponibles cette semaine"
)
EDITED = (
    "VENTE de chira de qualite a Tanger !! livraison rapide dans tout le nord 🔥 contactez moi sur "
    "telegram pour les prix et quantités disponibles cette semaine https://t.me/x"
)
OTHER = "Le match entre le Raja et le Wydad aura lieu dimanche soir au complexe Mohammed V de Casablanca"


def test_content_hash_ignores_case_accents_punctuation() -> None:
    assert content_hash(POST) == content_hash(POST.upper().replace("é", "e") + " !!! 🔥")
    assert content_hash(POST) != content_hash(EDITED)
    assert len(content_hash(POST)) == 64


def test_signature_storable_and_similar() -> None:
    a, b, c = signature(POST), signature(EDITED), signature(OTHER)
    assert len(a) == NUM_PERM * 4
    assert signature(POST) == a  # stable across calls (stored in the database)
    assert similarity(a, b) >= 0.7
    assert similarity(a, c) < 0.2


def test_index_finds_near_duplicate_only() -> None:
    idx = NearDuplicateIndex(threshold=0.7)
    idx.add("s:1", signature(POST))
    idx.add("s:2", signature(OTHER))
    assert idx.query(signature(EDITED)) == "s:1"
    assert idx.query(signature("Phishing bancaire: faux site de la banque populaire, ne donnez pas vos codes")) is None
    assert len(idx) == 2


def test_index_picks_most_similar() -> None:
    idx = NearDuplicateIndex(threshold=0.5)
    idx.add("far", signature(POST.replace("Tanger", "Tétouan").replace("rapide", "lente").replace("semaine", "nuit")))
    idx.add("same", signature(POST))
    assert idx.query(signature(POST)) == "same"


def test_empty_text_matches_nothing() -> None:
    idx = NearDuplicateIndex()
    idx.add("e", signature(""))
    assert len(idx) == 0
    assert idx.query(signature("")) is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateIndex(threshold=0)
    with pytest.raises(ValueError, match="signature"):
        NearDuplicateIndex().add("x", b"\x00" * 12)


def test_shingles_by_length_and_links_ignored() -> None:
    assert shingles("Vente chira https://t.me/abc Tanger") == {b"vente", b"chira", b"tanger"}
    long_text = " ".join(f"mot{i}" for i in range(LONG_TEXT_WORDS + 5))
    sh = shingles(long_text)
    assert b"mot0 mot1" in sh and b"mot0" not in sh
    assert shingles("a b c", 2) == {b"a b", b"b c"}
