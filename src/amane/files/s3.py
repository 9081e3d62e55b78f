"""Attachments in S3-compatible object storage (MinIO, Ceph RGW, Garage, SeaweedFS, AWS S3).

The same contract as :class:`~amane.files.store.LocalBlobStore` (content-addressed by SHA-256,
type decided by content, size limit, verified reads, sweep of orphans), over the S3 API with
``boto3``. A blob is the object ``<prefix>ab/cd/<sha256>`` in one bucket.

Writing, in order:

1. the upload is spooled to a local temp file (``spool_dir``) while it is hashed, counted and its
   type decided by :func:`~amane.files.store.spool_checked`; a refused upload never reaches the
   bucket;
2. the temp file is sent with ``PutObject`` and a ``Content-MD5`` header, so the server refuses a
   body damaged on the way (every S3 implementation checks it); files over ``multipart_bytes`` go
   up as a multipart upload, which the server publishes only when every part has arrived. Either
   way an object is visible whole or not at all, and the server acknowledges it only once stored;
3. only then does the caller insert the database row that references the hash.

Content already stored is not sent again: the object is copied onto itself with new metadata,
which makes it young again (``LastModified``) so that a sweep whose snapshot of references
predates the caller's row leaves it alone.

A crash before step 2 ends leaves a temp file in the spool (removed by :meth:`S3BlobStore.sweep`
past the grace period); a crash between 2 and the commit leaves an unreferenced object, removed by
the sweep the same way. Unlike the local store there is no lock between ``put`` and ``sweep``: the
sweep reads the object's age again just before deleting it, which leaves a window of one round
trip in which a re-upload of the same old orphan could be removed. Run the sweeper from one place,
with the grace period (a day by default) much longer than any upload.

Reading streams ``GetObject`` through :class:`~amane.files.store.BlobReader`, which re-hashes the
bytes and raises :class:`~amane.files.errors.CorruptBlob` at the end on a mismatch.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amane.files.errors import BlobError, BlobMissing
from amane.files.store import (
    BlobReader,
    Readable,
    StoredBlob,
    SweepReport,
    check_sha256,
    spool_checked,
    sweep_temp,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_SHA256 = re.compile(r"[0-9a-f]{64}")
_TMP_SUFFIX = ".part"
#: Above this size a blob goes up in parts (S3 allows 5 GiB in one PutObject; parts retry alone).
MULTIPART_BYTES = 64 * 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class _BodyRaw(io.RawIOBase):
    """``readinto`` over a botocore ``StreamingBody`` (which only has ``read``)."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        n = len(data)
        view[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._body.close()
        super().close()


def make_client(
    *, endpoint_url: str | None = None, region: str | None = None, access_key: str | None = None,
    secret_key: str | None = None, addressing_style: str = "path", timeout_s: float = 30.0,
) -> Any:
    """A boto3 S3 client for an S3-compatible server. Empty credentials fall back to boto3's usual
    chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role).

    Checksums are sent and checked only where the operation requires them (boto3's newer default
    of CRC32 on every request is refused by several S3-compatible servers); integrity is ensured by
    ``Content-MD5`` on upload and by re-hashing every read."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": addressing_style},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=timeout_s, read_timeout=timeout_s,
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None,
        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None, config=config,
    )


class S3BlobStore:
    """Blobs as objects ``<prefix>ab/cd/<sha256>`` in ``bucket``, through ``client`` (see
    :func:`make_client`). ``spool_dir`` holds uploads while they are checked (local disk).
    Several threads and processes may share one bucket and prefix."""

    def __init__(
        self, client: Any, bucket: str, *, prefix: str = "", spool_dir: str | os.PathLike[str],
        multipart_bytes: int = MULTIPART_BYTES,
    ) -> None:
        if not bucket:
            raise BlobError("no bucket configured for S3 attachments", field="attachments_s3_bucket",
                            rule="settings.required")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.tmp = Path(spool_dir)
        self.tmp.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.multipart_bytes = multipart_bytes

    # -- layout -----------------------------------------------------------------------------

    def key_of(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except Exception as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise
        return head

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise BlobMissing(sha256)
        return int(head["ContentLength"])

    def _objects(self) -> Iterator[tuple[str, datetime]]:
        """(hash, last modified) of every object under the prefix whose name is a SHA-256 in its
        fan-out place."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", ()):
                name = obj["Key"][len(self.prefix):]
                sha = name.rsplit("/", 1)[-1]
                if _SHA256.fullmatch(sha) and name == f"{sha[:2]}/{sha[2:4]}/{sha}":
                    yield sha, obj["LastModified"]

    def iter_blobs(self) -> Iterator[str]:
        """Every stored hash, in key order."""
        for sha, _ in self._objects():
            yield sha

    # -- writing ----------------------------------------------------------------------------

    def put(
        self, stream: Readable, *, max_bytes: int, allowed_types: Collection[str], filename: str | None = None,
    ) -> StoredBlob:
        """Store the content of ``stream``; the same refusals and result as
        :meth:`LocalBlobStore.put <amane.files.store.LocalBlobStore.put>`."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        label = f"'{filename}'" if filename else "the file"
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="put-", suffix=_TMP_SUFFIX)
        tmp_path = Path(tmp_name)
        md5 = hashlib.md5(usedforsecurity=False)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size, media_type = spool_checked(stream, out, max_bytes, allowed_types, label, also=(md5,))
            return self._publish(tmp_path, digest, size, media_type, md5.digest())
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()

    def _publish(self, tmp_path: Path, digest: str, size: int, media_type: str, md5: bytes) -> StoredBlob:
        key = self.key_of(digest)
        head = self._head(digest)
        if head is not None and int(head["ContentLength"]) == size:
            # Same content already stored: make it young again (a copy onto itself needs new
            # metadata), so that a sweep running before our caller's commit leaves it alone.
            self.client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE", ContentType=head.get("ContentType") or media_type,
                Metadata={"sha256": digest, "touched": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")},
            )
            return StoredBlob(digest, size, media_type, None, created=False)
        # Absent (or a damaged copy of the wrong size, which this replaces): send ours.
        metadata = {"sha256": digest}
        if size <= self.multipart_bytes:
            with open(tmp_path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ContentLength=size, ContentType=media_type,
                    ContentMD5=base64.b64encode(md5).decode("ascii"), Metadata=metadata,
                )
        else:
            from boto3.s3.transfer import TransferConfig

            part = max(self.multipart_bytes // 4, 8 * 1024 * 1024)
            self.client.upload_file(
                str(tmp_path), self.bucket, key,
                ExtraArgs={"ContentType": media_type, "Metadata": metadata},
                Config=TransferConfig(multipart_threshold=self.multipart_bytes, multipart_chunksize=part),
            )
        return StoredBlob(digest, size, media_type, None, created=True)

    # -- reading ----------------------------------------------------------------------------

    def open(self, sha256: str) -> BlobReader:
        """A stream over the blob that raises :class:`CorruptBlob` at its end if a byte changed."""
        key = self.key_of(sha256)
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise BlobMissing(sha256) from None
            raise
        return BlobReader(sha256, _BodyRaw(obj["Body"]))

    def read(self, sha256: str) -> bytes:
        """The whole content, verified against its hash (for small blobs; stream big ones)."""
        with self.open(sha256) as f:
            return f.read()

    def verify(self, sha256: str) -> int:
        """Re-hash a stored blob: its size if intact, :class:`CorruptBlob` if not."""
        return sum(len(chunk) for chunk in self.open(sha256).chunks())

    # -- removal ----------------------------------------------------------------------------

    def sweep(self, referenced: Collection[str], *, older_than_s: float) -> SweepReport:
        """Delete objects whose hash is not in ``referenced``, and abandoned spool files, but only
        those not modified for ``older_than_s`` seconds (read ``referenced`` before calling; see
        the module's note on the grace period)."""
        if older_than_s < 0:
            raise ValueError("older_than_s must not be negative")
        refs = referenced if isinstance(referenced, set | frozenset) else set(referenced)
        cutoff = time.time() - older_than_s
        report = SweepReport()
        for sha, modified in list(self._objects()):
            if sha in refs:
                report.referenced += 1
                continue
            if modified.timestamp() > cutoff:
                report.kept_young += 1
                continue
            head = self._head(sha)  # again, just before deleting: a re-upload may have touched it
            if head is None:
                continue
            if head["LastModified"].timestamp() > cutoff:
                report.kept_young += 1
                continue
            self.client.delete_object(Bucket=self.bucket, Key=self.key_of(sha))
            report.removed.append(sha)
        sweep_temp(self.tmp, cutoff, report)
        return report

    def delete(self, sha256: str) -> bool:
        """Remove one blob now (retention or erasure orders). True if it was there."""
        if self._head(sha256) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))
        return True
