"""UI strings in Arabic, French and English (``amane/i18n/<lang>.yaml``).

The YAML files are nested mappings; keys are their dotted paths (``login.title``). Every key
exists in every language (a test checks it); a key missing at run time falls back to French,
then to the key itself, so a gap shows up as text rather than as a crash.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("ar", "fr", "en")
RTL = frozenset({"ar"})
LANG_COOKIE = "amane_lang"


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, path + "."))
        else:
            out[path] = "" if value is None else str(value)
    return out


@functools.lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> dict[str, str]:
    """All strings of one language, by dotted key."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}")
    text = resources.files("amane").joinpath("i18n", f"{lang}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{lang}.yaml must be a mapping")
    return _flatten(data)


def has(key: str, lang: str) -> bool:
    return key in catalog(lang if lang in LANGUAGES else "fr")


def t(key: str, lang: str, **values: Any) -> str:
    """The string ``key`` in ``lang``; ``{name}`` placeholders are filled from ``values``."""
    lang = lang if lang in LANGUAGES else "fr"
    text = catalog(lang).get(key)
    if text is None:
        text = catalog("fr").get(key, key)
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def normalise(lang: str | None) -> str | None:
    """``lang`` if it is one of ours, else ``None``."""
    if not lang:
        return None
    code = lang.strip().lower()[:2]
    return code if code in LANGUAGES else None
