"""What a file is, by its content, never by its name.

Binary formats are recognised by their signature ("magic bytes") in the first
:data:`HEAD_BYTES` bytes, with the ``filetype`` package (pure Python, no system
library, no database file). Plain text has no signature, so it is recognised by
reading all of it: valid UTF-8 (an optional BOM) and no control characters other
than tab, line feed, form feed and carriage return. Anything else is
``application/octet-stream``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection

import filetype

#: How many leading bytes the signature check looks at (``filetype`` reads the same).
HEAD_BYTES = 8192

TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

# ``filetype`` names a few types by their pre-registration aliases; store the names browsers use.
_CANONICAL = {
    "audio/x-wav": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-aiff": "audio/aiff",
}

# C0 controls other than TAB, LF, FF, CR; DEL. NUL in particular marks binary data.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")

#: A sensible default for case material: photos, scans, documents, audio and video recordings, text.
DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/heic", "image/avif",
    "application/pdf",
    "audio/mpeg", "audio/wav", "audio/ogg", "audio/mp4", "audio/flac", "audio/amr",
    "video/mp4", "video/quicktime", "video/webm", "video/3gpp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    TEXT,
})


def sniff_signature(head: bytes) -> str | None:
    """The media type named by the signature at the start of ``head``, or None when none matches."""
    if not head:
        return None
    kind = filetype.guess(bytes(head[:HEAD_BYTES]))
    if kind is None:
        return None
    mime = str(kind.mime)
    return _CANONICAL.get(mime, mime)


class TextProbe:
    """Fed the whole content chunk by chunk; ``ok`` stays true while it could still be plain UTF-8 text."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.ok = True

    def feed(self, chunk: bytes, *, final: bool = False) -> bool:
        if self.ok:
            try:
                text = self._decoder.decode(chunk, final)
            except UnicodeDecodeError:
                self.ok = False
            else:
                if _CONTROL.search(text):
                    self.ok = False
        return self.ok


def sniff_bytes(data: bytes) -> str:
    """The media type of a whole content held in memory (same rules as the blob store)."""
    found = sniff_signature(data)
    if found:
        return found
    probe = TextProbe()
    return TEXT if data and probe.feed(data, final=True) else UNKNOWN


def is_allowed(media_type: str, allowed: Collection[str]) -> bool:
    """``allowed`` holds exact media types (``image/png``) or whole families (``image/*``)."""
    if media_type in allowed:
        return True
    family = media_type.split("/", 1)[0] + "/*"
    return family in allowed
