"""Investigation case files: opened by a supervisor from one or more incidents, worked by a team
(lead investigator, members, supervisors) through tasks and notes, with a timeline of
everything that happened, and states open -> under investigation -> referred to the prosecutor
-> closed -> archived (allowed transitions only).

Case material is compartmented (``policy.visible_cases``): the team, and supervisors whose
scope holds the owning unit. Anyone else who may see one of its incidents learns only that a
case exists and which unit to contact (``hint``), never its content."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.notifications import notify
from amane.services.policy import visible_cases, visible_entities
from amane.services.procedures import (
    EventView,
    StateMachine,
    add_event,
    audited_attempt,
    next_reference,
    reason_text,
    timeline,
)
from amane.services.roles import clearance_level
from amane.store.db import Database
from amane.store.tables import Case, CaseIncident, CaseMember, CaseTask, Entity, Unit, User
from amane.store.types import utcnow

STATES = StateMachine("case", {
    "open": ("investigating", "closed"),
    "investigating": ("referred", "closed"),
    "referred": ("closed", "investigating"),
    "closed": ("archived", "investigating"),
    "archived": (),
})
#: Transitions that need a reason (why it is closed, what the prosecutor received...).
NEEDS_REASON = ("referred", "closed", "investigating")
TEAM_ROLES = ("lead", "member", "supervisor")
TASK_STATUSES = ("open", "done", "cancelled")


@dataclass(frozen=True)
class TeamMember:
    username: str
    full_name: str
    unit: str
    role: str


@dataclass(frozen=True)
class TaskView:
    id: int
    title: str
    details: str
    assignee: str
    due_date: str | None
    status: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "details": self.details, "assignee": self.assignee,
                "due_date": self.due_date, "status": self.status, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class CaseView:
    id: int
    reference: str
    unit: str
    title: str
    summary: str
    state: str
    classification: int
    version: int
    created_at: datetime
    incidents: list[str]
    team: list[TeamMember]
    tasks: list[TaskView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    allowed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "reference": self.reference, "unit": self.unit, "title": self.title,
            "summary": self.summary, "state": self.state, "classification": self.classification,
            "version": self.version, "created_at": self.created_at.isoformat(), "incidents": self.incidents,
            "team": [m.__dict__ for m in self.team], "tasks": [t.as_dict() for t in self.tasks],
            "events": [e.as_dict() for e in self.events], "allowed_transitions": list(self.allowed),
        }


class CaseService:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer

    # -- helpers -----------------------------------------------------------------------------

    def _load(self, s: Session, actor: Actor, cid: int) -> Case:
        c = s.scalar(select(Case).where(Case.id == cid, visible_cases(actor)))
        if c is None:
            raise NotFound("case", str(cid))
        return c

    def _team_role(self, s: Session, c: Case, actor: Actor) -> str | None:
        if actor.user_id is None:
            return None
        return s.scalar(select(CaseMember.role).where(CaseMember.case_id == c.id,
                                                      CaseMember.user_id == actor.user_id))

    def _require_manager(self, s: Session, c: Case, actor: Actor) -> None:
        """Lead, team supervisors and unit supervisors manage the case; members only work on it."""
        role = self._team_role(s, c, actor)
        if role in ("lead", "supervisor") or actor.can("cases.supervise"):
            return
        raise Conflict("only the lead investigator or a supervisor manages the case team, tasks and state",
                       field="case", rule="case.manager_only")

    def _in_chain(self, s: Session, c_unit: Unit, user: User) -> bool:
        """The case's unit chain: the owning unit, the units above it and below it; national units help."""
        u = s.get(Unit, user.unit_id)
        if u is None:
            return False
        return u.national or u.path.startswith(c_unit.path) or c_unit.path.startswith(u.path)

    def _user(self, s: Session, username: str, c_unit: Unit, *, field_name: str) -> User:
        user = s.scalar(select(User).where(User.username == (username or "").strip(), User.active.is_(True)))
        if user is None:
            raise ValidationFailed([FieldError(field_name, "user.unknown", f"no active user '{username}'")])
        if not self._in_chain(s, c_unit, user):
            raise ValidationFailed([FieldError(field_name, "user.outside_chain",
                                               f"'{username}' is outside the case's unit chain")])
        return user

    def _view(self, s: Session, c: Case, *, full: bool) -> CaseView:
        unit = s.get(Unit, c.unit_id)
        team = [TeamMember(u.username, u.full_name, code, role) for u, code, role in s.execute(
            select(User, Unit.code, CaseMember.role).join(CaseMember, CaseMember.user_id == User.id)
            .join(Unit, Unit.id == User.unit_id).where(CaseMember.case_id == c.id)
            .order_by(CaseMember.role, User.username)).all()]
        incidents = list(s.scalars(select(CaseIncident.incident_id).where(CaseIncident.case_id == c.id)))
        tasks: list[TaskView] = []
        if full:
            rows = s.execute(select(CaseTask, User.username).join(User, User.id == CaseTask.assignee_id)
                             .where(CaseTask.case_id == c.id).order_by(CaseTask.id)).all()
            tasks = [TaskView(t.id, t.title, t.details, name, t.due_date, t.status, t.created_at) for t, name in rows]
        return CaseView(c.id, c.reference, unit.code if unit else "", c.title, c.summary, c.state, c.classification,
                        c.version, c.created_at, incidents, team, tasks,
                        timeline(s, "case", c.id) if full else [], STATES.allowed(c.state))

    def _changed(self, s: Session, c: Case, actor: Actor, kind: str, *, text: str = "",
                 details: dict[str, Any] | None = None) -> None:
        c.version += 1
        c.updated_at = utcnow()
        add_event(s, "case", c.id, actor, kind, text=text, details=details)
        audit.append(s, [(actor, AuditEvent(kind, "Case", str(c.id), details={**(details or {}),
                                                                               **({"text": text} if text else {})}))])

    # -- open, read ----------------------------------------------------------------------------

    @audited_attempt("create", "Case")
    def open(self, actor: Actor, *, title: str, incidents: builtins.list[str], lead: str,
             members: builtins.list[str] | None = None, supervisors: builtins.list[str] | None = None,
             summary: str = "", unit: str | None = None, classification: str | int | None = None) -> CaseView:
        actor.require("cases.open")
        errors = []
        title = (title or "").strip()
        if not title:
            errors.append(FieldError("title", "property.required", "the case needs a title"))
        elif len(title) > 300:
            errors.append(FieldError("title", "string.too_long", "at most 300 characters"))
        if not incidents:
            errors.append(FieldError("incidents", "property.required", "a case is opened from one or more incidents"))
        level = 0
        if classification not in (None, ""):
            try:
                level = clearance_level(classification)
            except ValueError as exc:
                errors.append(FieldError("classification", "classification.unknown", str(exc)))
            if level > actor.clearance:
                errors.append(FieldError("classification", "classification.above_clearance",
                                         "you cannot classify a case above your own clearance"))
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            if unit:
                owner = s.scalar(select(Unit).where(Unit.code == unit.strip().upper(), Unit.active.is_(True)))
                if owner is None or not (actor.national or owner.path.startswith(actor.unit_path)):
                    raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit}'")])
            else:
                if actor.unit_id is None:
                    raise ValidationFailed([FieldError("unit", "property.required", "the owning unit is required")])
                own = s.get(Unit, actor.unit_id)
                assert own is not None
                owner = own
            found = set(s.scalars(select(Entity.id).where(Entity.id.in_(incidents), Entity.schema == "Incident",
                                                          visible_entities(actor))))
            missing = [i for i in incidents if i not in found]
            if missing:
                raise ValidationFailed([FieldError("incidents", "reference.unknown",
                                                   f"no incident '{missing[0]}'")])
            team: dict[int, tuple[User, str]] = {}
            lead_user = self._user(s, lead, owner, field_name="lead")
            team[lead_user.id] = (lead_user, "lead")
            for role, names in (("supervisor", supervisors or []), ("member", members or [])):
                for n in names:
                    u = self._user(s, n, owner, field_name=f"{role}s")
                    team.setdefault(u.id, (u, role))
            now = utcnow()
            c = Case(reference=next_reference(s, "case", owner, at=now), unit_id=owner.id, title=title,
                     summary=(summary or "")[:20000], state="open", classification=level, version=1,
                     created_at=now, created_by=actor.user_id, updated_at=now)
            s.add(c)
            s.flush()
            for i in dict.fromkeys(incidents):
                s.add(CaseIncident(case_id=c.id, incident_id=i))
            for uid, (_u, role) in team.items():
                s.add(CaseMember(case_id=c.id, user_id=uid, role=role, added_at=now))
                if uid != actor.user_id:
                    notify(s, uid, "case.team", {"case": c.reference, "title": title, "role": role},
                           link=f"/cases/{c.id}")
            add_event(s, "case", c.id, actor, "opened", details={"incidents": list(dict.fromkeys(incidents)),
                                                                 "lead": lead_user.username})
            audit.append(s, [(actor, AuditEvent("create", "Case", str(c.id), details={
                "reference": c.reference, "incidents": incidents}))])
            s.flush()
            return self._view(s, c, full=True)

    def get(self, actor: Actor, cid: int) -> CaseView:
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, cid), full=True)
        self.writer.record(actor, AuditEvent("read", "Case", str(cid)))
        return view

    def list(self, actor: Actor, *, state: str | None = None, mine: bool = False, page: int = 1,
             per_page: int = 50) -> tuple[builtins.list[CaseView], int]:
        if state is not None and state not in STATES.transitions:
            raise ValidationFailed([FieldError("state", "enum.value",
                                               f"state must be one of: {', '.join(STATES.transitions)}")])
        if not 1 <= per_page <= 200 or page < 1:
            raise ValidationFailed([FieldError("per_page", "limit.range", "per_page 1..200, page >= 1")])
        conds: list[Any] = [visible_cases(actor)]
        if state:
            conds.append(Case.state == state)
        if mine and actor.user_id is not None:
            conds.append(Case.id.in_(select(CaseMember.case_id).where(CaseMember.user_id == actor.user_id)))
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(Case).where(*conds)) or 0
            rows = s.scalars(select(Case).where(*conds).order_by(Case.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).all()
            views = [self._view(s, c, full=False) for c in rows]
        self.writer.record(actor, AuditEvent("list", "Case", "", details={
            "state": state, "page": page, "ids": [v.id for v in views]}))
        return views, int(total)

    def hint(self, actor: Actor, incident_id: str) -> builtins.list[str]:
        """Hit/no-hit: the units to contact about cases on an incident the actor may see but whose
        case files the actor may not see. Never a title, reference or content."""
        with self.db.read() as s:
            if s.scalar(select(Entity.id).where(Entity.id == incident_id, visible_entities(actor))) is None:
                raise NotFound("record", incident_id)
            units = sorted(set(s.scalars(
                select(Unit.code).join(Case, Case.unit_id == Unit.id)
                .join(CaseIncident, CaseIncident.case_id == Case.id)
                .where(CaseIncident.incident_id == incident_id, ~visible_cases(actor)))))
        if units:
            self.writer.record(actor, AuditEvent("case-hint", "Incident", incident_id, details={"units": units}))
        return units

    def visible_for_incident(self, actor: Actor, incident_id: str) -> builtins.list[CaseView]:
        with self.db.read() as s:
            rows = s.scalars(select(Case).join(CaseIncident, CaseIncident.case_id == Case.id)
                             .where(CaseIncident.incident_id == incident_id, visible_cases(actor))).all()
            return [self._view(s, c, full=False) for c in rows]

    # -- changes -----------------------------------------------------------------------------

    @audited_attempt("state", "Case")
    def transition(self, actor: Actor, cid: int, target: str, *, reason: str = "",
                   version: int | None = None) -> CaseView:
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            _expect(c, version)
            self._require_manager(s, c, actor)
            STATES.check(c.state, target)
            text = reason_text(reason, required=target in NEEDS_REASON)
            before = c.state
            c.state = target
            self._changed(s, c, actor, "state", text=text, details={"from": before, "to": target})
            s.flush()
            return self._view(s, c, full=True)

    @audited_attempt("team", "Case")
    def add_member(self, actor: Actor, cid: int, username: str, *, role: str = "member") -> CaseView:
        if role not in TEAM_ROLES:
            raise ValidationFailed([FieldError("role", "enum.value", f"role must be one of: {', '.join(TEAM_ROLES)}")])
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            self._require_manager(s, c, actor)
            _not_final(c)
            unit = s.get(Unit, c.unit_id)
            assert unit is not None
            u = self._user(s, username, unit, field_name="username")
            m = s.get(CaseMember, (c.id, u.id))
            if role == "lead":
                for old in s.scalars(select(CaseMember).where(CaseMember.case_id == c.id, CaseMember.role == "lead")):
                    old.role = "member"
            if m is None:
                s.add(CaseMember(case_id=c.id, user_id=u.id, role=role, added_at=utcnow()))
            else:
                m.role = role
            notify(s, u.id, "case.team", {"case": c.reference, "title": c.title, "role": role}, link=f"/cases/{c.id}")
            self._changed(s, c, actor, "team", details={"user": u.username, "role": role})
            s.flush()
            return self._view(s, c, full=True)

    @audited_attempt("team", "Case")
    def remove_member(self, actor: Actor, cid: int, username: str) -> CaseView:
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            self._require_manager(s, c, actor)
            m = s.scalar(select(CaseMember).join(User, User.id == CaseMember.user_id)
                         .where(CaseMember.case_id == c.id, User.username == username))
            if m is None:
                raise ValidationFailed([FieldError("username", "team.unknown", f"'{username}' is not on the team")])
            if m.role == "lead":
                raise Conflict("name another lead before removing this one", field="username", rule="team.lead")
            s.delete(m)
            self._changed(s, c, actor, "team", details={"user": username, "removed": True})
            s.flush()
            return self._view(s, c, full=True)

    @audited_attempt("task", "Case")
    def add_task(self, actor: Actor, cid: int, *, title: str, assignee: str, due_date: str | None = None,
                 details: str = "") -> TaskView:
        errors = []
        title = (title or "").strip()
        if not title:
            errors.append(FieldError("title", "property.required", "the task needs a title"))
        due = None
        if due_date:
            try:
                due = date.fromisoformat(str(due_date)).isoformat()
            except ValueError:
                errors.append(FieldError("due_date", "date.format", "a date as YYYY-MM-DD"))
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            self._require_manager(s, c, actor)
            _not_final(c)
            unit = s.get(Unit, c.unit_id)
            assert unit is not None
            u = self._user(s, assignee, unit, field_name="assignee")
            if s.get(CaseMember, (c.id, u.id)) is None:  # whoever gets a task joins the team
                s.add(CaseMember(case_id=c.id, user_id=u.id, role="member", added_at=utcnow()))
            t = CaseTask(case_id=c.id, title=title[:300], details=(details or "")[:5000], assignee_id=u.id,
                         due_date=due, status="open", created_at=utcnow(), created_by=actor.user_id)
            s.add(t)
            s.flush()
            notify(s, u.id, "task.assigned", {"task": t.title, "case": c.reference, "due": due},
                   link=f"/cases/{c.id}")
            self._changed(s, c, actor, "task", details={"task": t.id, "title": t.title, "assignee": u.username,
                                                        "due": due})
            return TaskView(t.id, t.title, t.details, u.username, t.due_date, t.status, t.created_at)

    @audited_attempt("task-status", "Case")
    def set_task_status(self, actor: Actor, cid: int, task_id: int, status: str) -> TaskView:
        if status not in TASK_STATUSES:
            raise ValidationFailed([FieldError("status", "enum.value", f"one of: {', '.join(TASK_STATUSES)}")])
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            t = s.scalar(select(CaseTask).where(CaseTask.id == task_id, CaseTask.case_id == c.id))
            if t is None:
                raise NotFound("task", str(task_id))
            if t.assignee_id != actor.user_id:
                self._require_manager(s, c, actor)
            t.status = status
            t.done_at = utcnow() if status == "done" else None
            self._changed(s, c, actor, "task-status", details={"task": t.id, "status": status})
            name = s.scalar(select(User.username).where(User.id == t.assignee_id)) or ""
            return TaskView(t.id, t.title, t.details, name, t.due_date, t.status, t.created_at)

    @audited_attempt("note", "Case")
    def add_note(self, actor: Actor, cid: int, text: str) -> CaseView:
        """Any team member, or a supervisor, adds a note to the timeline."""
        body = (text or "").strip()
        if not body:
            raise ValidationFailed([FieldError("text", "property.required", "the note is empty")])
        if len(body) > 20000:
            raise ValidationFailed([FieldError("text", "string.too_long", "at most 20,000 characters")])
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            if self._team_role(s, c, actor) is None and not actor.can("cases.supervise"):
                raise NotFound("case", str(cid))
            _not_final(c)
            self._changed(s, c, actor, "note", text=body)
            s.flush()
            return self._view(s, c, full=True)

    @audited_attempt("incident", "Case")
    def add_incident(self, actor: Actor, cid: int, incident_id: str) -> CaseView:
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            self._require_manager(s, c, actor)
            _not_final(c)
            if s.scalar(select(Entity.id).where(Entity.id == incident_id, Entity.schema == "Incident",
                                                visible_entities(actor))) is None:
                raise ValidationFailed([FieldError("incident_id", "reference.unknown", f"no incident '{incident_id}'")])
            if s.get(CaseIncident, (c.id, incident_id)) is None:
                s.add(CaseIncident(case_id=c.id, incident_id=incident_id))
                self._changed(s, c, actor, "incident", details={"incident": incident_id})
            s.flush()
            return self._view(s, c, full=True)

    def my_tasks(self, actor: Actor) -> builtins.list[tuple[TaskView, int, str]]:
        """Open tasks assigned to the actor: (task, case id, case reference)."""
        if actor.user_id is None:
            return []
        with self.db.read() as s:
            rows = s.execute(select(CaseTask, Case.id, Case.reference).join(Case, Case.id == CaseTask.case_id)
                             .where(CaseTask.assignee_id == actor.user_id, CaseTask.status == "open",
                                    visible_cases(actor))
                             .order_by(CaseTask.due_date.is_(None), CaseTask.due_date, CaseTask.id)).all()
            return [(TaskView(t.id, t.title, t.details, actor.username, t.due_date, t.status, t.created_at), cid, ref)
                    for t, cid, ref in rows]


def _expect(c: Case, version: int | None) -> None:
    if version is not None and version != c.version:
        raise Conflict(f"the case changed since you read it (now version {c.version})", field="version",
                       rule="version.stale", current_version=c.version)


def _not_final(c: Case) -> None:
    if c.state in ("closed", "archived"):
        raise Conflict(f"the case is {c.state}: reopen it first", field="state", rule="case.closed", state=c.state)
