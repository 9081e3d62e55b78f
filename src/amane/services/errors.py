"""Errors the services raise; each adapter (API, web, CLI) renders them the same way."""

from __future__ import annotations

from amane.model.errors import AmaneError, FieldError, ValidationFailed

__all__ = [
    "AmaneError",
    "AuditUnavailable",
    "AuthFailed",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "ValidationFailed",
]


class NotFound(AmaneError):
    """Missing, or outside the caller's need-to-know: the two are indistinguishable."""

    def __init__(self, what: str = "record", ident: str = "") -> None:
        super().__init__(f"{what} not found")
        self.what = what
        self.ident = ident


class Forbidden(AmaneError):
    """The caller lacks a capability for this action (never used to hide an object)."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"this action needs the capability '{capability}'")
        self.capability = capability


class Conflict(AmaneError):
    """The request conflicts with the current state (stale version, duplicate...)."""

    def __init__(self, message: str, *, field: str = "", rule: str = "conflict", **extra: object) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.extra = extra


class AuthFailed(AmaneError):
    """Login failed. The message is the same whatever the reason."""

    def __init__(self) -> None:
        super().__init__("invalid credentials")


class AuditUnavailable(AmaneError):
    """The audit record could not be written, so the action did not happen."""


class RateLimited(AmaneError):
    """Too many requests from one address on a public endpoint (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many requests from this address; try again later")
        self.retry_after_s = retry_after_s
