"""Content-addressed blob store for attachments (photos, scans, PDFs, recordings).

A blob is named by the SHA-256 of its bytes and kept at ``root/ab/cd/<sha256>``.
Writing follows the house rule "temp file, fsync, rename, then the database row":

1. :meth:`LocalBlobStore.put` streams the upload into ``root/tmp/*.part`` (same file
   system as the blobs, so the final rename is atomic), hashing and counting as it
   goes; over ``max_bytes`` it stops, deletes the temp file and refuses.
2. The type is decided by content (:mod:`amane.files.sniff`) and checked against
   ``allowed_types``.
3. The temp file is fsynced, renamed into place, and its directory fsynced. Only
   then does the caller insert the database row that references the hash.

A crash before step 3 leaves a temp file; a crash between step 3 and the caller's
commit leaves an unreferenced blob. :meth:`LocalBlobStore.sweep` removes both once
they are older than a grace period. Putting content that is already stored refreshes
the blob's modification time, and ``put`` and ``sweep`` exclude each other per blob
with a file lock, so a blob that is about to be referenced again is never swept.

Reading (:meth:`~LocalBlobStore.open`, :meth:`~LocalBlobStore.read`) re-hashes the
bytes and raises :class:`~amane.files.errors.CorruptBlob` if they do not match the name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from amane.files.errors import BlobError, BlobMissing, CorruptBlob, UploadRefused
from amane.files.sniff import HEAD_BYTES, TEXT, UNKNOWN, TextProbe, is_allowed, sniff_signature

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Read and write unit while streaming.
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX2 = re.compile(r"[0-9a-f]{2}")
_TMP_SUFFIX = ".part"


class Readable(Protocol):
    """Anything with a blocking ``read(n)``: an open file, ``io.BytesIO``, an ``UploadFile.file``."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    #: Decided from the content, never from a file name or a client's header.
    media_type: str
    #: Where the blob lies (local back end); None for a back end without a file system path.
    path: Path | None = None
    #: False when the same content was already stored (deduplicated).
    created: bool = True


@dataclass
class SweepReport:
    #: Hashes of the unreferenced blobs removed.
    removed: list[str] = field(default_factory=list)
    #: Abandoned temp files removed (uploads cut short by a crash or a kill).
    removed_temp: int = 0
    #: Unreferenced blobs and temp files kept because they are younger than the grace period.
    kept_young: int = 0
    #: Referenced blobs seen (and kept).
    referenced: int = 0


