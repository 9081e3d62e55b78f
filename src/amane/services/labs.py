"""Laboratory requests, lab statistics and the printable custody sheet of an evidence item.

An investigator asks a laboratory unit (``kind: lab``: the scientific police labs, the digital
forensics lab) for an examination of given evidence items; the request gets a reference per lab
and year (``LAB-2026-LPTS-RABAT-000001``) and goes::

    submitted --accept (lab chief names a technician)--> accepted --start--> in_progress
              --reject (reason)--> rejected                         --complete (results, report)--> completed
    submitted | accepted | in_progress --cancel (requester, reason)--> cancelled

Every change is one transaction with its timeline event (``proc_events``, owner ``lab_request``),
its audit record and its inbox notices (lab chiefs on submission, the technician on assignment,
the requester on completion or rejection). An illegal move is a 409 listing the allowed ones.

Who sees a request is ``policy.visible_lab_requests``: the requester's unit chain, the lab (and
the labs above it), national units, the requester and the technician; anyone else gets a 404.
A request shows a summary of its items (reference, seal, category, hashes) to whoever sees the
request: the lab needs it before the items reach it. The items' own pages and custody logs stay
under ``policy.visible_evidence``.

Statistics (lab chiefs, and national analysts): open workload by state, technician and
examination type, and turnaround from submission to completion (median and 90th percentile in
days, ``statistics.quantiles`` with the inclusive method, i.e. linear interpolation) over a period.

The custody sheet is laid out by :mod:`amane.documents` (WeasyPrint, Arabic shaped and right to
left), from its letterhead and stylesheet; only the sheet's own body and wording live here."""

from __future__ import annotations

import builtins
import statistics
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from amane.files import Readable
from amane.services import audit
from amane.services.attachments import AttachmentService, AttachmentView, safe_filename
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from amane.services.evidence import ChainReport, EvidenceService, ItemView
from amane.services.notifications import notify
from amane.services.policy import visible_cases, visible_evidence, visible_lab_requests
from amane.services.procedures import (
    EventView,
    StateMachine,
    add_event,
    audited_attempt,
    next_reference,
    reason_text,
    timeline,
    usernames,
)
from amane.services.roles import capabilities_of
from amane.settings import Settings
from amane.store.db import Database
from amane.store.tables import Attachment, Case, EvidenceItem, LabRequest, LabRequestItem, Unit, User, UserRole
from amane.store.types import utcnow

EXAM_TYPES = ("dna", "fingerprints", "ballistics", "drugs_toxicology", "documents", "digital")
PRIORITIES = ("routine", "urgent")
STATES = StateMachine("lab request", {
    "submitted": ("accepted", "rejected", "cancelled"),
    "accepted": ("in_progress", "cancelled"),
    "in_progress": ("completed", "cancelled"),
    "completed": (),
    "rejected": (),
    "cancelled": (),
})
OPEN_STATES = ("submitted", "accepted", "in_progress")
OWNER = "lab_request"
MAX_ITEMS = 100
DAY_S = 86400.0


# -- views -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemSummary:
    id: int
    reference: str
    seal_number: str
    kind: str
    category: str
    description: str
    state: str
    sha256: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LabRequestView:
    id: int
    reference: str
    lab: str
    requester: str | None
    requester_unit: str
    exam_type: str
    questions: str
    priority: str
    classification: int
    case_id: int | None
    state: str
    technician: str | None
    reason: str
    results: str
    report: AttachmentView | None
    submitted_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    version: int
    items: list[ItemSummary] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    allowed: tuple[str, ...] = ()

    @property
    def turnaround_days(self) -> float | None:
        """Days from submission to completion (``None`` until completed)."""
        if self.completed_at is None:
            return None
        return round((self.completed_at - self.submitted_at).total_seconds() / DAY_S, 2)

    @property
    def elapsed_days(self) -> float:
        """Days since submission, up to its end (completion, rejection, cancellation) or now."""
        end = self.completed_at or self.closed_at or utcnow()
        return round((end - self.submitted_at).total_seconds() / DAY_S, 2)

    def as_dict(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {"id": self.id, "reference": self.reference, "lab": self.lab, "requester": self.requester,
                "requester_unit": self.requester_unit, "exam_type": self.exam_type, "questions": self.questions,
                "priority": self.priority, "classification": self.classification, "case_id": self.case_id,
                "state": self.state, "technician": self.technician, "reason": self.reason,
                "results": self.results, "report": self.report.as_dict() if self.report else None,
                "submitted_at": iso(self.submitted_at), "accepted_at": iso(self.accepted_at),
                "started_at": iso(self.started_at), "completed_at": iso(self.completed_at),
                "closed_at": iso(self.closed_at), "turnaround_days": self.turnaround_days,
                "elapsed_days": self.elapsed_days, "version": self.version,
                "items": [i.as_dict() for i in self.items], "events": [e.as_dict() for e in self.events],
                "allowed_transitions": list(self.allowed)}


@dataclass(frozen=True)
class Turnaround:
    exam_type: str  # "" for all types together
    completed: int
    median_days: float | None
    p90_days: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LabStats:
    lab: str
    since: date
    until: date
    open_total: int
    open_by_state: dict[str, int]
    open_by_technician: dict[str, int]
    open_by_type: dict[str, int]
    turnaround: list[Turnaround]

    def as_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "open_total": self.open_total, "open_by_state": self.open_by_state,
                "open_by_technician": self.open_by_technician, "open_by_type": self.open_by_type,
                "turnaround": [t.as_dict() for t in self.turnaround]}


