"""Complaints: taken at a station, or filed by a citizen on the public form; then accepted (the
facts become an incident record, the complainant a person record), redirected to another unit,
or closed with a reason. A citizen follows a complaint with its tracking number and secret
code, and learns its status and nothing else."""

from __future__ import annotations

import builtins
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from amane.model.schema import load_forms
from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.auth import _DUMMY_HASH, check_password, hash_password
from amane.services.context import Actor
from amane.services.entities import EntityService
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.policy import visible_complaints, visible_entities
from amane.services.procedures import (
    EventView,
    StateMachine,
    add_event,
    audited_attempt,
    next_reference,
    reason_text,
    timeline,
    unit_by_code,
    usernames,
    validate_form,
)
from amane.store.db import Database
from amane.store.tables import Complaint, Entity, LoginFailure, Unit
from amane.store.types import utcnow

STATES = StateMachine("complaint", {"received": ("accepted", "received", "closed")})
#: Tracking look-ups: this many failures for one tracking number or one address in the window lock it.
TRACK_MAX_FAILURES = 5
TRACK_WINDOW = timedelta(minutes=15)
_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")
#: What the public status page may say: these events, with their date, and nothing else.
PUBLIC_EVENTS = ("received", "redirected", "accepted", "closed")


def _code(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


@dataclass(frozen=True)
class ComplaintView:
    id: int
    reference: str
    unit: str
    channel: str
    status: str
    data: dict[str, Any]
    tracking_number: str
    incident_id: str | None
    decision_reason: str
    version: int
    created_at: datetime
    created_by: str | None
    events: list[EventView] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "reference": self.reference, "unit": self.unit, "channel": self.channel,
            "status": self.status, "data": self.data, "tracking_number": self.tracking_number,
            "incident_id": self.incident_id, "decision_reason": self.decision_reason, "version": self.version,
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "events": [e.as_dict() for e in self.events],
        }


@dataclass(frozen=True)
class Receipt:
    """Given once to the complainant: the secret code is not stored in clear."""

    reference: str
    tracking_number: str
    secret_code: str
    complaint_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "tracking_number": self.tracking_number,
                "secret_code": self.secret_code}


@dataclass(frozen=True)
class PublicStatus:
    tracking_number: str
    status: str
    unit: dict[str, str]
    history: list[tuple[str, str]]  # (event kind, ISO date)

    def as_dict(self) -> dict[str, Any]:
        return {"tracking_number": self.tracking_number, "status": self.status, "unit": self.unit,
                "history": [{"event": k, "date": d} for k, d in self.history]}


def citizen(unit: Unit, source: str) -> Actor:
    """Who files on the public form: nobody signed in; audited under this name and address."""
    return Actor(user_id=None, username="citizen", unit_id=unit.id, unit_code=unit.code, unit_path=unit.path,
                 clearance=0, capabilities=frozenset(), source=source[:64], purpose="public complaint form")


