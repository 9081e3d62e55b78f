"""Trace extraction on digital evidence, and what the records already know of its selectors.

A lab technician (or investigator) asks for a scan of a digital item's content: a path on the
lab's server (an image, a directory of extracted files). The request is stored as a queued
:class:`~amane.store.tables.TraceScan`; ``amane forensics worker`` runs queued scans (``--once``
for cron), writing progress (bytes done of total) as it goes, so the screens show it. A scan that
was running when its worker stopped is queued again when a worker next starts: a restart loses no
requested scan. ``amane forensics scan PATH --item ID`` runs one at once in the foreground and
attaches its result the same way.

A finished scan keeps its counts per kind, what it skipped and why, and each distinct selector
with its count and first location (the full feature files stay in the scan's output folder).
:meth:`TraceService.hits` matches the selectors against the records store through
:class:`~amane.services.selectors.SelectorMatcher`, within the viewer's need-to-know: "phone
+2126... found on item SCL-... belongs to person X, also on case Y of unit Z". The case view
gathers the hits of every item on the case."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.hashsets import HashSetService
from amane.services.notifications import notify
from amane.services.policy import visible_cases, visible_evidence
from amane.services.selectors import SELECTOR_TYPES, SelectorMatcher
from amane.store.db import Database
from amane.store.tables import Case, CaseMember, EvidenceItem, TraceScan, TraceSelector, User, UserRole
from amane.store.types import utcnow

#: Seconds between two progress writes of a running scan.
PROGRESS_EVERY = 1.0
#: Distinct selectors kept per scan (the feature files keep every occurrence).
MAX_SELECTORS = 200_000
SCAN_KINDS = ("traces", "files")


def _scan_dict(sc: TraceScan) -> dict[str, Any]:
    return {"id": sc.id, "item_id": sc.item_id, "status": sc.status, "path": sc.path, "out_dir": sc.out_dir,
            "bytes_total": sc.bytes_total, "bytes_done": sc.bytes_done,
            "progress": round(sc.bytes_done / sc.bytes_total, 4) if sc.bytes_total else None,
            "counts": sc.counts, "skipped": sc.skipped, "engine": sc.engine, "seconds": round(sc.seconds, 3),
            "error": sc.error, "kind": sc.kind, "findings": sc.findings,
            "created_at": sc.created_at.isoformat() if sc.created_at else None,
            "started_at": sc.started_at.isoformat() if sc.started_at else None,
            "finished_at": sc.finished_at.isoformat() if sc.finished_at else None}


class TraceService:
    def __init__(self, db: Database, writer: AuditWriter, matcher: SelectorMatcher,
                 hashsets: HashSetService) -> None:
        self.db = db
        self.writer = writer
        self.matcher = matcher
        self.hashsets = hashsets

    def _item(self, actor: Actor, item_id: int) -> EvidenceItem:
        with self.db.read() as s:
            item = s.scalar(select(EvidenceItem).where(EvidenceItem.id == item_id, visible_evidence(actor)))
            if item is None:
                raise NotFound("evidence item", str(item_id))
            s.expunge(item)
            return item

    def _require(self, actor: Actor) -> None:
        if not (actor.can("lab.work") or actor.can("evidence.custody")):
            actor.require("lab.work")

    def queue(self, actor: Actor, item_id: int, path: str, *, out_dir: str | None = None,
              kind: str = "traces") -> dict[str, Any]:
        """Ask for a scan of ``path`` (on this server) for a digital item; a worker runs it. ``kind``:
        ``traces`` (selectors in the bytes) or ``files`` (file systems listed, files hashed and
        matched against the known hash sets, timeline written to ``out_dir``)."""
        self._require(actor)
        item = self._item(actor, item_id)
        errors = []
        if kind not in SCAN_KINDS:
            errors.append(FieldError("kind", "enum", f"one of {', '.join(SCAN_KINDS)}"))
        if item.kind != "digital":
            errors.append(FieldError("item_id", "evidence.not_digital", "only digital items are scanned"))
        if not path or not os.path.exists(path):
            errors.append(FieldError("path", "path.missing", f"{path or '(empty)'} does not exist on the server"))
        elif not os.access(path, os.R_OK):
            errors.append(FieldError("path", "path.unreadable", f"{path} cannot be read"))
        if out_dir and os.path.exists(out_dir) and (not os.path.isdir(out_dir) or any(os.scandir(out_dir))):
            errors.append(FieldError("out_dir", "path.not_empty", f"{out_dir} exists and is not an empty folder"))
        if errors:
            raise ValidationFailed(errors)
        total = _size(path)
        with self.db.write() as s:
            sc = TraceScan(item_id=item.id, path=str(path), out_dir=out_dir, status="queued", bytes_total=total,
                           counts={}, skipped=[], findings=[], kind=kind, created_by=actor.user_id)
            s.add(sc)
            s.flush()
            out = _scan_dict(sc)
        self.writer.record(actor, AuditEvent("trace.queue", "EvidenceItem", str(item.id), details={
            "scan": out["id"], "path": str(path), "kind": kind}))
        return out

    # -- running ---------------------------------------------------------------------------------

    def requeue_interrupted(self) -> int:
        """Queue again the scans left ``running`` by a worker that stopped (call at worker start)."""
        with self.db.write() as s:
            ids = list(s.scalars(select(TraceScan.id).where(TraceScan.status == "running")))
            if ids:
                s.execute(update(TraceScan).where(TraceScan.id.in_(ids)).values(status="queued", bytes_done=0))
        return len(ids)

    def next_queued(self) -> int | None:
        """Claim the oldest queued scan (marks it running); ``None`` when there is none."""
        with self.db.write() as s:
            sc = s.scalar(select(TraceScan).where(TraceScan.status == "queued").order_by(TraceScan.id)
                          .limit(1).with_for_update(skip_locked=True))
            if sc is None:
                return None
            sc.status = "running"
            sc.started_at = utcnow()
            sc.bytes_done = 0
            return sc.id

    def run(self, scan_id: int, *, jobs: int = 1,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Run a claimed scan to its end (done or failed); progress is written to the row."""
        from amane.forensics import Options, scan

        with self.db.read() as s:
            sc = s.get(TraceScan, scan_id)
            if sc is None:
                raise NotFound("trace scan", str(scan_id))
            path, out_dir, kind = sc.path, sc.out_dir, sc.kind
        last = [0.0]

        def on_progress(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                with self.db.write() as w:
                    w.execute(update(TraceScan).where(TraceScan.id == scan_id)
                              .values(bytes_done=done, bytes_total=total))

        try:
            if kind == "files":
                return self._run_files(scan_id, path, out_dir, on_progress)
            result = scan(path, out_dir, jobs=jobs, progress=on_progress, options=Options())
        except Exception as exc:  # noqa: BLE001 - the scan is marked failed with the reason
            with self.db.write() as s:
                s.execute(update(TraceScan).where(TraceScan.id == scan_id).values(
                    status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow()))
                sc2 = s.get(TraceScan, scan_id)
                assert sc2 is not None
                return _scan_dict(sc2)
        return self._store(scan_id, result)

    def _run_files(self, scan_id: int, path: str, out_dir: str | None,
                   progress: Callable[[int, int], None]) -> dict[str, Any]:
        """List the image's files (deleted ones too), hash them, match the hash sets; known-good
        files are counted and skipped, known-bad ones become findings and alert the item's unit
        chiefs (and the case team when the item is on a case)."""
        from amane.forensics.filesystems import hash_files, list_files, open_image, timeline, write_timeline_csv

        counts: Counter[str] = Counter()
        findings: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        with open_image(path) as image:
            entries = [e for e in list_files(image) if e.type == "r"]
            counts["files"] = len(entries)
            counts["deleted"] = sum(1 for e in entries if e.deleted)
            hashed = list(hash_files(image, entries, progress=progress))
            digests = [(alg, bytes.fromhex(h)) for e in hashed for alg, h in
                       (("sha256", e.sha256), ("md5", e.md5), ("sha1", e.sha1)) if h]
            with self.db.read() as s:
                known = self.hashsets.lookup(s, digests)
            for e in hashed:
                if e.error:
                    counts["unreadable"] += 1
                sets = [m for alg, h in (("sha256", e.sha256), ("md5", e.md5), ("sha1", e.sha1)) if h
                        for m in known.get((alg, bytes.fromhex(h)), [])]
                bad = sorted({name for name, k in sets if k == "known_bad"})
                if bad:
                    counts["known_bad"] += 1
                    findings.append({"path": e.path, "inode": e.inode, "partition": e.partition, "size": e.size,
                                     "deleted": e.deleted, "sha256": e.sha256, "md5": e.md5, "sha1": e.sha1,
                                     "sets": bad})
                elif sets:
                    counts["known_good"] += 1
                else:
                    counts["unknown"] += 1
            skipped = [{"reason": k.reason, "offset": 0, "container": "", "file": k.what}
                       for k in image.skipped][:1000]
            if out_dir:
                os.makedirs(out_dir, exist_ok=True)
                counts["timeline_rows"] = write_timeline_csv(timeline(image), os.path.join(out_dir, "timeline.csv"))
            size = image.size
        with self.db.write() as s:
            sc = s.get(TraceScan, scan_id)
            assert sc is not None
            sc.status = "done"
            sc.counts = dict(counts)
            sc.findings = findings[:5000]
            sc.skipped = skipped
            sc.engine = "sleuthkit"
            sc.bytes_done = sc.bytes_total = size
            sc.finished_at = utcnow()
            sc.seconds = (sc.finished_at - sc.started_at).total_seconds() if sc.started_at else 0.0
            if findings:
                self._alert_known_bad(s, sc, len(findings))
            return _scan_dict(sc)

    def _alert_known_bad(self, s: Session, sc: TraceScan, n: int) -> None:
        item = s.get(EvidenceItem, sc.item_id)
        if item is None:
            return
        users: set[int] = set(s.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                                        .where(User.unit_id == item.unit_id, User.active.is_(True),
                                               UserRole.role == "unit_chief")))
        if item.case_id is not None:
            users |= set(s.scalars(select(CaseMember.user_id).where(CaseMember.case_id == item.case_id)))
        if sc.created_by:
            users.add(sc.created_by)
        for uid in sorted(users):
            notify(s, uid, "evidence.known_bad", {"reference": item.reference, "count": n},
                   link=f"/evidence/{item.id}", dedup=f"known-bad:{sc.id}:{uid}")

    def attach(self, actor: Actor, item_id: int, result: Any) -> dict[str, Any]:
        """Attach a scan already run in the foreground (``amane forensics scan --item``)."""
        self._require(actor)
        item = self._item(actor, item_id)
        with self.db.write() as s:
            sc = TraceScan(item_id=item.id, path=str(result.source), status="running", counts={}, skipped=[],
                           created_by=actor.user_id, started_at=utcnow(), bytes_total=result.bytes_scanned)
            s.add(sc)
            s.flush()
            scan_id = sc.id
        out = self._store(scan_id, result)
        self.writer.record(actor, AuditEvent("trace.attach", "EvidenceItem", str(item.id), details={
            "scan": scan_id, "counts": out["counts"]}))
        return out

    def _store(self, scan_id: int, result: Any) -> dict[str, Any]:
        counts: Counter[tuple[str, str]] = Counter()
        first: dict[tuple[str, str], str] = {}
        for f in result.features:
            key = (f.kind[:16], f.value[:300])
            counts[key] += 1
            if key not in first:
                first[key] = (f"{f.file}:" if f.file else "") + f.location
        with self.db.write() as s:
            for (kind, value), n in counts.most_common(MAX_SELECTORS):
                s.add(TraceSelector(scan_id=scan_id, kind=kind, value=value, count=n,
                                    first_location=first[(kind, value)][:500]))
            sc = s.get(TraceScan, scan_id)
            assert sc is not None
            sc.status = "done"
            sc.counts = result.counts()
            sc.skipped = [{"reason": k.reason, "offset": k.offset, "container": k.container, "file": k.file}
                          for k in result.skipped][:1000]
            sc.engine = result.engine
            sc.seconds = result.seconds
            sc.bytes_done = result.bytes_scanned
            sc.bytes_total = max(sc.bytes_total, result.bytes_scanned)
            sc.finished_at = utcnow()
            return _scan_dict(sc)

    def cancel(self, actor: Actor, scan_id: int) -> dict[str, Any]:
        """Withdraw a scan that has not started."""
        self._require(actor)
        with self.db.write() as s:
            sc = s.scalar(select(TraceScan).join(EvidenceItem, EvidenceItem.id == TraceScan.item_id)
                          .where(TraceScan.id == scan_id, visible_evidence(actor)).with_for_update())
            if sc is None:
                raise NotFound("trace scan", str(scan_id))
            if sc.status != "queued":
                raise Conflict(f"a {sc.status} scan cannot be cancelled", field="status", rule="state.transition",
                               state=sc.status, allowed=[])
            sc.status = "failed"
            sc.error = "cancelled"
            sc.finished_at = utcnow()
            out = _scan_dict(sc)
        self.writer.record(actor, AuditEvent("trace.cancel", "TraceScan", str(scan_id)))
        return out

    # -- reading ---------------------------------------------------------------------------------

    def scans(self, actor: Actor, item_id: int) -> list[dict[str, Any]]:
        item = self._item(actor, item_id)
        with self.db.read() as s:
            rows = s.scalars(select(TraceScan).where(TraceScan.item_id == item.id).order_by(TraceScan.id)).all()
            out = [_scan_dict(r) for r in rows]
        self.writer.record(actor, AuditEvent("list", "TraceScan", str(item_id), details={"n": len(out)}))
        return out

    def selectors(self, actor: Actor, item_id: int, *, kind: str | None = None,
                  limit: int = 500) -> list[dict[str, Any]]:
        """Distinct selectors of the item's finished scans, most frequent first (the histogram)."""
        item = self._item(actor, item_id)
        with self.db.read() as s:
            q = (select(TraceSelector).join(TraceScan, TraceScan.id == TraceSelector.scan_id)
                 .where(TraceScan.item_id == item.id, TraceScan.status == "done"))
            if kind:
                q = q.where(TraceSelector.kind == kind)
            rows = s.scalars(q.order_by(TraceSelector.count.desc(), TraceSelector.id).limit(max(1, limit))).all()
            out = [{"scan_id": r.scan_id, "kind": r.kind, "value": r.value, "count": r.count,
                    "first_location": r.first_location} for r in rows]
        self.writer.record(actor, AuditEvent("read", "TraceSelector", str(item_id), details={"kind": kind}))
        return out

    def hits(self, actor: Actor, item_id: int) -> list[dict[str, Any]]:
        """Records (visible to ``actor``) holding a selector found on the item."""
        item = self._item(actor, item_id)
        pairs = self._pairs([item.id])
        hits = self.matcher.match(actor, pairs, context="EvidenceItem", context_id=str(item.id))
        return [h.as_dict() | {"items": [{"id": item.id, "reference": item.reference}]} for h in hits]

    def case_hits(self, actor: Actor, case_id: int) -> list[dict[str, Any]]:
        """Record hits of the selectors found on every visible item of a visible case."""
        with self.db.read() as s:
            if s.scalar(select(Case.id).where(Case.id == case_id, visible_cases(actor))) is None:
                raise NotFound("case", str(case_id))
            items = s.execute(select(EvidenceItem.id, EvidenceItem.reference)
                              .where(EvidenceItem.case_id == case_id, visible_evidence(actor))).all()
        refs = {iid: ref for iid, ref in items}
        by_pair = self._pairs_by_item(list(refs))
        hits = self.matcher.match(actor, list(by_pair), context="Case", context_id=str(case_id))
        return [h.as_dict() | {"items": [{"id": i, "reference": refs[i]} for i in sorted(by_pair[(h.kind, h.value)])]}
                for h in hits]

    def _pairs(self, item_ids: list[int]) -> list[tuple[str, str]]:
        return list(self._pairs_by_item(item_ids))

    def _pairs_by_item(self, item_ids: list[int]) -> dict[tuple[str, str], set[int]]:
        if not item_ids:
            return {}
        with self.db.read() as s:
            rows = s.execute(select(TraceScan.item_id, TraceSelector.kind, TraceSelector.value)
                             .join(TraceScan, TraceScan.id == TraceSelector.scan_id)
                             .where(TraceScan.item_id.in_(item_ids), TraceScan.status == "done",
                                    TraceSelector.kind.in_(list(SELECTOR_TYPES)))).all()
        out: dict[tuple[str, str], set[int]] = {}
        for iid, kind, value in rows:
            out.setdefault((kind, value), set()).add(iid)
        return out


def _size(path: str) -> int:
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(p):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                continue
    return total
