"""Incident reports (procès-verbaux): draft -> submitted -> approved (locked) or returned to the
author with a reason. A correction after approval is a new version with a reason that goes back
for approval; no version is ever overwritten. On approval the facts are written to the shared
records: the incident record (created or updated) and the involvement of each person."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amane.model.schema import load_forms
from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.entities import EntityService
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.notifications import notify
from amane.services.policy import visible_complaints, visible_entities, visible_reports
from amane.services.procedures import (
    EventView,
    StateMachine,
    add_event,
    audited_attempt,
    next_reference,
    reason_text,
    timeline,
    usernames,
    validate_form,
)
from amane.store.db import Database
from amane.store.tables import Complaint, Entity, EntityRef, Report, ReportVersion, Unit
from amane.store.types import utcnow

STATES = StateMachine("report", {
    "draft": ("submitted",),
    "submitted": ("approved", "returned"),
    "returned": ("submitted",),
    "approved": ("submitted",),  # a correction, with a reason
})
EDITABLE = ("draft", "returned")
ROLES = ("suspect", "victim", "witness", "complainant")
OBJECT_TYPES = ("Vehicle", "Weapon", "Phone", "IdentityDocument", "BankAccount", "CryptoWallet", "Email",
                "Location", "Organisation")
MAX_LIST = 200


@dataclass(frozen=True)
class ReportView:
    id: int
    reference: str
    unit: str
    state: str
    content: dict[str, Any]
    incident_id: str | None
    complaint_id: int | None
    author: str | None
    version: int
    returned_reason: str
    approved_at: datetime | None
    approved_by: str | None
    created_at: datetime
    updated_at: datetime
    allowed: tuple[str, ...] = ()
    events: list[EventView] = field(default_factory=list)
    #: The reference of the complaint the report answers, when the reader may see that complaint.
    complaint_reference: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "reference": self.reference, "unit": self.unit, "state": self.state,
            "content": self.content, "incident_id": self.incident_id, "complaint_id": self.complaint_id,
            "complaint_reference": self.complaint_reference,
            "author": self.author, "version": self.version, "returned_reason": self.returned_reason,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "approved_by": self.approved_by, "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(), "allowed_transitions": list(self.allowed),
            "events": [e.as_dict() for e in self.events],
        }


@dataclass(frozen=True)
class ReportVersionView:
    version: int
    state: str
    action: str
    content: dict[str, Any]
    changed_at: datetime
    changed_by: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "state": self.state, "action": self.action, "content": self.content,
                "changed_at": self.changed_at.isoformat(), "changed_by": self.changed_by, "reason": self.reason}


class ReportService:
    def __init__(self, db: Database, entities: EntityService, writer: AuditWriter) -> None:
        self.db = db
        self.entities = entities
        self.writer = writer
        self.form = load_forms().get("IncidentReport")

    # -- content -----------------------------------------------------------------------------

    def _clean(self, s: Session, actor: Actor, content: Any) -> dict[str, Any]:
        if not isinstance(content, dict):
            raise ValidationFailed([FieldError("content", "data.type", "content must be an object")])
        raw = dict(content)
        involved = raw.pop("involved", None) or []
        objects = raw.pop("objects", None) or []
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        try:
            clean = validate_form(self.form, raw, prefix="content.")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        if not isinstance(involved, list) or len(involved) > MAX_LIST:
            errors.append(FieldError("content.involved", "list.type", f"a list of at most {MAX_LIST} persons"))
            involved = []
        if not isinstance(objects, list) or len(objects) > MAX_LIST:
            errors.append(FieldError("content.objects", "list.type", f"a list of at most {MAX_LIST} record ids"))
            objects = []
        wanted = {str(i.get("person")) for i in involved if isinstance(i, dict)} | {str(o) for o in objects}
        found = dict(s.execute(select(Entity.id, Entity.schema).where(Entity.id.in_(wanted),
                                                                       visible_entities(actor))).all()) \
            if wanted else {}
        clean_inv: list[dict[str, str]] = []
        for n, item in enumerate(involved):
            where = f"content.involved[{n}]"
            if not isinstance(item, dict):
                errors.append(FieldError(where, "data.type", "each involved person is {person, role}"))
                continue
            pid, role = str(item.get("person") or ""), str(item.get("role") or "")
            if found.get(pid) != "Person":
                errors.append(FieldError(f"{where}.person", "reference.unknown", f"no person '{pid}'"))
            if role not in ROLES:
                errors.append(FieldError(f"{where}.role", "enum.value", f"role must be one of: {', '.join(ROLES)}"))
            if {"person": pid, "role": role} not in clean_inv:
                clean_inv.append({"person": pid, "role": role})
        clean_obj: list[str] = []
        for n, oid in enumerate(objects):
            if found.get(str(oid)) not in OBJECT_TYPES:
                errors.append(FieldError(f"content.objects[{n}]", "reference.unknown", f"no object record '{oid}'"))
            elif str(oid) not in clean_obj:
                clean_obj.append(str(oid))
        if errors:
            raise ValidationFailed(errors)
        out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in clean.items()}
        out["involved"] = clean_inv
        out["objects"] = clean_obj
        return out

    # -- reading -----------------------------------------------------------------------------

    def _load(self, s: Session, actor: Actor, rid: int) -> Report:
        r = s.scalar(select(Report).where(Report.id == rid, visible_reports(actor)))
        if r is None:
            raise NotFound("report", str(rid))
        return r

    def _view(self, s: Session, r: Report, *, events: bool) -> ReportView:
        unit = s.get(Unit, r.unit_id)
        names = usernames(s, {r.author_id, r.approved_by})
        return ReportView(
            r.id, r.reference, unit.code if unit else "", r.state, dict(r.content), r.incident_id, r.complaint_id,
            names.get(r.author_id) if r.author_id else None, r.version, r.returned_reason, r.approved_at,
            names.get(r.approved_by) if r.approved_by else None, r.created_at, r.updated_at,
            STATES.allowed(r.state), timeline(s, "report", r.id) if events else [],
        )

    def get(self, actor: Actor, rid: int) -> ReportView:
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, rid), events=True)
            if view.complaint_id is not None:
                view = replace(view, complaint_reference=s.scalar(select(Complaint.reference).where(
                    Complaint.id == view.complaint_id, visible_complaints(actor))))
        self.writer.record(actor, AuditEvent("read", "Report", str(rid)))
        return view

    def versions(self, actor: Actor, rid: int) -> builtins.list[ReportVersionView]:
        with self.db.read() as s:
            self._load(s, actor, rid)
            rows = s.scalars(select(ReportVersion).where(ReportVersion.report_id == rid)
                             .order_by(ReportVersion.version.desc())).all()
            names = usernames(s, {v.changed_by for v in rows})
            out = [ReportVersionView(v.version, v.state, v.action, dict(v.content), v.changed_at,
                                     names.get(v.changed_by) if v.changed_by else None, v.reason) for v in rows]
        self.writer.record(actor, AuditEvent("history", "Report", str(rid)))
        return out

    def list(self, actor: Actor, *, state: str | None = None, mine: bool = False, incident_id: str | None = None,
             page: int = 1, per_page: int = 50) -> tuple[builtins.list[ReportView], int]:
        if state is not None and state not in STATES.transitions:
            raise ValidationFailed([FieldError("state", "enum.value",
                                               f"state must be one of: {', '.join(STATES.transitions)}")])
        if not 1 <= per_page <= 200 or page < 1:
            raise ValidationFailed([FieldError("per_page", "limit.range", "per_page 1..200, page >= 1")])
        conds: list[Any] = [visible_reports(actor)]
        if state:
            conds.append(Report.state == state)
        if mine:
            conds.append(Report.author_id == actor.user_id)
        if incident_id:
            conds.append(Report.incident_id == incident_id)
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(Report).where(*conds)) or 0
            rows = s.scalars(select(Report).where(*conds).order_by(Report.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).all()
            views = [self._view(s, r, events=False) for r in rows]
        self.writer.record(actor, AuditEvent("list", "Report", "", details={
            "state": state, "page": page, "ids": [v.id for v in views]}))
        return views, int(total)

    # -- writing -----------------------------------------------------------------------------

    def _version(self, s: Session, r: Report, actor: Actor, action: str, reason: str = "") -> None:
        s.add(ReportVersion(report_id=r.id, version=r.version, state=r.state, content=dict(r.content),
                            changed_at=utcnow(), changed_by=actor.user_id, action=action, reason=reason))

    @audited_attempt("create", "Report")
    def create(self, actor: Actor, content: Any, *, incident_id: str | None = None, complaint_id: int | None = None,
               unit: str | None = None) -> ReportView:
        """A new draft by the actor, about an incident record (existing, or created on approval)."""
        actor.require("reports.write")
        with self.db.write() as s:
            clean = self._clean(s, actor, content)
            if incident_id is not None and s.scalar(select(Entity.id).where(
                    Entity.id == incident_id, Entity.schema == "Incident", visible_entities(actor))) is None:
                raise ValidationFailed([FieldError("incident_id", "reference.unknown", f"no incident '{incident_id}'")])
            if complaint_id is not None:
                comp = s.scalar(select(Complaint).where(Complaint.id == complaint_id, visible_complaints(actor)))
                if comp is None:
                    raise ValidationFailed([FieldError("complaint_id", "reference.unknown",
                                                       f"no complaint {complaint_id}")])
                incident_id = incident_id or comp.incident_id
            owner = self.entities._owner_unit(s, actor, unit)
            now = utcnow()
            r = Report(reference=next_reference(s, "report", owner, at=now), unit_id=owner.id,
                       incident_id=incident_id, complaint_id=complaint_id, author_id=actor.user_id, state="draft",
                       content=clean, version=1, created_at=now, updated_at=now)
            s.add(r)
            s.flush()
            self._version(s, r, actor, "create")
            add_event(s, "report", r.id, actor, "created")
            audit.append(s, [(actor, AuditEvent("create", "Report", str(r.id), details={"reference": r.reference}))])
            return self._view(s, r, events=True)

    @audited_attempt("update", "Report")
    def update(self, actor: Actor, rid: int, content: Any, *, version: int | None) -> ReportView:
        """Edit a draft or a returned report (its author only). Approved reports are locked."""
        with self.db.write() as s:
            r = self._load(s, actor, rid)
            self._expect(r, version)
            if r.state not in EDITABLE:
                raise Conflict(f"a report that is {r.state} cannot be edited"
                               + ("; an approved report is locked: make a correction with a reason"
                                  if r.state == "approved" else ""),
                               field="state", rule="report.locked", state=r.state)
            self._author_only(r, actor)
            clean = self._clean(s, actor, content)
            if clean == r.content:
                return self._view(s, r, events=True)
            r.content, r.version, r.updated_at = clean, r.version + 1, utcnow()
            self._version(s, r, actor, "edit")
            audit.append(s, [(actor, AuditEvent("update", "Report", str(r.id), details={"version": r.version}))])
            return self._view(s, r, events=True)

    @audited_attempt("submit", "Report")
    def submit(self, actor: Actor, rid: int, *, version: int | None) -> ReportView:
        with self.db.write() as s:
            r = self._load(s, actor, rid)
            self._expect(r, version)
            if r.state == "approved":
                raise Conflict("an approved report is submitted again only through a correction",
                               field="state", rule="state.transition", state=r.state, allowed=["submitted"])
            STATES.check(r.state, "submitted")
            self._author_only(r, actor)
            return self._move(s, r, actor, "submitted", "submit")

    @audited_attempt("approve", "Report")
    def approve(self, actor: Actor, rid: int, *, version: int | None) -> ReportView:
        """Approve and lock; write the facts to the incident record and its involvements."""
        actor.require("reports.approve")
        with self.db.write() as s:
            r = self._load(s, actor, rid)
            self._expect(r, version)
            STATES.check(r.state, "approved")
            if r.author_id is not None and r.author_id == actor.user_id:
                raise Conflict("a report is approved by someone other than its author", field="state",
                               rule="report.own_approval")
            r.incident_id = self._publish(s, actor, r)
            r.approved_at, r.approved_by, r.returned_reason = utcnow(), actor.user_id, ""
            return self._move(s, r, actor, "approved", "approve", details={"incident": r.incident_id})

    @audited_attempt("return", "Report")
    def return_to_author(self, actor: Actor, rid: int, *, reason: str, version: int | None) -> ReportView:
        actor.require("reports.approve")
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            r = self._load(s, actor, rid)
            self._expect(r, version)
            STATES.check(r.state, "returned")
            r.returned_reason = text
            view = self._move(s, r, actor, "returned", "return", text=text)
            if r.author_id is not None:
                notify(s, r.author_id, "report.returned", {"reference": r.reference, "reason": text},
                       link=f"/reports/{r.id}")
            return view

    @audited_attempt("correct", "Report")
    def correct(self, actor: Actor, rid: int, content: Any, *, reason: str, version: int | None) -> ReportView:
        """Correct an approved report: a new version with a reason, submitted for approval again;
        the approved version stays in the history."""
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            r = self._load(s, actor, rid)
            self._expect(r, version)
            if r.state != "approved":
                raise Conflict("only an approved report is corrected; edit a draft directly", field="state",
                               rule="report.not_approved", state=r.state)
            if not (actor.user_id == r.author_id or actor.can("reports.approve")):
                raise NotFound("report", str(rid)) if not actor.can("reports.write") else Conflict(
                    "only the author or an approver corrects a report", field="state", rule="report.author_only")
            clean = self._clean(s, actor, content)
            r.content = clean
            return self._move(s, r, actor, "submitted", "correct", text=text)

    # -- helpers -----------------------------------------------------------------------------

    def _move(self, s: Session, r: Report, actor: Actor, state: str, action: str, *, text: str = "",
              details: dict[str, Any] | None = None) -> ReportView:
        before = r.state
        r.state, r.version, r.updated_at = state, r.version + 1, utcnow()
        self._version(s, r, actor, action, text)
        add_event(s, "report", r.id, actor, action, text=text, details={"from": before, "to": state, **(details or {})})
        audit.append(s, [(actor, AuditEvent(action, "Report", str(r.id), details={
            "from": before, "to": state, "version": r.version, **({"reason": text} if text else {}),
            **(details or {})}))])
        s.flush()
        return self._view(s, r, events=True)

    @staticmethod
    def _expect(r: Report, version: int | None) -> None:
        if version is None:
            raise ValidationFailed([FieldError("version", "property.required", "give the version you read")])
        if version != r.version:
            raise Conflict(f"the report changed since you read it (now version {r.version})", field="version",
                           rule="version.stale", current_version=r.version)

    @staticmethod
    def _author_only(r: Report, actor: Actor) -> None:
        if r.author_id != actor.user_id:
            raise Conflict("only the author edits or submits a report", field="author", rule="report.author_only")

    def _publish(self, s: Session, actor: Actor, r: Report) -> str:
        """Write the approved facts to the shared records; return the incident id."""
        unit = s.get(Unit, r.unit_id)
        assert unit is not None
        facts = {k: r.content[k] for k in ("title", "offence_category", "occurred_from", "occurred_to", "commune",
                                           "address", "narrative") if r.content.get(k)}
        system = actor  # the approver writes the records, under their own name in the audit
        if r.incident_id:
            current = s.get(Entity, r.incident_id)
            if current is None:
                raise ValidationFailed([FieldError("incident_id", "reference.unknown", "the incident is gone")])
            self.entities.update_in(s, system, r.incident_id, {**current.data, **facts},
                                    reason=f"report {r.reference} approved")
            incident = r.incident_id
        else:
            incident = self.entities.create_in(s, system, "Incident", facts, owner_unit=unit.code,
                                               classification=r.classification,
                                               reason=f"report {r.reference} approved").id
        have = {(str(e.data.get("person")), str(e.data.get("role"))) for e in s.scalars(
            select(Entity).join(EntityRef, EntityRef.entity_id == Entity.id).where(
                EntityRef.ref_id == incident, Entity.schema == "Involvement", Entity.deleted_at.is_(None)))}
        for inv in r.content.get("involved", []):
            if (inv["person"], inv["role"]) not in have:
                self.entities.create_in(s, system, "Involvement", {"person": inv["person"], "incident": incident,
                                                                   "role": inv["role"]}, owner_unit=unit.code,
                                        reason=f"report {r.reference} approved")
        return incident
