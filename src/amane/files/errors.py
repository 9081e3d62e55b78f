"""Errors of the blob store. Each names a field and a rule, like every Amane error.

- :class:`UploadRefused` is bad input (too large, forbidden type, empty): a
  :class:`~amane.model.errors.ValidationFailed`, so the API renders it as problem JSON
  naming ``file`` and the rule, and the web UI and CLI show the same message.
- :class:`CorruptBlob` and :class:`BlobMissing` are the server's fault (a stored file
  changed or vanished): adapters should answer 500 and alert, never 4xx.

All are also :class:`ValueError`, for callers that only know the standard library.
"""

from __future__ import annotations

from typing import Any

from amane.model.errors import AmaneError, FieldError, ValidationFailed


class BlobError(AmaneError, ValueError):
    """Base class: ``field`` (what was wrong) and ``rule`` (which rule it broke)."""

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.rule})"


class UploadRefused(ValidationFailed, BlobError):
    """The upload breaks a rule; nothing was stored. ``details`` holds the numbers behind the message."""

    def __init__(self, rule: str, message: str, *, field: str = "file", **details: Any) -> None:
        ValidationFailed.__init__(self, [FieldError(field, rule, message)])
        BlobError.__init__(self, message, field=field, rule=rule)
        self.details = details

    def __str__(self) -> str:
        return BlobError.__str__(self)

    # ValidationFailed is a dataclass; keep exceptions hashable and compared by identity.
    __hash__ = Exception.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


class CorruptBlob(BlobError):
    """The bytes read back do not hash to the blob's name: the stored file was altered or damaged."""

    def __init__(self, sha256: str, actual: str) -> None:
        super().__init__(
            f"stored file {sha256} is corrupt: its content hashes to {actual}",
            field="file", rule="file.corrupt",
        )
        self.sha256 = sha256
        self.actual = actual


class BlobMissing(BlobError):
    """No blob with this hash is stored (never stored, or swept)."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"no stored file {sha256}", field="file", rule="file.missing")
        self.sha256 = sha256
