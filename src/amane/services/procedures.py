"""What complaints, reports and cases share: reference numbers without gaps, the timeline,
state machines with their allowed transitions, and the look-ups every procedure needs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from amane.services.audit import AuditEvent
from amane.services.context import Actor
from amane.services.errors import AmaneError, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from amane.store.tables import ProcEvent, RefCounter, Unit, User
from amane.store.types import utcnow

P = ParamSpec("P")
R = TypeVar("R")


def audited_attempt(action: str, object_type: str) -> Callable[
        [Callable[Concatenate[Any, Actor, P], R]], Callable[Concatenate[Any, Actor, P], R]]:
    """Audit a refused attempt too: when the wrapped service method raises (illegal transition,
    locked report, bad input, no right, not found), its transaction is rolled back and one audit
    record with the outcome and the broken rule is written on its own. Successful calls write
    their audit record themselves, in their transaction."""

    def wrap(fn: Callable[Concatenate[Any, Actor, P], R]) -> Callable[Concatenate[Any, Actor, P], R]:
        @functools.wraps(fn)
        def inner(self: Any, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(self, actor, *args, **kwargs)
            except AmaneError as exc:
                outcome = "not_found" if isinstance(exc, NotFound) else "denied" if isinstance(exc, Forbidden) \
                    else "refused"
                rules = [e.rule for e in exc.errors] if isinstance(exc, ValidationFailed) else [
                    getattr(exc, "rule", exc.__class__.__name__)]
                oid = args[0] if args and isinstance(args[0], int | str) else ""
                self.writer.record(actor, AuditEvent(action, object_type, str(oid), outcome, details={
                    "rules": rules[:10], "message": str(exc)[:300]}))
                raise

        return inner

    return wrap


#: Reference prefixes: PLT complaint (plainte), PV incident report (procès-verbal), CAS case,
#: SCL evidence item (scellé), LAB lab request (numbered per lab and year).
PREFIXES = {"complaint": "PLT", "report": "PV", "case": "CAS", "evidence": "SCL", "lab": "LAB"}


def next_reference(s: Session, kind: str, unit: Unit, *, at: datetime | None = None) -> str:
    """The next number of ``kind`` for ``unit`` this year, e.g. ``CAS-2026-RABAT-000123``.

    Taken inside the caller's write transaction: the counter row is created if missing, then
    incremented with ``UPDATE ... RETURNING``, which locks the row until commit (PostgreSQL) or
    runs under the database's single writer (SQLite). A rolled-back transaction gives its number
    back, so numbers have no gaps and no duplicates."""
    year = (at or utcnow()).year
    prefix = PREFIXES[kind]
    dialect = s.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(RefCounter)
    s.execute(ins.values(unit_id=unit.id, kind=prefix, year=year, last=0).on_conflict_do_nothing())
    n = s.execute(
        update(RefCounter)
        .where(RefCounter.unit_id == unit.id, RefCounter.kind == prefix, RefCounter.year == year)
        .values(last=RefCounter.last + 1)
        .returning(RefCounter.last)
    ).scalar_one()
    return f"{prefix}-{year}-{unit.code}-{n:06d}"


def add_event(s: Session, owner_kind: str, owner_id: int, actor: Actor | None, kind: str, *, text: str = "",
              details: Mapping[str, Any] | None = None) -> ProcEvent:
    ev = ProcEvent(owner_kind=owner_kind, owner_id=owner_id, at=utcnow(),
                   user_id=actor.user_id if actor else None, kind=kind, text=text, details=dict(details or {}))
    s.add(ev)
    return ev


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    user: str | None
    kind: str
    text: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "user": self.user, "kind": self.kind, "text": self.text,
                "details": self.details}


def timeline(s: Session, owner_kind: str, owner_id: int) -> list[EventView]:
    rows = s.scalars(select(ProcEvent).where(ProcEvent.owner_kind == owner_kind, ProcEvent.owner_id == owner_id)
                     .order_by(ProcEvent.id)).all()
    names = usernames(s, {r.user_id for r in rows})
    return [EventView(r.id, r.at, names.get(r.user_id) if r.user_id else None, r.kind, r.text, dict(r.details))
            for r in rows]


def usernames(s: Session, ids: set[int | None]) -> dict[int, str]:
    real = {i for i in ids if i is not None}
    if not real:
        return {}
    return {i: n for i, n in s.execute(select(User.id, User.username).where(User.id.in_(real)))}


class StateMachine:
    """Allowed transitions between named states; an illegal one is a 409 listing the allowed."""

    def __init__(self, what: str, transitions: Mapping[str, tuple[str, ...]]) -> None:
        self.what = what
        self.transitions = dict(transitions)

    def allowed(self, state: str) -> tuple[str, ...]:
        return self.transitions.get(state, ())

    def check(self, state: str, target: str) -> None:
        allowed = self.allowed(state)
        if target not in allowed:
            raise Conflict(
                f"a {self.what} cannot go from '{state}' to '{target}'"
                + (f"; allowed: {', '.join(allowed)}" if allowed else f"; '{state}' is final"),
                field="state", rule="state.transition", state=state, allowed=list(allowed),
            )


def reason_text(reason: str | None, *, required: bool, field: str = "reason", limit: int = 1000) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationFailed([FieldError(field, "property.required", "a reason is required")])
    if len(text) > limit:
        raise ValidationFailed([FieldError(field, "reason.length", f"at most {limit} characters")])
    return text


def validate_form(form: Any, data: Any, *, prefix: str = "") -> dict[str, Any]:
    """Validate ``data`` with a form schema; errors name the form's fields (``prefix`` + name)."""
    try:
        clean: dict[str, Any] = form.validate(data)
        return clean
    except ValidationFailed as exc:
        raise ValidationFailed([FieldError(prefix + e.field.removeprefix("data.").removeprefix("data"), e.rule,
                                           e.message) for e in exc.errors]) from None


def unit_by_code(s: Session, code: str, *, field: str = "unit") -> Unit:
    unit = s.scalar(select(Unit).where(Unit.code == (code or "").strip().upper(), Unit.active.is_(True)))
    if unit is None:
        raise ValidationFailed([FieldError(field, "unit.unknown", f"unknown unit code '{code}'")])
    return unit
