"""Exact and near-duplicate detection for collected posts.

- ``content_hash(text)``: SHA-256 of the folded words (``text.fold_text``): the same post with other
  case, accents, Arabic diacritics, punctuation or emojis has the same hash.
- ``signature(text)``: a MinHash of 128 permutations over the folded words (posts) or word bigrams
  (longer texts), links left out, stored as 512 bytes (128 little-endian uint32) so the database
  can keep it.
- ``NearDuplicateIndex``: LSH banding for candidates, then the estimated Jaccard similarity to pick
  the most similar indexed document above the threshold.

Written with numpy rather than with ``datasketch``: its ``MinHash`` object draws its permutations
again for every document (about 0.5 ms each, more than the rest of the dedup stage together), and
the index needs nothing but banding. The hash family is the usual one: shingles hashed to 32 bits
(CRC-32), then ``(a*x + b) mod (2^61 - 1)`` truncated to 32 bits, with ``a`` and ``b`` drawn once
from a fixed seed, so signatures are stable across processes and versions of this module.
Very short posts (a single word) are shingled by single words; the empty text has the all-ones
signature, which matches nothing.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from functools import lru_cache

import numpy as np

from .text import fold_text

NUM_PERM = 128
SHINGLE = 0
"""Shingle size in words; 0 chooses by length: single words for posts under ``LONG_TEXT_WORDS``
words (an edited copy of a 12-word post shares too few bigrams: bench/watch_dedup.py), word bigrams
for longer texts (word order starts to matter and shared common words weigh less)."""
LONG_TEXT_WORDS = 40
SEED = 1
LSH_MARGIN = 0.15
"""The banding is tuned for ``threshold - LSH_MARGIN``: candidates are checked on the full
signature afterwards, so a wider net costs a few comparisons and saves recall."""
_PRIME = np.uint64((1 << 61) - 1)
_MASK = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.IGNORECASE)


def content_hash(text: str) -> str:
    """SHA-256 hex of the normalised text (exact duplicates)."""
    return hash_folded(fold_text(text))


def hash_folded(folded: str) -> str:
    """``content_hash`` of an already folded text."""
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def shingles(text: str, size: int | None = None) -> set[bytes]:
    """Word n-grams of the folded text without its links (a copy re-posted with another link is
    still a copy); ``size`` 0 or None: ``SHINGLE``, chosen by length when that is 0."""
    toks = fold_text(_URL.sub(" ", text)).split()
    size = size or SHINGLE or (1 if len(toks) < LONG_TEXT_WORDS else 2)
    if len(toks) < size:
        return {t.encode("utf-8") for t in toks}
    return {" ".join(toks[i : i + size]).encode("utf-8") for i in range(len(toks) - size + 1)}


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(SEED)
    a = rng.randint(1, 1 << 32, size=num_perm, dtype=np.uint64)
    b = rng.randint(0, 1 << 32, size=num_perm, dtype=np.uint64)
    return a, b


def signature(text: str, num_perm: int = NUM_PERM, *, shingle: int | None = None) -> bytes:
    """MinHash signature of a text, ``num_perm`` little-endian uint32 values."""
    sh = shingles(text, shingle)
    if not sh:
        return np.full(num_perm, _EMPTY, dtype="<u4").tobytes()
    x = np.fromiter((zlib.crc32(s) for s in sh), dtype=np.uint64, count=len(sh))
    a, b = _permutations(num_perm)
    values = ((np.outer(x, a) + b) % _PRIME) & _MASK
    return bytes(values.min(axis=0).astype("<u4").tobytes())


def _values(sig: bytes, num_perm: int) -> np.ndarray:
    arr = np.frombuffer(sig, dtype="<u4")
    if arr.size != num_perm:
        raise ValueError(f"signature: must hold {num_perm} values: got {arr.size}")
    return arr


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal MinHash values)."""
    va = np.frombuffer(a, dtype="<u4")
    vb = np.frombuffer(b, dtype="<u4")
    if va.size != vb.size:
        raise ValueError("signature: both signatures must have the same length")
    if va.size == 0 or bool(np.all(va == _EMPTY)) or bool(np.all(vb == _EMPTY)):
        return 0.0
    return float(np.count_nonzero(va == vb)) / va.size


def bands_for(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising false positives + false negatives around ``threshold``
    (the S-curve ``1 - (1 - s^r)^b`` integrated on a grid)."""
    s = np.linspace(0.0, 1.0, 201)
    best = (1, num_perm)
    best_err = float("inf")
    for b in range(1, num_perm + 1):
        r = num_perm // b
        p = 1.0 - (1.0 - s**r) ** b
        fp = float(np.trapezoid(np.where(s < threshold, p, 0.0), s))
        fn = float(np.trapezoid(np.where(s >= threshold, 1.0 - p, 0.0), s))
        if fp + fn < best_err:
            best, best_err = (b, r), fp + fn
    return best


class NearDuplicateIndex:
    """In-memory LSH index of signatures; ``query`` returns the key of the most similar indexed
    document whose estimated Jaccard similarity is at least ``threshold``, else None."""

    def __init__(self, threshold: float = 0.8, num_perm: int = NUM_PERM) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold: must be in (0, 1]: got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands, self.rows = bands_for(max(0.05, threshold - LSH_MARGIN), num_perm)
        self._tables: list[defaultdict[bytes, list[str]]] = [defaultdict(list) for _ in range(self.bands)]
        self._sigs: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, key: str) -> bool:
        return key in self._sigs

    def _band_keys(self, values: np.ndarray) -> list[bytes]:
        r = self.rows
        raw = values.tobytes()
        return [raw[i * r * 4 : (i + 1) * r * 4] for i in range(self.bands)]

    def add(self, key: str, sig: bytes) -> None:
        """Index a signature under a key; adding a known key again is a no-op."""
        values = _values(sig, self.num_perm)
        if key in self._sigs or bool(np.all(values == _EMPTY)):
            return
        for table, band in zip(self._tables, self._band_keys(values), strict=True):
            table[band].append(key)
        self._sigs[key] = values

    def query(self, sig: bytes) -> str | None:
        values = _values(sig, self.num_perm)
        if not self._sigs or bool(np.all(values == _EMPTY)):
            return None
        candidates: set[str] = set()
        for table, band in zip(self._tables, self._band_keys(values), strict=True):
            hit = table.get(band)
            if hit:
                candidates.update(hit)
        best: str | None = None
        best_sim = -1.0
        for key in sorted(candidates):
            sim = float(np.count_nonzero(self._sigs[key] == values)) / self.num_perm
            if sim >= self.threshold and sim > best_sim:
                best, best_sim = key, sim
        return best
