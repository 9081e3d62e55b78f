"""Attested Latin spellings of Arabic name words, from ``arabic-name-romanizer``'s dictionary.

Used by the ranking only (never by the keys, which must not change when that package's data
does): a Latin part that is a known spelling of the Arabic part ("Mohamed" for محمد) is an exact
cross-script match ("="). Dictionary look-ups only, no ONNX model: a look-up is a SQLite read of
about 0.05 ms, cached; the model would take 15-40 ms per unknown word.

Optional: without the package (or its index file) nothing is attested and matching falls back
to skeletons and vowel-aware forms.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

_NOT_LETTERS = re.compile(r"[^a-z]")


@lru_cache(maxsize=65536)
def latin_key(latin: str) -> str:
    """Comparison form of a Latin spelling: lower-case ASCII letters only (cached: the ranking
    asks for the same name words again and again)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", latin.casefold())
    return _NOT_LETTERS.sub("", "".join(c for c in text if not unicodedata.combining(c)))


class AttestedSpellings:
    """Latin spellings attested for Arabic name words (units such as محمد, العلوي, عبد العزيز)."""

    def __init__(self, index_path: str | Path | None = None, *, country: str = "MA", per_word: int = 10) -> None:
        from arabic_name_romanizer.lookup import NameIndex

        if index_path is None:
            import arabic_name_romanizer

            index_path = Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"
        self._index: Any = NameIndex(index_path)
        self._country = country
        self._per_word = per_word
        self._lock = threading.Lock()
        self.latin = lru_cache(maxsize=100_000)(self._latin)

    def _latin(self, arabic_word: str) -> frozenset[str]:
        from arabic_name_romanizer.normalize import lookup_key

        key = lookup_key(arabic_word)
        with self._lock:  # one SQLite connection shared by threads
            variants = self._index.lookup_unit(key, self._country)
        return frozenset(latin_key(str(v.latin)) for v in variants[: self._per_word])

    def attests(self, arabic_word: str, latin: str) -> bool:
        """Whether ``latin`` is a known spelling of ``arabic_word``."""
        key = latin_key(latin)
        return bool(key) and key in self.latin(arabic_word)

    @classmethod
    def build(cls, path: str | Path, pairs: Iterable[tuple[str, str, int, str]], **kwargs: Any) -> AttestedSpellings:
        """Build a dictionary from (arabic, latin, count, country) full-name pairs, e.g. to leave
        evaluation names out of it (bench/names_quality.py)."""
        from arabic_name_romanizer.lookup import NameIndex, rows_from_pairs

        full_rows, unit_rows = rows_from_pairs(list(pairs), "custom")
        NameIndex.build(path, full_rows, unit_rows)
        return cls(path, **kwargs)


_default: AttestedSpellings | None = None
_default_tried = False
_default_lock = threading.Lock()


def default_spellings() -> AttestedSpellings | None:
    """The shipped dictionary, opened once; None when arabic-name-romanizer is not installed."""
    global _default, _default_tried
    with _default_lock:
        if not _default_tried:
            _default_tried = True
            try:
                _default = AttestedSpellings()
            except (ImportError, OSError):
                _default = None
        return _default
