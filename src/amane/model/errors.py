"""Errors raised by the model layer.

Every validation failure names the field and the rule it broke, so that the API
(RFC 9457 problem JSON), the web UI and the CLI can all show the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one field. ``field`` is a dotted path (``data.phone``, ``row 12.birth_date``)."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class AmaneError(Exception):
    """Base of all Amane errors."""


@dataclass
class InvalidValue(AmaneError):
    """A single value failed its type's rule. Raised by value types; the caller adds the field path."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass
class ValidationFailed(AmaneError):
    """One or more fields are invalid. Nothing was written."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{e.field}: {e.message} ({e.rule})" for e in self.errors)


class SchemaError(AmaneError):
    """A schema YAML file is malformed (raised at load time, never at request time)."""