def turnaround_figures(days: builtins.list[float]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (linear interpolation between order statistics)."""
    if not days:
        return None, None
    if len(days) == 1:
        return round(days[0], 2), round(days[0], 2)
    p90 = statistics.quantiles(days, n=10, method="inclusive")[8]
    return round(statistics.median(days), 2), round(p90, 2)


def _text(value: str | None, name: str, limit: int, errors: builtins.list[FieldError], *,
          required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.append(FieldError(name, "property.required", f"{name} is required"))
    elif len(text) > limit:
        errors.append(FieldError(name, "string.too_long", f"at most {limit} characters"))
    return text


class LabService:
    def __init__(self, db: Database, writer: AuditWriter, attachments: AttachmentService,
                 evidence: EvidenceService, settings: Settings) -> None:
        self.db = db
        self.writer = writer
        self.attachments = attachments
        self.evidence = evidence
        self.settings = settings

    # -- helpers ---------------------------------------------------------------------------------

    def _load(self, s: Session, actor: Actor, rid: int, *, lock: bool = False) -> LabRequest:
        q = select(LabRequest).where(LabRequest.id == rid, visible_lab_requests(actor))
        r = s.scalar(q.with_for_update() if lock else q)
        if r is None:
            raise NotFound("lab request", str(rid))
        return r

    def _view(self, s: Session, r: LabRequest, *, full: bool) -> LabRequestView:
        codes: dict[int, str] = {uid: code for uid, code in s.execute(
            select(Unit.id, Unit.code).where(Unit.id.in_({r.lab_unit_id, r.requester_unit_id})))}
        names = usernames(s, {r.requester_id, r.technician_id})
        report = None
        if r.report_attachment_id is not None:
            a = s.get(Attachment, r.report_attachment_id)
            if a is not None:
                report = AttachmentView(a.id, OWNER, r.id, a.sha256, a.size, a.media_type, a.filename,
                                        a.uploaded_at, usernames(s, {a.uploaded_by}).get(a.uploaded_by or -1))
        items: list[ItemSummary] = []
        if full:
            rows = s.scalars(select(EvidenceItem).join(LabRequestItem, LabRequestItem.item_id == EvidenceItem.id)
                             .where(LabRequestItem.request_id == r.id).order_by(EvidenceItem.id)).all()
            items = [ItemSummary(e.id, e.reference, e.seal_number, e.kind, e.category, e.description, e.state,
                                 e.sha256) for e in rows]
        return LabRequestView(
            r.id, r.reference, codes.get(r.lab_unit_id, ""), names.get(r.requester_id or -1),
            codes.get(r.requester_unit_id, ""), r.exam_type, r.questions, r.priority, r.classification, r.case_id,
            r.state, names.get(r.technician_id or -1), r.reason, r.results, report, r.submitted_at, r.accepted_at,
            r.started_at, r.completed_at, r.closed_at, r.version, items,
            timeline(s, OWNER, r.id) if full else [], STATES.allowed(r.state))

    def _changed(self, s: Session, r: LabRequest, actor: Actor, action: str, *, text: str = "",
                 details: Mapping[str, Any] | None = None) -> None:
        """One change: version, timeline event (``state``), audit record named after ``action``."""
        r.version += 1
        r.updated_at = utcnow()
        add_event(s, OWNER, r.id, actor, "state", text=text, details=details)
        audit.append(s, [(actor, AuditEvent(action, "LabRequest", str(r.id), details={
            "reference": r.reference, **(details or {}), **({"text": text[:300]} if text else {})}))])

    @staticmethod
    def _lab_unit(s: Session, code: str | None, *, field_name: str = "lab") -> Unit:
        lab = s.scalar(select(Unit).where(Unit.code == (code or "").strip().upper(), Unit.active.is_(True)))
        if lab is None or lab.kind != "lab":
            raise ValidationFailed([FieldError(field_name, "unit.not_lab", f"'{code}' is not a laboratory unit")])
        return lab

    @staticmethod
    def is_lab_chief(s: Session, actor: Actor, lab: Unit) -> bool:
        """A unit chief of the lab, or of a lab above it (the institute over its regional labs)."""
        if "unit_chief" not in actor.roles or actor.unit_id is None:
            return False
        own = s.get(Unit, actor.unit_id)
        return own is not None and own.kind == "lab" and lab.path.startswith(own.path)

    @staticmethod
    def _chiefs(s: Session, lab: Unit) -> builtins.list[int]:
        """Unit chiefs of the lab, else of the nearest lab above it."""
        unit: Unit | None = lab
        while unit is not None and unit.kind == "lab":
            ids = s.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                            .where(User.unit_id == unit.id, User.active.is_(True),
                                   UserRole.role == "unit_chief")).all()
            if ids:
                return list(ids)
            unit = s.get(Unit, unit.parent_id) if unit.parent_id else None
        return []

    def _require_chief(self, s: Session, r: LabRequest, actor: Actor) -> Unit:
        lab = s.get(Unit, r.lab_unit_id)
        assert lab is not None
        if not self.is_lab_chief(s, actor, lab):
            raise Conflict("only a chief of the laboratory does this", field="lab", rule="lab.chief_only",
                           state=r.state, allowed=[])
        return lab

    @staticmethod
    def _expect(r: LabRequest, version: int | None) -> None:
        if version is not None and version != r.version:
            raise Conflict(f"the request changed since you read it (now version {r.version})", field="version",
                           rule="version.stale", current_version=r.version)

    # -- submit, read ------------------------------------------------------------------------

    @audited_attempt("create", "LabRequest")
    def submit(self, actor: Actor, *, lab: str, exam_type: str, items: builtins.list[int], questions: str,
               priority: str = "routine", case_id: int | None = None) -> LabRequestView:
        """Ask ``lab`` (a unit code of kind lab) for an examination of ``items`` (evidence items
        the actor may see, not returned or destroyed)."""
        actor.require("evidence.custody")
        errors: list[FieldError] = []
        if exam_type not in EXAM_TYPES:
            errors.append(FieldError("exam_type", "enum.value", f"exam_type must be one of: {', '.join(EXAM_TYPES)}"))
        if priority not in PRIORITIES:
            errors.append(FieldError("priority", "enum.value", f"priority must be one of: {', '.join(PRIORITIES)}"))
        questions = _text(questions, "questions", 5000, errors, required=True)
        wanted = list(dict.fromkeys(int(i) for i in items or []))
        if not wanted:
            errors.append(FieldError("items", "property.required", "name at least one evidence item"))
        elif len(wanted) > MAX_ITEMS:
            errors.append(FieldError("items", "limit.range", f"at most {MAX_ITEMS} items per request"))
        if actor.unit_id is None:
            errors.append(FieldError("unit", "property.required", "the requesting unit is required"))
        if errors:
            raise ValidationFailed(errors)
        assert actor.unit_id is not None
        with self.db.write() as s:
            lab_unit = self._lab_unit(s, lab)
            found = {e.id: e for e in s.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(wanted),
                                                                           visible_evidence(actor)))}
            missing = [i for i in wanted if i not in found]
            if missing:
                raise ValidationFailed([FieldError("items", "reference.unknown", f"no evidence item {missing[0]}")])
            final = [e.reference for e in found.values() if e.state in ("returned", "destroyed")]
            if final:
                raise ValidationFailed([FieldError("items", "evidence.final",
                                                   f"item {final[0]} was returned or destroyed")])
            level = max(e.classification for e in found.values())
            if case_id is not None:
                case = s.scalar(select(Case).where(Case.id == case_id, visible_cases(actor)))
                if case is None:
                    raise ValidationFailed([FieldError("case_id", "reference.unknown", f"no case {case_id}")])
                level = max(level, case.classification)
            now = utcnow()
            r = LabRequest(reference=next_reference(s, "lab", lab_unit, at=now), lab_unit_id=lab_unit.id,
                           requester_id=actor.user_id, requester_unit_id=actor.unit_id, exam_type=exam_type,
                           questions=questions, priority=priority, classification=level, case_id=case_id,
                           state="submitted", technician_id=None, reason="", results="", submitted_at=now,
                           version=1, updated_at=now)
            s.add(r)
            s.flush()
            for iid in wanted:
                s.add(LabRequestItem(request_id=r.id, item_id=iid))
            add_event(s, OWNER, r.id, actor, "submitted", details={
                "lab": lab_unit.code, "exam_type": exam_type, "priority": priority,
                "items": [found[i].reference for i in wanted]})
            audit.append(s, [(actor, AuditEvent("create", "LabRequest", str(r.id), details={
                "reference": r.reference, "lab": lab_unit.code, "exam_type": exam_type, "items": wanted}))])
            for uid in self._chiefs(s, lab_unit):
                notify(s, uid, "lab.submitted", {"request": r.reference, "exam": exam_type, "priority": priority,
                                                 "by": actor.username}, link=f"/labs/requests/{r.id}")
            s.flush()
            return self._view(s, r, full=True)

    def get(self, actor: Actor, rid: int) -> LabRequestView:
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, rid), full=True)
        self.writer.record(actor, AuditEvent("read", "LabRequest", str(rid)))
        return view

    def list(self, actor: Actor, *, lab: str | None = None, state: str | None = None, exam_type: str | None = None,
             mine: bool = False, assigned: bool = False, open_only: bool = False, page: int = 1,
             per_page: int = 50) -> tuple[builtins.list[LabRequestView], int]:
        """Requests the actor may see; ``mine``: those the actor asked for; ``assigned``: those the
        actor examines; ``lab``: those of a lab (and the labs under it)."""
        errors: list[FieldError] = []
        if state is not None and state not in STATES.transitions:
            errors.append(FieldError("state", "enum.value", f"state must be one of: {', '.join(STATES.transitions)}"))
        if exam_type is not None and exam_type not in EXAM_TYPES:
            errors.append(FieldError("exam_type", "enum.value", f"exam_type must be one of: {', '.join(EXAM_TYPES)}"))
        if not 1 <= per_page <= 500 or page < 1:
            errors.append(FieldError("per_page", "limit.range", "per_page 1..500, page >= 1"))
        if errors:
            raise ValidationFailed(errors)
        conds: list[Any] = [visible_lab_requests(actor)]
        if state:
            conds.append(LabRequest.state == state)
        if open_only:
            conds.append(LabRequest.state.in_(OPEN_STATES))
        if exam_type:
            conds.append(LabRequest.exam_type == exam_type)
        if (mine or assigned) and actor.user_id is None:
            conds.append(false())  # the console asks for nothing and examines nothing
        if mine:
            conds.append(LabRequest.requester_id == actor.user_id)
        if assigned:
            conds.append(LabRequest.technician_id == actor.user_id)
        with self.db.read() as s:
            if lab:
                unit = self._lab_unit(s, lab)
                conds.append(LabRequest.lab_unit_id.in_(select(Unit.id).where(
                    Unit.path.startswith(unit.path, autoescape=True))))
            total = s.scalar(select(func.count()).select_from(LabRequest).where(*conds)) or 0
            rows = s.scalars(select(LabRequest).where(*conds).order_by(LabRequest.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).all()
            views = [self._view(s, r, full=False) for r in rows]
        self.writer.record(actor, AuditEvent("list", "LabRequest", "", details={
            "filters": {k: v for k, v in {"lab": lab, "state": state, "exam_type": exam_type, "mine": mine,
                                          "assigned": assigned, "open": open_only}.items() if v},
            "page": page, "ids": [v.id for v in views]}))
        return views, int(total)

    def labs(self) -> builtins.list[Unit]:
        """Active laboratory units (for choosing where to send a request)."""
        with self.db.read() as s:
            rows = s.scalars(select(Unit).where(Unit.kind == "lab", Unit.active.is_(True)).order_by(Unit.path)).all()
            s.expunge_all()
            return list(rows)

    def technicians(self, actor: Actor, lab: str) -> builtins.list[str]:
        """Usernames of the active users with ``lab.work`` in the lab (and the labs under it), for
        its chiefs (and national users) choosing whom to assign."""
        with self.db.read() as s:
            unit = self._lab_unit(s, lab)
            if not (self.is_lab_chief(s, actor, unit) or actor.national):
                raise Forbidden("lab.chief")
            users = s.scalars(select(User).join(Unit, Unit.id == User.unit_id)
                              .where(Unit.path.startswith(unit.path, autoescape=True), User.active.is_(True))
                              .order_by(User.username)).all()
            return [u.username for u in users if "lab.work" in capabilities_of([r.role for r in u.roles])]

    def chief_labs(self, actor: Actor) -> builtins.list[str]:
        """Codes of the labs whose statistics the actor may read."""
        with self.db.read() as s:
            labs = s.scalars(select(Unit).where(Unit.kind == "lab", Unit.active.is_(True)).order_by(Unit.path)).all()
            if actor.national and actor.can("analytics.read"):
                return [u.code for u in labs]
            return [u.code for u in labs if self.is_lab_chief(s, actor, u)]

    def report(self, actor: Actor, rid: int) -> tuple[AttachmentView, Iterator[bytes]]:
        """The lab's report file (hash checked while streaming), audited as a download."""
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, rid), full=False)
        if view.report is None:
            raise NotFound("lab report", str(rid))
        reader = self.attachments.store.open(view.report.sha256)
        self.writer.record(actor, AuditEvent("download", "LabRequest", str(rid), details={
            "attachment": view.report.id, "sha256": view.report.sha256}))
        return view.report, reader.chunks(64 * 1024)

    # -- transitions -------------------------------------------------------------------------

    @audited_attempt("accept", "LabRequest")
    def accept(self, actor: Actor, rid: int, *, technician: str, version: int | None = None) -> LabRequestView:
        """The lab chief accepts the request and assigns a technician of the lab."""
        with self.db.write() as s:
            r = self._load(s, actor, rid, lock=True)
            self._expect(r, version)
            STATES.check(r.state, "accepted")
            lab = self._require_chief(s, r, actor)
            tech = s.scalar(select(User).where(User.username == (technician or "").strip(), User.active.is_(True)))
            tech_unit = s.get(Unit, tech.unit_id) if tech is not None else None
            if tech is None or tech_unit is None or not tech_unit.path.startswith(lab.path):
                raise ValidationFailed([FieldError("technician", "lab.not_technician",
                                                   f"'{technician}' is not a member of the laboratory")])
            if "lab.work" not in capabilities_of([x.role for x in tech.roles]):
                raise ValidationFailed([FieldError("technician", "lab.not_technician",
                                                   f"'{technician}' does not do laboratory work")])
            r.state = "accepted"
            r.technician_id = tech.id
            r.accepted_at = utcnow()
            self._changed(s, r, actor, "accept", details={"from": "submitted", "to": "accepted",
                                                         "technician": tech.username})
            notify(s, tech.id, "lab.assigned", {"request": r.reference, "exam": r.exam_type, "priority": r.priority,
                                                "by": actor.username}, link=f"/labs/requests/{r.id}")
            s.flush()
            return self._view(s, r, full=True)

    @audited_attempt("reject", "LabRequest")
    def reject(self, actor: Actor, rid: int, *, reason: str, version: int | None = None) -> LabRequestView:
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            r = self._load(s, actor, rid, lock=True)
            self._expect(r, version)
            STATES.check(r.state, "rejected")
            self._require_chief(s, r, actor)
            r.state = "rejected"
            r.reason = text
            r.closed_at = utcnow()
            self._changed(s, r, actor, "reject", text=text, details={"from": "submitted", "to": "rejected"})
            if r.requester_id is not None:
                notify(s, r.requester_id, "lab.rejected", {"request": r.reference, "reason": text,
                                                           "by": actor.username}, link=f"/labs/requests/{r.id}")
            s.flush()
            return self._view(s, r, full=True)

    def _require_worker(self, s: Session, r: LabRequest, actor: Actor) -> None:
        if actor.user_id is not None and r.technician_id == actor.user_id:
            return
        lab = s.get(Unit, r.lab_unit_id)
        if lab is not None and self.is_lab_chief(s, actor, lab):
            return
        raise Conflict("only the assigned technician (or a chief of the laboratory) does this", field="technician",
                       rule="lab.technician_only", state=r.state, allowed=[])

    @audited_attempt("start", "LabRequest")
    def start(self, actor: Actor, rid: int, *, version: int | None = None) -> LabRequestView:
        with self.db.write() as s:
            r = self._load(s, actor, rid, lock=True)
            self._expect(r, version)
            STATES.check(r.state, "in_progress")
            self._require_worker(s, r, actor)
            r.state = "in_progress"
            r.started_at = utcnow()
            self._changed(s, r, actor, "start", details={"from": "accepted", "to": "in_progress"})
            s.flush()
            return self._view(s, r, full=True)

    @audited_attempt("complete", "LabRequest")
    def complete(self, actor: Actor, rid: int, *, results: str, report: Readable | None = None,
                 filename: str | None = None, version: int | None = None) -> LabRequestView:
        """Record the results (required) and attach the signed report (stored like every
        attachment: blob first, then the row); the requester is notified."""
        errors: list[FieldError] = []
        text = _text(results, "results", 50000, errors, required=True)
        if errors:
            raise ValidationFailed(errors)
        with self.db.read() as s:  # 404/409 before reading a byte of the upload
            r = self._load(s, actor, rid)
            STATES.check(r.state, "completed")
            self._require_worker(s, r, actor)
        blob = None
        if report is not None:
            blob = self.attachments.store.put(report, max_bytes=self.settings.attachments_max_bytes,
                                              allowed_types=self.attachments.allowed, filename=filename)
        with self.db.write() as s:
            r = self._load(s, actor, rid, lock=True)
            self._expect(r, version)
            STATES.check(r.state, "completed")
            self._require_worker(s, r, actor)
            details: dict[str, Any] = {"from": "in_progress", "to": "completed"}
            if blob is not None:
                a = Attachment(owner_kind=OWNER, owner_id=r.id, sha256=blob.sha256, size=blob.size,
                               media_type=blob.media_type, filename=safe_filename(filename), uploaded_at=utcnow(),
                               uploaded_by=actor.user_id)
                s.add(a)
                s.flush()
                r.report_attachment_id = a.id
                details.update(attachment=a.id, sha256=blob.sha256, filename=a.filename)
            r.state = "completed"
            r.results = text
            r.completed_at = utcnow()
            self._changed(s, r, actor, "complete", details=details)
            if r.requester_id is not None:
                notify(s, r.requester_id, "lab.completed", {"request": r.reference, "exam": r.exam_type,
                                                            "by": actor.username}, link=f"/labs/requests/{r.id}")
            s.flush()
            return self._view(s, r, full=True)

    @audited_attempt("cancel", "LabRequest")
    def cancel(self, actor: Actor, rid: int, *, reason: str, version: int | None = None) -> LabRequestView:
        """The requester withdraws an open request (reason required); the lab is told."""
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            r = self._load(s, actor, rid, lock=True)
            self._expect(r, version)
            STATES.check(r.state, "cancelled")
            if actor.user_id is None or r.requester_id != actor.user_id:
                raise Conflict("only the requester cancels a request", field="requester", rule="lab.requester_only",
                               state=r.state, allowed=[])
            before = r.state
            r.state = "cancelled"
            r.reason = text
            r.closed_at = utcnow()
            self._changed(s, r, actor, "cancel", text=text, details={"from": before, "to": "cancelled"})
            lab = s.get(Unit, r.lab_unit_id)
            told = [r.technician_id] if r.technician_id is not None else (self._chiefs(s, lab) if lab else [])
            for uid in told:
                if uid is not None:
                    notify(s, uid, "lab.cancelled", {"request": r.reference, "reason": text, "by": actor.username},
                           link=f"/labs/requests/{r.id}")
            s.flush()
            return self._view(s, r, full=True)

    # -- statistics --------------------------------------------------------------------------

    def stats(self, actor: Actor, lab: str, *, since: date | None = None, until: date | None = None) -> LabStats:
        """Workload (open requests now) and turnaround (requests completed in ``[since, until]``,
        by completion date) of a lab and the labs under it. Lab chiefs, and national users with
        ``analytics.read``. Counts only requests the actor may see."""
        today = utcnow().date()
        until = until or today
        since = since or (until - timedelta(days=365))
        if since > until:
            raise ValidationFailed([FieldError("since", "date.range", "since must not be after until")])
        with self.db.read() as s:
            unit = self._lab_unit(s, lab)
            if not (self.is_lab_chief(s, actor, unit) or (actor.national and actor.can("analytics.read"))):
                raise Forbidden("lab.chief")
            conds: list[Any] = [visible_lab_requests(actor), LabRequest.lab_unit_id.in_(
                select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True)))]
            open_rows = s.execute(select(LabRequest.state, LabRequest.exam_type, LabRequest.technician_id)
                                  .where(*conds, LabRequest.state.in_(OPEN_STATES))).all()
            names = usernames(s, {t for _, _, t in open_rows})
            start = datetime.combine(since, time.min, tzinfo=UTC)
            end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
            done = s.execute(select(LabRequest.exam_type, LabRequest.submitted_at, LabRequest.completed_at)
                             .where(*conds, LabRequest.state == "completed", LabRequest.completed_at >= start,
                                    LabRequest.completed_at < end)).all()
        by_state = Counter(st for st, _, _ in open_rows)
        by_tech = Counter(names.get(t, "") for _, _, t in open_rows if t is not None)
        by_type = Counter(ty for _, ty, _ in open_rows)
        per_type: dict[str, list[float]] = {}
        for ty, sub, comp in done:
            if comp is not None:
                per_type.setdefault(ty, []).append((comp - sub).total_seconds() / DAY_S)
        rows = []
        for ty in ("", *EXAM_TYPES):
            days = [d for v in per_type.values() for d in v] if ty == "" else per_type.get(ty, [])
            if ty and not days:
                continue
            med, p90 = turnaround_figures(days)
            rows.append(Turnaround(ty, len(days), med, p90))
        result = LabStats(unit.code, since, until, len(open_rows), {k: by_state.get(k, 0) for k in OPEN_STATES},
                          dict(sorted(by_tech.items())), {k: by_type[k] for k in EXAM_TYPES if by_type.get(k)}, rows)
        self.writer.record(actor, AuditEvent("stats", "LabRequest", "", details={
            "lab": unit.code, "since": since.isoformat(), "until": until.isoformat()}))
        return result

    # -- custody sheet -----------------------------------------------------------------------

    def custody_sheet(self, actor: Actor, iid: int, *, lang: str) -> tuple[ItemView, ChainReport, bytes]:
        """The printable custody sheet of an evidence item (PDF): its details, hashes, every custody
        event and the result of the chain verification. Reads are audited by the evidence service;
        the sheet itself is audited as an export."""
        if lang not in SHEET_LANGS:
            raise ValidationFailed([FieldError("lang", "enum.value", "lang must be ar, fr or en")])
        item = self.evidence.get(actor, iid)
        chain = self.evidence.verify_chain(actor, iid)
        with self.db.read() as s:
            unit = _unit_input(s, item.unit)
        from amane.documents.pdf import html_to_pdf

        pdf = html_to_pdf(custody_sheet_html(item, chain, lang=lang, unit=unit,
                                             tz=self.settings.documents_timezone))
        with self.db.write() as s:
            audit.append(s, [(actor, AuditEvent("export", "EvidenceItem", str(iid), details={
                "document": "custody_sheet.pdf", "lang": lang, "chain_ok": chain.ok}))])
        return item, chain, pdf