@runtime_checkable
class BlobStore(Protocol):
    """The seam for another back end (e.g. S3-compatible object storage): these five calls are
    all the workflow uses."""

    def put(
        self, stream: Readable, *, max_bytes: int, allowed_types: Collection[str], filename: str | None = None,
    ) -> StoredBlob: ...

    def open(self, sha256: str) -> BlobReader: ...

    def read(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def sweep(self, referenced: Collection[str], *, older_than_s: float) -> SweepReport: ...


class BlobReader(io.RawIOBase):
    """A read-only, forward-only stream over one blob that re-hashes what it reads.

    When the end of the content is reached, the hash is compared with the blob's name and
    :class:`CorruptBlob` is raised on a mismatch, so a consumer that reads to the end (``read()``,
    :meth:`chunks`, ``shutil.copyfileobj``) always learns of corruption. A consumer that stops
    early has verified nothing. An HTTP download should stream :meth:`chunks`, so that a corrupt
    blob aborts the response instead of completing it.
    """

    def __init__(self, sha256: str, raw: io.RawIOBase) -> None:
        super().__init__()
        self.sha256 = sha256
        self._raw = raw
        self._hash = hashlib.sha256()
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        n = self._raw.readinto(view)
        if n:
            self._hash.update(view[:n])
            return n
        if not self._verified:
            actual = self._hash.hexdigest()
            if actual != self.sha256:
                raise CorruptBlob(self.sha256, actual)
            self._verified = True
        return 0

    @property
    def verified(self) -> bool:
        """True once the whole content has been read and matched its hash."""
        return self._verified

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The content in chunks, then closes; raises :class:`CorruptBlob` at the end on a mismatch."""
        with self:
            while chunk := self.read(size):
                yield chunk

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def check_sha256(sha256: str) -> str:
    """Refuse anything that is not 64 lowercase hex digits (this also keeps paths inside the store)."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise BlobError(f"not a SHA-256 hex digest: {sha256!r}", field="sha256", rule="file.sha256_format")
    return sha256


def _human(n: int) -> str:
    """1048576 -> '1 MiB', 1536 -> '1.5 KiB' (for messages)."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def spool_checked(
    stream: Readable, out: IO[bytes], max_bytes: int, allowed: Collection[str], label: str,
    *, also: Sequence[Any] = (),
) -> tuple[str, int, str]:
    """Copy ``stream`` into ``out`` while hashing (SHA-256, plus any hash objects in ``also``),
    counting and deciding the type by content; refuse (:class:`UploadRefused`) as soon as the size
    limit or the type rule is broken. Shared by every back end: the checks happen before anything
    is published. Returns (sha256, size, media type)."""
    h = hashlib.sha256()
    size = 0
    head = bytearray()
    signature: str | None = None
    probe = TextProbe()

    def refuse_type(media_type: str) -> UploadRefused:
        shown = ", ".join(sorted(allowed)) or "none"
        return UploadRefused(
            "file.type_not_allowed",
            f"{label} is {media_type} by its content, which is not accepted here (accepted: {shown})",
            media_type=media_type, allowed=sorted(allowed),
        )

    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            limit = _human(max_bytes) + ("" if max_bytes < 1024 else f" ({max_bytes} bytes)")
            raise UploadRefused(
                "file.too_large", f"{label} is larger than the limit of {limit}", max_bytes=max_bytes,
            )
        h.update(chunk)
        for extra in also:
            extra.update(chunk)
        out.write(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
            if len(head) >= HEAD_BYTES:  # the signature is decided on the first HEAD_BYTES bytes
                signature = sniff_signature(bytes(head))
                if signature and not is_allowed(signature, allowed):
                    raise refuse_type(signature)  # refuse early, without reading the rest
        if signature is None and probe.ok:
            probe.feed(chunk)
        if signature is None and not probe.ok and len(head) >= HEAD_BYTES and not is_allowed(UNKNOWN, allowed):
            raise refuse_type(UNKNOWN)  # neither a known format nor text: refuse early
    if size == 0:
        raise UploadRefused("file.empty", f"{label} is empty")
    if len(head) < HEAD_BYTES:  # short content: decide on all of it
        signature = sniff_signature(bytes(head))
    if signature:
        media_type = signature
    else:
        media_type = TEXT if probe.feed(b"", final=True) else UNKNOWN
    if not is_allowed(media_type, allowed):
        raise refuse_type(media_type)
    return h.hexdigest(), size, media_type


def sweep_temp(folder: Path, cutoff: float, report: SweepReport) -> None:
    """Remove the abandoned upload temp files of ``folder`` last modified before ``cutoff`` (uploads
    cut short by a crash or a kill; a live upload writes continuously and stays young)."""
    for tmp in folder.iterdir():
        if not tmp.name.endswith(_TMP_SUFFIX):
            continue
        try:
            if tmp.stat().st_mtime > cutoff:
                report.kept_young += 1
                continue
            tmp.unlink()
        except FileNotFoundError:
            continue
        report.removed_temp += 1


class LocalBlobStore:
    """Blobs on the local file system under ``root`` (created if missing).

    ``root`` must be on a POSIX file system with ``flock`` and atomic rename (any local Linux file
    system; NFS only with working locks). Several threads and processes may share one root.
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        #: Turn off only where durability does not matter (tests): it costs disk flushes per blob.
        self.fsync = fsync
        self.tmp.mkdir(parents=True, exist_ok=True, mode=0o750)
        self._lock_path = self.root / ".lock"
        self._lock_path.touch(exist_ok=True)

    # -- layout -----------------------------------------------------------------------------

    def path_of(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self.path_of(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    def iter_blobs(self) -> Iterator[str]:
        """Every stored hash: files in the fan-out directories whose name is their SHA-256."""
        for d1 in sorted(self.root.iterdir()):
            if not (_HEX2.fullmatch(d1.name) and d1.is_dir()):
                continue
            for d2 in sorted(d1.iterdir()):
                if not (_HEX2.fullmatch(d2.name) and d2.is_dir()):
                    continue
                prefix = d1.name + d2.name
                for f in sorted(d2.iterdir()):
                    if _SHA256.fullmatch(f.name) and f.name.startswith(prefix):
                        yield f.name

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        # One open file description per use: flock then excludes threads of this process too.
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    # -- writing ----------------------------------------------------------------------------

    def put(
        self, stream: Readable, *, max_bytes: int, allowed_types: Collection[str], filename: str | None = None,
    ) -> StoredBlob:
        """Store the content of ``stream``.

        Refused with :class:`UploadRefused` (and nothing left behind) if it is larger than
        ``max_bytes`` (rule ``file.too_large``), empty (``file.empty``), or of a type, decided by
        content, not in ``allowed_types`` (``file.type_not_allowed``; exact types such as
        ``image/png`` or families such as ``image/*``). ``filename`` only makes messages clearer; it
        never decides the type. Storing content that is already there returns the same hash with
        ``created=False``."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        label = f"'{filename}'" if filename else "the file"
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="put-", suffix=_TMP_SUFFIX)
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size, media_type = spool_checked(stream, out, max_bytes, allowed_types, label)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.chmod(tmp_path, 0o440)
            return self._publish(tmp_path, digest, size, media_type)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
            raise

    def _publish(self, tmp_path: Path, digest: str, size: int, media_type: str) -> StoredBlob:
        final = self.path_of(digest)
        new_dirs = not final.parent.is_dir()
        if new_dirs:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        with self._locked(exclusive=False):
            try:
                existing: os.stat_result | None = os.stat(final)
            except FileNotFoundError:
                existing = None
            if existing is not None and existing.st_size == size:
                # Same content already stored: keep it, and make it young again so that a sweep
                # running before our caller's commit leaves it alone.
                tmp_path.unlink()
                os.utime(final)
                return StoredBlob(digest, size, media_type, final, created=False)
            # Absent (or a damaged copy of the wrong size, which this replaces): publish ours.
            os.replace(tmp_path, final)
            os.utime(final)
            if self.fsync:
                _fsync_dir(final.parent)
                if new_dirs:
                    _fsync_dir(final.parent.parent)
                    _fsync_dir(self.root)
        return StoredBlob(digest, size, media_type, final, created=True)

    # -- reading ----------------------------------------------------------------------------

    def open(self, sha256: str) -> BlobReader:
        """A stream over the blob that raises :class:`CorruptBlob` at its end if a byte changed."""
        path = self.path_of(sha256)
        try:
            raw = io.FileIO(path, "rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return BlobReader(sha256, raw)

    def read(self, sha256: str) -> bytes:
        """The whole content, verified against its hash (for small blobs; stream big ones)."""
        with self.open(sha256) as f:
            return f.read()

    def verify(self, sha256: str) -> int:
        """Re-hash a stored blob: its size if intact, :class:`CorruptBlob` if not."""
        return sum(len(chunk) for chunk in self.open(sha256).chunks())

    # -- removal ----------------------------------------------------------------------------

    def sweep(self, referenced: Collection[str], *, older_than_s: float) -> SweepReport:
        """Delete blobs whose hash is not in ``referenced``, and abandoned temp files, but only
        those not modified for ``older_than_s`` seconds.

        Read ``referenced`` from the database *before* calling. The grace period must be longer
        than the longest time between an upload's ``put`` and its database commit, plus the
        sweep's own duration: a blob stored (or stored again) within it is kept even when the
        snapshot of references predates its row."""
        if older_than_s < 0:
            raise ValueError("older_than_s must not be negative")
        refs = referenced if isinstance(referenced, set | frozenset) else set(referenced)
        cutoff = time.time() - older_than_s
        report = SweepReport()
        for sha in list(self.iter_blobs()):
            if sha in refs:
                report.referenced += 1
                continue
            path = self.path_of(sha)
            with self._locked(exclusive=True):
                try:
                    if os.stat(path).st_mtime > cutoff:
                        report.kept_young += 1
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
            report.removed.append(sha)
        sweep_temp(self.tmp, cutoff, report)
        return report

    def delete(self, sha256: str) -> bool:
        """Remove one blob now (retention or erasure orders). True if it was there."""
        path = self.path_of(sha256)
        with self._locked(exclusive=True):
            try:
                path.unlink()
            except FileNotFoundError:
                return False
        return True
