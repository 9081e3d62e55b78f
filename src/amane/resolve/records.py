"""Input and output types of the person resolution engine (plain data, JSON-serialisable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PERSON_FIELDS = (
    "given_name",
    "family_name",
    "given_name_ar",
    "family_name_ar",
    "father_name",
    "mother_name",
    "birth_date",
    "birth_place",
    "address",
    "sex",
    "national_id",
    "phone",
)


@dataclass(frozen=True)
class PersonRecord:
    """One person record as a unit holds it. Every field but ``id`` may be missing."""

    id: str  # entity id
    given_name: str | None = None
    family_name: str | None = None
    given_name_ar: str | None = None
    family_name_ar: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_date: str | None = None  # ISO yyyy-mm-dd; "yyyy" or "yyyy-mm" when partial
    birth_place: str | None = None
    address: str | None = None  # where the person lives, as written
    sex: str | None = None
    national_id: str | None = None
    phone: str | None = None
    source: str | None = None  # owning unit code, or the dataset side of a link task


@dataclass(frozen=True)
class FieldEvidence:
    """What one comparison said about a pair: the level reached and its match weight.

    ``weight`` is the log2 Bayes factor of the level (term-frequency adjustment included): positive
    for evidence of the same person, negative against, 0 for a missing value."""

    level: str  # "exact", "cross-script same name", "day/month swapped", "different", "missing"...
    weight: float
    a: str | None = None  # the values compared, as the records hold them
    b: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "weight": round(self.weight, 3), "a": self.a, "b": self.b}


@dataclass(frozen=True)
class Pair:
    """Two records judged likely the same person (``a_id < b_id``)."""

    a_id: str
    b_id: str
    probability: float
    fields: dict[str, FieldEvidence] = field(default_factory=dict)

    @property
    def weight(self) -> float:
        """Total match weight (prior included): log2 of the posterior odds."""
        import math

        p = min(max(self.probability, 1e-300), 1.0 - 1e-16)
        return math.log2(p / (1.0 - p))

    @property
    def why(self) -> str:
        """One line, strongest evidence first: "national id: exact (+19.9); birth date: ..."."""
        items = sorted(self.fields.items(), key=lambda kv: -abs(kv[1].weight))
        return "; ".join(
            f"{k.replace('_', ' ')}: {v.level} ({v.weight:+.1f})" for k, v in items if v.level != "missing"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "a_id": self.a_id,
            "b_id": self.b_id,
            "probability": round(self.probability, 6),
            "fields": {k: v.as_dict() for k, v in self.fields.items()},
        }


@dataclass(frozen=True)
class Cluster:
    """Records joined by pairs at or above the threshold (connected components), ids sorted."""

    ids: list[str]
    min_probability: float
    mean_probability: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": list(self.ids),
            "min_probability": round(self.min_probability, 6),
            "mean_probability": round(self.mean_probability, 6),
        }


@dataclass
class ResolveResult:
    pairs: list[Pair] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": [p.as_dict() for p in self.pairs],
            "clusters": [c.as_dict() for c in self.clusters],
            "stats": self.stats,
        }