# -- the custody sheet (HTML for WeasyPrint) -----------------------------------------------------

SHEET_LANGS = ("ar", "fr", "en")
SHEET_LABELS: dict[str, dict[str, str]] = {
    "title": {"ar": "بطاقة تسلسل العهدة", "fr": "Fiche de chaîne de possession", "en": "Chain of custody sheet"},
    "item": {"ar": "المحجوز", "fr": "Scellé", "en": "Item"},
    "seal_number": {"ar": "رقم الختم", "fr": "N° de scellé", "en": "Seal number"},
    "kind": {"ar": "النوع", "fr": "Nature", "en": "Kind"},
    "category": {"ar": "الفئة", "fr": "Catégorie", "en": "Category"},
    "description": {"ar": "الوصف", "fr": "Description", "en": "Description"},
    "storage": {"ar": "مكان الحفظ", "fr": "Lieu de conservation", "en": "Storage location"},
    "custodian": {"ar": "الحائز الحالي", "fr": "Détenteur actuel", "en": "Current custodian"},
    "case": {"ar": "ملف القضية", "fr": "Dossier", "en": "Case"},
    "registered": {"ar": "تاريخ التسجيل", "fr": "Enregistré le", "en": "Registered on"},
    "hashes": {"ar": "البصمات الرقمية", "fr": "Empreintes numériques", "en": "Hashes"},
    "size": {"ar": "الحجم (بايت)", "fr": "Taille (octets)", "en": "Size (bytes)"},
    "events": {"ar": "سجل العهدة", "fr": "Journal de possession", "en": "Custody log"},
    "seq": {"ar": "رقم", "fr": "N°", "en": "No."},
    "event": {"ar": "الحدث", "fr": "Événement", "en": "Event"},
    "at": {"ar": "التاريخ", "fr": "Date", "en": "Time"},
    "actor": {"ar": "المنفذ", "fr": "Agent", "en": "Actor"},
    "counterpart": {"ar": "الطرف المقابل", "fr": "Contrepartie", "en": "Counterpart"},
    "place": {"ar": "المكان", "fr": "Lieu", "en": "Place"},
    "purpose": {"ar": "الغرض", "fr": "Objet", "en": "Purpose"},
    "hash": {"ar": "بصمة الحدث", "fr": "Empreinte de l'événement", "en": "Event hash"},
    "chain": {"ar": "التحقق من السلسلة", "fr": "Vérification de la chaîne", "en": "Chain verification"},
    "chain_ok": {"ar": "السلسلة سليمة: {n} حدث، لم يغير أي حدث ولم يحذف.",
                 "fr": "Chaîne intacte : {n} événements, aucun modifié ni supprimé.",
                 "en": "Chain intact: {n} events, none changed or removed."},
    "chain_broken": {"ar": "السلسلة مكسورة عند الحدث {seq}: {reason}",
                     "fr": "Chaîne rompue à l'événement {seq} : {reason}",
                     "en": "Chain broken at event {seq}: {reason}"},
    "signatures": {"ar": "التوقيعات", "fr": "Signatures", "en": "Signatures"},
}
EVENT_LABELS: dict[str, dict[str, str]] = {
    "seized": {"ar": "حجز", "fr": "Saisie", "en": "Seized"},
    "sealed": {"ar": "ختم", "fr": "Mise sous scellé", "en": "Sealed"},
    "transferred": {"ar": "تسليم", "fr": "Remise", "en": "Transferred"},
    "received": {"ar": "استلام", "fr": "Réception", "en": "Received"},
    "transfer_refused": {"ar": "رفض الاستلام", "fr": "Réception refusée", "en": "Transfer refused"},
    "stored": {"ar": "إيداع", "fr": "Mise en dépôt", "en": "Stored"},
    "examined": {"ar": "فحص", "fr": "Examen", "en": "Examined"},
    "sub_sampled": {"ar": "أخذ عينة", "fr": "Prélèvement", "en": "Sub-sampled"},
    "returned": {"ar": "إرجاع", "fr": "Restitution", "en": "Returned"},
    "destroyed": {"ar": "إتلاف", "fr": "Destruction", "en": "Destroyed"},
    "verified": {"ar": "تحقق من البصمة", "fr": "Intégrité vérifiée", "en": "Integrity verified"},
    "integrity_failure": {"ar": "عدم تطابق البصمة", "fr": "Intégrité compromise", "en": "Integrity failure"},
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "phone": {"ar": "هاتف", "fr": "Téléphone", "en": "Phone"},
    "computer": {"ar": "حاسوب", "fr": "Ordinateur", "en": "Computer"},
    "disk_image": {"ar": "نسخة قرص", "fr": "Image disque", "en": "Disk image"},
    "storage_media": {"ar": "وسيط تخزين", "fr": "Support de stockage", "en": "Storage media"},
    "document": {"ar": "وثيقة", "fr": "Document", "en": "Document"},
    "weapon": {"ar": "سلاح", "fr": "Arme", "en": "Weapon"},
    "ammunition": {"ar": "ذخيرة", "fr": "Munitions", "en": "Ammunition"},
    "drug_sample": {"ar": "عينة مخدرات", "fr": "Échantillon de stupéfiant", "en": "Drug sample"},
    "biological_sample": {"ar": "عينة بيولوجية", "fr": "Prélèvement biologique", "en": "Biological sample"},
    "fingerprint": {"ar": "بصمة", "fr": "Trace papillaire", "en": "Fingerprint"},
    "vehicle": {"ar": "مركبة", "fr": "Véhicule", "en": "Vehicle"},
    "currency": {"ar": "عملة", "fr": "Monnaie", "en": "Currency"},
    "clothing": {"ar": "ملابس", "fr": "Vêtements", "en": "Clothing"},
    "other": {"ar": "أخرى", "fr": "Autre", "en": "Other"},
}
KIND_LABELS: dict[str, dict[str, str]] = {
    "physical": {"ar": "مادي", "fr": "Physique", "en": "Physical"},
    "digital": {"ar": "رقمي", "fr": "Numérique", "en": "Digital"},
}


