"""Roles and clearances, loaded from ``amane/data/roles.yaml``."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

CLEARANCES: tuple[str, ...] = ("unclassified", "restricted", "confidential", "secret")
CLEARANCE_LABELS: dict[str, dict[str, str]] = {
    "unclassified": {"ar": "غير مصنف", "fr": "Non classifié", "en": "Unclassified"},
    "restricted": {"ar": "محدود", "fr": "Diffusion restreinte", "en": "Restricted"},
    "confidential": {"ar": "سري", "fr": "Confidentiel", "en": "Confidential"},
    "secret": {"ar": "سري للغاية", "fr": "Secret", "en": "Secret"},
}


def clearance_level(name: str | int) -> int:
    """``"restricted"`` -> 1; ints pass through after a range check."""
    if isinstance(name, int):
        if 0 <= name < len(CLEARANCES):
            return name
        raise ValueError(f"clearance level must be 0..{len(CLEARANCES) - 1}")
    try:
        return CLEARANCES.index(name.strip().lower())
    except ValueError:
        raise ValueError(f"unknown classification '{name}'; allowed: {', '.join(CLEARANCES)}") from None


def clearance_name(level: int) -> str:
    return CLEARANCES[level]


@functools.lru_cache(maxsize=1)
def roles() -> dict[str, dict[str, Any]]:
    text = resources.files("amane.data").joinpath("roles.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def capabilities_of(role_names: list[str] | tuple[str, ...] | set[str]) -> frozenset[str]:
    caps: set[str] = set()
    table = roles()
    for r in role_names:
        caps.update(table.get(r, {}).get("capabilities", []))
    return frozenset(caps)
