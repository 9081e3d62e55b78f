"""Errors raised for input that cannot be analysed as a personal name.

Every error is a ``ValueError`` subclass whose message names the rule that failed, so that the
API can turn it into a problem response and the CLI can print it as is.
"""

from __future__ import annotations


class NameInputError(ValueError):
    """Base class: the text cannot be used as a personal name."""

    rule: str = "name"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyNameError(NameInputError):
    """Nothing is left once spaces, punctuation, digits and control characters are removed."""

    rule = "name.empty"


class NameTooLongError(NameInputError):
    """More characters than any real name has; refused before any work is done."""

    rule = "name.too_long"


class NameTooShortError(NameInputError):
    """Only initials (one-letter tokens) remain: nothing to search or index on."""

    rule = "name.too_short"


class OnlyParticlesError(NameInputError):
    """Only particles or titles ("El Ben", "Moulay"): no actual name to look for."""

    rule = "name.only_particles"


class UnsupportedScriptError(NameInputError):
    """Letters in neither the Arabic nor the Latin script, and nothing else to use."""

    rule = "name.script"