class ComplaintService:
    def __init__(self, db: Database, entities: EntityService, writer: AuditWriter) -> None:
        self.db = db
        self.entities = entities
        self.writer = writer
        self.form = load_forms().get("Complaint")

    # -- filing ----------------------------------------------------------------------------

    def _new(self, s: Session, actor: Actor, unit: Unit, clean: dict[str, Any], channel: str) -> Receipt:
        tracking = _code(10)
        secret = _code(8)
        now = utcnow()
        c = Complaint(
            reference=next_reference(s, "complaint", unit, at=now), unit_id=unit.id, channel=channel,
            status="received", category=clean.get("category", ""), complainant={
                k: v for k, v in clean.items() if k.startswith("complainant_")},
            facts=clean["facts"], place=clean.get("place", ""),
            occurred_from=_dt(clean.get("occurred_from")), occurred_to=_dt(clean.get("occurred_to")),
            tracking_number=tracking, secret_hash=hash_password(secret), created_at=now,
            created_by=actor.user_id, updated_at=now, updated_by=actor.user_id,
        )
        c.complainant.update({k: clean[k] for k in ("commune",) if k in clean})
        s.add(c)
        s.flush()
        add_event(s, "complaint", c.id, actor, "received", details={"channel": channel, "unit": unit.code})
        audit.append(s, [(actor, AuditEvent("create", "Complaint", str(c.id), details={
            "reference": c.reference, "channel": channel}))])
        return Receipt(c.reference, tracking, secret, c.id)

    @audited_attempt("create", "Complaint")
    def take(self, actor: Actor, data: Any, *, unit: str | None = None) -> Receipt:
        """An officer registers a complaint at the station (own unit, or a unit in scope)."""
        actor.require("complaints.take")
        clean = validate_form(self.form, data)
        with self.db.write() as s:
            if unit:
                u = unit_by_code(s, unit)
                if not (actor.national or u.path.startswith(actor.unit_path)):
                    raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit}'")])
            else:
                if actor.unit_id is None:
                    raise ValidationFailed([FieldError("unit", "property.required", "the unit is required")])
                own = s.get(Unit, actor.unit_id)
                assert own is not None
                u = own
            return self._new(s, actor, u, clean, "station")

    def file_online(self, data: Any, *, unit: str, source: str) -> Receipt:
        """A citizen files a complaint on the public form (no account). Rate limiting is the
        caller's (the web and API layers limit by address)."""
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        try:
            clean = validate_form(self.form, data)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        with self.db.write() as s:
            try:
                u = unit_by_code(s, unit)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            if errors:
                raise ValidationFailed(errors)
            return self._new(s, citizen(u, source), u, clean, "online")

    # -- following ---------------------------------------------------------------------------

    def _track_locked(self, s: Session, tracking: str, source: str) -> bool:
        since = utcnow() - TRACK_WINDOW
        for key in (f"track:{tracking[:40]}", f"track@{source[:40]}"):
            n = s.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.username == key, LoginFailure.at >= since)) or 0
            if n >= TRACK_MAX_FAILURES:
                return True
        return False

    def track(self, tracking_number: str, secret_code: str, *, source: str) -> PublicStatus:
        """The public status of a complaint. A wrong code, an unknown number and a locked number
        all answer the same ``NotFound``; each failure counts towards the lock."""
        number = (tracking_number or "").strip().upper()[:32]
        code = (secret_code or "").strip().upper()[:32]
        with self.db.write() as s:
            locked = self._track_locked(s, number, source)
            c = s.scalar(select(Complaint).where(Complaint.tracking_number == number)) if number else None
            ok = check_password(c.secret_hash if c is not None else _DUMMY_HASH, code) and c is not None
            if locked or c is None or not ok:
                for key in (f"track:{number[:40]}", f"track@{source[:40]}"):
                    s.add(LoginFailure(username=key, source=source[:64]))
                unit = s.get(Unit, c.unit_id) if c is not None else None
                if unit is not None:
                    audit.append(s, [(citizen(unit, source), AuditEvent("track", "Complaint", str(c.id) if c else "",
                                                                      "denied", {"locked": locked}))])
                failed = True
            else:
                failed = False
                unit = s.get(Unit, c.unit_id)
                assert unit is not None
                events = [(e.kind, e.at.date().isoformat()) for e in timeline(s, "complaint", c.id)
                          if e.kind in PUBLIC_EVENTS]
                status = PublicStatus(number, c.status, {"code": unit.code, "ar": unit.name_ar, "fr": unit.name_fr,
                                                        "en": unit.name_en}, events)
                audit.append(s, [(citizen(unit, source), AuditEvent("track", "Complaint", str(c.id)))])
        if failed:
            raise NotFound("complaint", number)
        return status

    # -- reading -----------------------------------------------------------------------------

    def _view(self, s: Session, c: Complaint, *, events: bool) -> ComplaintView:
        unit = s.get(Unit, c.unit_id)
        names = usernames(s, {c.created_by})
        data = {k: v for k, v in c.complainant.items()}
        data.update({"facts": c.facts})
        for k in ("category", "place"):
            if getattr(c, k):
                data[k] = getattr(c, k)
        for k in ("occurred_from", "occurred_to"):
            if getattr(c, k):
                data[k] = getattr(c, k).isoformat()
        return ComplaintView(
            c.id, c.reference, unit.code if unit else "", c.channel, c.status, data, c.tracking_number,
            c.incident_id, c.decision_reason, c.version, c.created_at,
            names.get(c.created_by) if c.created_by else None,
            timeline(s, "complaint", c.id) if events else [],
        )

    def _load(self, s: Session, actor: Actor, cid: int) -> Complaint:
        c = s.scalar(select(Complaint).where(Complaint.id == cid, visible_complaints(actor)))
        if c is None:
            raise NotFound("complaint", str(cid))
        return c

    def get(self, actor: Actor, cid: int) -> ComplaintView:
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, cid), events=True)
        self.writer.record(actor, AuditEvent("read", "Complaint", str(cid)))
        return view

    def list(self, actor: Actor, *, status: str | None = None, page: int = 1,
             per_page: int = 50) -> tuple[builtins.list[ComplaintView], int]:
        if status is not None and status not in ("received", "accepted", "closed"):
            raise ValidationFailed([FieldError("status", "enum.value", "status: received, accepted or closed")])
        if not 1 <= per_page <= 200 or page < 1:
            raise ValidationFailed([FieldError("per_page", "limit.range", "per_page 1..200, page >= 1")])
        conds: list[Any] = [visible_complaints(actor)]
        if status:
            conds.append(Complaint.status == status)
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(Complaint).where(*conds)) or 0
            rows = s.scalars(select(Complaint).where(*conds).order_by(Complaint.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).all()
            views = [self._view(s, c, events=False) for c in rows]
        self.writer.record(actor, AuditEvent("list", "Complaint", "", details={
            "status": status, "page": page, "ids": [v.id for v in views]}))
        return views, int(total)

    # -- decisions ---------------------------------------------------------------------------

    @audited_attempt("accept", "Complaint")
    def accept(self, actor: Actor, cid: int, *, incident_id: str | None = None, title: str = "",
               version: int | None = None) -> ComplaintView:
        """Accept: the facts become a new incident record (or join ``incident_id``), and the
        complainant a person record involved as complainant."""
        actor.require("complaints.decide")
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            _check_version(c, version)
            STATES.check(c.status, "accepted")
            unit = s.get(Unit, c.unit_id)
            assert unit is not None
            if incident_id:
                found = s.scalar(select(Entity.id).where(Entity.id == incident_id, Entity.schema == "Incident",
                                                         visible_entities(actor)))
                if found is None:
                    raise ValidationFailed([FieldError("incident_id", "reference.unknown",
                                                       f"no incident '{incident_id}' to join")])
                incident = incident_id
            else:
                errs = []
                if not c.category:
                    errs.append(FieldError("category", "property.required",
                                           "give the kind of facts (offence category) before accepting"))
                if c.occurred_from is None:
                    errs.append(FieldError("occurred_from", "property.required",
                                           "give when the facts happened before accepting"))
                if errs:
                    raise ValidationFailed(errs)
                data: dict[str, Any] = {
                    "title": (title or f"{c.reference}")[:200], "offence_category": c.category,
                    "occurred_from": c.occurred_from, "narrative": c.facts,
                }
                if c.occurred_to:
                    data["occurred_to"] = c.occurred_to
                if c.place:
                    data["address"] = c.place
                if c.complainant.get("commune"):
                    data["commune"] = c.complainant["commune"]
                if unit.region:
                    data["region"] = unit.region
                incident = self.entities.create_in(s, actor, "Incident", data, owner_unit=unit.code,
                                                   classification=c.classification,
                                                   reason=f"complaint {c.reference}").id
            person = self.entities.create_in(s, actor, "Person", _person_data(c.complainant), owner_unit=unit.code,
                                             reason=f"complainant of {c.reference}").id
            self.entities.create_in(s, actor, "Involvement", {"person": person, "incident": incident,
                                                              "role": "complainant"}, owner_unit=unit.code)
            c.status, c.incident_id = "accepted", incident
            _touch(c, actor)
            add_event(s, "complaint", c.id, actor, "accepted", details={"incident": incident, "person": person})
            audit.append(s, [(actor, AuditEvent("accept", "Complaint", str(c.id), details={"incident": incident}))])
            s.flush()
            return self._view(s, c, events=True)

    @audited_attempt("redirect", "Complaint")
    def redirect(self, actor: Actor, cid: int, *, unit: str, reason: str, version: int | None = None) -> ComplaintView:
        """Send the complaint to the unit that should handle it; it is received there."""
        actor.require("complaints.decide")
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            _check_version(c, version)
            STATES.check(c.status, "received")
            target = unit_by_code(s, unit)
            if target.id == c.unit_id:
                raise ValidationFailed([FieldError("unit", "unit.same", "the complaint is already at this unit")])
            old = s.get(Unit, c.unit_id)
            c.unit_id, c.decision_reason = target.id, text
            _touch(c, actor)
            add_event(s, "complaint", c.id, actor, "redirected", text=text,
                      details={"from": old.code if old else "", "to": target.code})
            audit.append(s, [(actor, AuditEvent("redirect", "Complaint", str(c.id), details={
                "to": target.code, "reason": text}))])
            s.flush()
            # the actor may no longer see it: answer with what they just did, not a fresh read
            return self._view(s, c, events=False)

    @audited_attempt("close", "Complaint")
    def close(self, actor: Actor, cid: int, *, reason: str, version: int | None = None) -> ComplaintView:
        actor.require("complaints.decide")
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            c = self._load(s, actor, cid)
            _check_version(c, version)
            STATES.check(c.status, "closed")
            c.status, c.decision_reason = "closed", text
            _touch(c, actor)
            add_event(s, "complaint", c.id, actor, "closed", text=text)
            audit.append(s, [(actor, AuditEvent("close", "Complaint", str(c.id), details={"reason": text}))])
            s.flush()
            return self._view(s, c, events=True)

    def purge_track_failures(self) -> int:
        """Drop tracking failures older than the window (housekeeping)."""
        with self.db.write() as s:
            res = s.execute(delete(LoginFailure).where(LoginFailure.username.like("track%"),
                                                       LoginFailure.at < utcnow() - TRACK_WINDOW))
            return int(getattr(res, "rowcount", 0) or 0)


def _dt(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _touch(c: Complaint, actor: Actor) -> None:
    c.version += 1
    c.updated_at = utcnow()
    c.updated_by = actor.user_id


def _check_version(c: Complaint, version: int | None) -> None:
    if version is not None and version != c.version:
        raise Conflict(f"the complaint changed since you read it (now version {c.version})", field="version",
                       rule="version.stale", current_version=c.version)


def _person_data(complainant: dict[str, Any]) -> dict[str, Any]:
    """A person record for the complainant: the full name split into given name(s) and family name
    (last word), in the fields of its script."""
    name = str(complainant.get("complainant_name", "")).split()
    arabic = any("\u0600" <= ch <= "\u06ff" for ch in "".join(name))
    given, family = (" ".join(name[:-1]), name[-1]) if len(name) > 1 else (name[0] if name else "", "")
    suffix = "_ar" if arabic else ""
    data: dict[str, Any] = {}
    if given:
        data[f"given_name{suffix}"] = given
    if family:
        data[f"family_name{suffix}"] = family
    if complainant.get("complainant_id"):
        data["national_id"] = complainant["complainant_id"]
    if complainant.get("complainant_phone"):
        data["phone"] = complainant["complainant_phone"]
    if complainant.get("complainant_address"):
        data["address"] = complainant["complainant_address"]
    return data
