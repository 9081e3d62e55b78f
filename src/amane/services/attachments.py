"""Files attached to complaints, reports and cases.

The bytes go to the content-addressed blob store first (a local directory: temp file, fsync,
rename; or an S3-compatible bucket, ``AMANE_ATTACHMENTS_BACKEND=s3``), then the row
is committed: a crash in between leaves an unreferenced blob, which the sweeper removes after a
grace period, never a row without its file. Who may attach to or download from an object is the
object's own rule (``policy.visible_complaints / visible_reports / visible_cases``), and every
download is audited."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amane.files import DEFAULT_ALLOWED_TYPES, BlobMissing, BlobStore, CorruptBlob, Readable, SweepReport
from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import FieldError, NotFound, ValidationFailed
from amane.services.policy import visible_cases, visible_complaints, visible_evidence, visible_reports
from amane.services.procedures import add_event, audited_attempt
from amane.settings import Settings, blob_store
from amane.store.db import Database
from amane.store.tables import Attachment, Case, Complaint, EvidenceItem, Report
from amane.store.types import utcnow

OWNERS: dict[str, tuple[Any, Any]] = {
    "complaint": (Complaint, visible_complaints), "report": (Report, visible_reports), "case": (Case, visible_cases),
    # photos of a seized item, scans of its seal and paperwork
    "evidence": (EvidenceItem, visible_evidence)}
_UNSAFE = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


def safe_filename(name: str | None) -> str:
    """The name to show and to offer on download: no path, no control characters, 255 at most."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = _UNSAFE.sub("_", base).strip("._ ") or "file"
    return base[:255]


@dataclass(frozen=True)
class AttachmentView:
    id: int
    owner_kind: str
    owner_id: int
    sha256: str
    size: int
    media_type: str
    filename: str
    uploaded_at: datetime
    uploaded_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "owner": f"{self.owner_kind}/{self.owner_id}", "sha256": self.sha256,
                "size": self.size, "media_type": self.media_type, "filename": self.filename,
                "uploaded_at": self.uploaded_at.isoformat(), "uploaded_by": self.uploaded_by}