def label(table: Mapping[str, Mapping[str, str]], code: str, lang: str) -> str:
    """A code's label in ``lang`` from one of the tables above (the code itself when unknown)."""
    return table.get(code, {}).get(lang, code)


_WEB_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def _unit_input(s: Session, code: str) -> dict[str, Any]:
    u = s.scalar(select(Unit).where(Unit.code == code))
    if u is None:
        return {"code": code, "name_ar": code, "name_fr": code, "name_en": code, "parents": []}
    chain: list[dict[str, Any]] = []
    p = s.get(Unit, u.parent_id) if u.parent_id else None
    while p is not None and len(chain) < 16:
        chain.insert(0, {"code": p.code, "name_ar": p.name_ar, "name_fr": p.name_fr, "name_en": p.name_en})
        p = s.get(Unit, p.parent_id) if p.parent_id else None
    return {"code": u.code, "name_ar": u.name_ar, "name_fr": u.name_fr, "name_en": u.name_en, "parents": chain}


def _sheet_environment() -> jinja2.Environment:
    from amane.documents.pdf import TEMPLATES, _isolate

    env = jinja2.Environment(
        # the documents' letterhead (base.html) first, then the sheet's body template
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.FileSystemLoader(_WEB_TEMPLATES)]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["bidi"] = _isolate
    return env


