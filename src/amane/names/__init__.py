"""Name analysis for Arabic and Latin personal names: normalisation, particles and compounds,
comparison keys that make cross-script spellings meet, and explained similarity.

Pure functions, no database. The contract for the search and resolution engines:

- ``analyse(text) -> NameAnalysis``: scripts, name parts (particles removed, compounds joined);
- ``index_keys(text) -> list[(kind, key)]``: at most 16 keys to store for a stored name;
- ``query_keys(text) -> list[(kind, key)]``: at most 60 keys to look up for a query, most
  selective kinds first (``nf``, ``np``, ``nd``, then ``nm``);
- ``similarity(query, names) -> Match``: score 0..1 and ``Match.why``; ``rank`` for many people.

Bad input raises a ``NameInputError`` (a ``ValueError``) naming the rule; see ``errors``.
"""

from __future__ import annotations

from .analysis import NameAnalysis, NameToken, analyse
from .errors import (
    EmptyNameError,
    NameInputError,
    NameTooLongError,
    NameTooShortError,
    OnlyParticlesError,
    UnsupportedScriptError,
)
from .keys import KEYS_VERSION, KINDS, MAX_INDEX_KEYS, MAX_QUERY_KEYS, index_keys, query_keys
from .match import Match, NameParts, TokenMatch, rank, similarity
from .normalize import normalize_arabic, normalize_latin
from .spellings import AttestedSpellings
from .translit import latin_candidates, latin_variants

__all__ = [
    "AttestedSpellings",
    "KEYS_VERSION",
    "KINDS",
    "MAX_INDEX_KEYS",
    "MAX_QUERY_KEYS",
    "EmptyNameError",
    "Match",
    "NameAnalysis",
    "NameInputError",
    "NameParts",
    "NameToken",
    "NameTooLongError",
    "NameTooShortError",
    "OnlyParticlesError",
    "TokenMatch",
    "UnsupportedScriptError",
    "analyse",
    "index_keys",
    "latin_candidates",
    "latin_variants",
    "normalize_arabic",
    "normalize_latin",
    "query_keys",
    "rank",
    "similarity",
]