class AttachmentService:
    def __init__(self, db: Database, settings: Settings, writer: AuditWriter) -> None:
        self.db = db
        self.settings = settings
        self.writer = writer
        self.store = blob_store(settings)
        self.allowed = frozenset(settings.attachments_allowed_types) or DEFAULT_ALLOWED_TYPES

    def _owner(self, s: Session, actor: Actor, kind: str, oid: int) -> Any:
        if kind not in OWNERS:
            raise ValidationFailed([FieldError("owner", "enum.value", f"attach to one of: {', '.join(OWNERS)}")])
        table, clause = OWNERS[kind]
        row = s.scalar(select(table).where(table.id == oid, clause(actor)))
        if row is None:
            raise NotFound(kind, str(oid))
        return row

    @audited_attempt("attach", "Attachment")
    def upload(self, actor: Actor, kind: str, oid: int, stream: Readable, *, filename: str | None) -> AttachmentView:
        """Store the file, then reference it. Allowed to whoever may work on the object: creating
        records (complaints, reports) or being able to open the case."""
        if not (actor.can("records.create") or actor.can("cases.supervise")
                or (kind == "evidence" and actor.can("evidence.custody"))):
            actor.require("records.create")
        with self.db.read() as s:
            self._owner(s, actor, kind, oid)  # 404 before reading a byte of the upload
        blob = self.store.put(stream, max_bytes=self.settings.attachments_max_bytes, allowed_types=self.allowed,
                              filename=filename)
        name = safe_filename(filename)
        with self.db.write() as s:
            self._owner(s, actor, kind, oid)
            a = Attachment(owner_kind=kind, owner_id=oid, sha256=blob.sha256, size=blob.size,
                           media_type=blob.media_type, filename=name, uploaded_at=utcnow(),
                           uploaded_by=actor.user_id)
            s.add(a)
            s.flush()
            add_event(s, kind, oid, actor, "attachment", details={"attachment": a.id, "filename": name,
                                                                  "sha256": blob.sha256, "size": blob.size})
            audit.append(s, [(actor, AuditEvent("attach", kind.capitalize(), str(oid), details={
                "attachment": a.id, "sha256": blob.sha256, "size": blob.size, "media_type": blob.media_type}))])
            return AttachmentView(a.id, kind, oid, a.sha256, a.size, a.media_type, a.filename, a.uploaded_at,
                                  actor.username)

    def list(self, actor: Actor, kind: str, oid: int) -> builtins.list[AttachmentView]:
        with self.db.read() as s:
            self._owner(s, actor, kind, oid)
            rows = s.scalars(select(Attachment).where(Attachment.owner_kind == kind, Attachment.owner_id == oid)
                             .order_by(Attachment.id)).all()
            from amane.services.procedures import usernames

            names = usernames(s, {r.uploaded_by for r in rows})
            return [AttachmentView(r.id, kind, oid, r.sha256, r.size, r.media_type, r.filename, r.uploaded_at,
                                   names.get(r.uploaded_by) if r.uploaded_by else None) for r in rows]

    def download(self, actor: Actor, attachment_id: int) -> tuple[AttachmentView, Iterator[bytes]]:
        """The file's description and its bytes as chunks; the hash is checked while streaming
        (``CorruptBlob`` at the end if a byte changed). Audited before the first byte."""
        with self.db.read() as s:
            a = s.get(Attachment, attachment_id)
            if a is None:
                raise NotFound("attachment", str(attachment_id))
            try:
                self._owner(s, actor, a.owner_kind, a.owner_id)
            except NotFound:
                raise NotFound("attachment", str(attachment_id)) from None
            view = AttachmentView(a.id, a.owner_kind, a.owner_id, a.sha256, a.size, a.media_type, a.filename,
                                  a.uploaded_at, None)
        reader = self.store.open(view.sha256)
        self.writer.record(actor, AuditEvent("download", "Attachment", str(attachment_id), details={
            "owner": f"{view.owner_kind}/{view.owner_id}", "sha256": view.sha256}))
        return view, reader.chunks(64 * 1024)

    def read_all(self, actor: Actor, attachment_id: int) -> tuple[AttachmentView, bytes]:
        view, chunks = self.download(actor, attachment_id)
        return view, b"".join(chunks)

    def _stored(self) -> builtins.list[tuple[str, int, str]]:
        """(sha256, size, media type) of every blob a row references, once each."""
        with self.db.read() as s:
            rows = s.execute(select(Attachment.sha256, Attachment.size, Attachment.media_type)
                             .order_by(Attachment.sha256)).all()
        seen: dict[str, tuple[str, int, str]] = {}
        for sha, size, media_type in rows:
            seen.setdefault(sha, (sha, size, media_type))
        return builtins.list(seen.values())

    def check(self, *, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Read every referenced blob back and re-hash it: counts, and the hashes that are missing or
        whose bytes no longer match (an operator's integrity check, e.g. after moving storage)."""
        blobs = self._stored()
        report: dict[str, Any] = {"checked": 0, "bytes": 0, "missing": [], "corrupt": []}
        for i, (sha, _size, _mt) in enumerate(blobs, 1):
            try:
                report["bytes"] += sum(len(chunk) for chunk in self.store.open(sha).chunks())
            except BlobMissing:
                report["missing"].append(sha)
            except CorruptBlob:
                report["corrupt"].append(sha)
            report["checked"] += 1
            if progress:
                progress(i, len(blobs))
        return report

    def copy_from(self, source: BlobStore, *,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Copy every referenced blob that this store lacks from ``source`` (another store, e.g. the
        local directory when moving to S3). Each copy is verified twice: the source's bytes against
        their hash while reading, and the type by content against the row's. Idempotent: blobs
        already here are skipped, so an interrupted copy is finished by running it again."""
        blobs = self._stored()
        report: dict[str, Any] = {"copied": 0, "present": 0, "bytes": 0, "missing": [], "corrupt": []}
        for i, (sha, size, media_type) in enumerate(blobs, 1):
            if self.store.exists(sha):
                report["present"] += 1
            else:
                try:
                    with source.open(sha) as reader:
                        blob = self.store.put(reader, max_bytes=max(size, 1), allowed_types={media_type})
                    if blob.sha256 != sha:  # cannot happen when the reader verified; kept as a guard
                        raise CorruptBlob(sha, blob.sha256)
                    report["copied"] += 1
                    report["bytes"] += size
                except BlobMissing:
                    report["missing"].append(sha)
                except CorruptBlob:
                    report["corrupt"].append(sha)
            if progress:
                progress(i, len(blobs))
        return report

    def sweep(self) -> SweepReport:
        """Remove blobs no row references (older than the grace period), and stale temp files."""
        with self.db.read() as s:
            referenced = set(s.scalars(select(Attachment.sha256).distinct()))
        return self.store.sweep(referenced, older_than_s=self.settings.attachments_sweep_grace_s)