def custody_sheet_html(item: ItemView, chain: ChainReport, *, lang: str, unit: Mapping[str, Any],
                       tz: str = "Africa/Casablanca", printed_at: datetime | None = None) -> str:
    """The HTML of the custody sheet (letterhead, page numbers and fonts from ``amane.documents``)."""
    from amane.documents.pdf import _frame, text_direction

    record = {"reference": item.reference, "date": item.created_at, "state": item.state,
              "classification": ("unclassified", "restricted", "confidential", "secret")[min(item.classification, 3)]}
    doc, fmt = _frame(record, kind="case_summary", lang=lang, unit=unit, tz=tz, printed_at=printed_at,
                      date_key="date")
    L = {k: v[lang] for k, v in SHEET_LABELS.items()}
    doc["title"] = L["title"]
    doc["state"] = ""  # the evidence states are not document states; the item table shows it
    doc["watermark"] = ""
    if chain.ok:
        verdict = L["chain_ok"].format(n=chain.events)
    else:
        verdict = L["chain_broken"].format(seq=chain.broken_seq, reason=chain.reason)
    events = [{
        "seq": e.seq, "kind": label(EVENT_LABELS, e.kind, lang), "at": fmt.time(e.at),
        "actor": e.actor or "", "counterpart": e.counterpart or "", "place": e.place,
        "purpose": e.purpose, "purpose_dir": text_direction(e.purpose, doc["dir"]), "hash": e.hash,
        "observed": (e.details.get("observed") or {}).get("sha256", "") if isinstance(e.details.get("observed"),
                                                                                        Mapping) else "",
    } for e in item.events]
    sheet = {
        "seal_number": item.seal_number, "kind": label(KIND_LABELS, item.kind, lang),
        "category": label(CATEGORY_LABELS, item.category, lang),
        "description": item.description, "description_dir": text_direction(item.description, doc["dir"]),
        "storage": item.storage_location, "custodian": item.custodian or "",
        "registered": fmt.time(item.created_at), "case_id": item.case_id, "hashes": item.hashes,
        "events": events, "chain_ok": chain.ok, "verdict": verdict,
    }
    return _sheet_environment().get_template("ev_custody_sheet.html").render(doc=doc, s=sheet, L=L)
