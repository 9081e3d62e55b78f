"""Attachments: a content-addressed blob store (SHA-256) with type checks by content.

See ``docs/attachments.md``. The workflow stores a file with :meth:`LocalBlobStore.put`, then
inserts the row that references ``StoredBlob.sha256`` in its own transaction; a periodic job calls
:meth:`LocalBlobStore.sweep` with the set of referenced hashes.
"""

from amane.files.errors import BlobError, BlobMissing, CorruptBlob, UploadRefused
from amane.files.sniff import DEFAULT_ALLOWED_TYPES, sniff_bytes
from amane.files.store import BlobReader, BlobStore, LocalBlobStore, Readable, StoredBlob, SweepReport

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "BlobError",
    "BlobMissing",
    "BlobReader",
    "BlobStore",
    "CorruptBlob",
    "LocalBlobStore",
    "Readable",
    "StoredBlob",
    "SweepReport",
    "UploadRefused",
    "sniff_bytes",
]
