"""Need-to-know, in one place.

A user sees a record only if
  1. the user holds ``records.read``;
  2. the user's clearance covers the record's classification; and
  3. the record is owned by, or shared with, a unit in the user's scope: the subtree of the
     user's own unit, or every unit for users of national units.
Everything that reads records (detail, list, count, search, export, history, relations)
builds its query from :func:`visible_entities`; nothing else decides visibility. Objects
outside the rule behave exactly like missing ones (``NotFound``).

Procedures follow the same rule with their own twists, also decided only here:
complaints and reports are seen by readers whose scope holds their unit (a draft report only
by its author and by those who approve reports); case files are compartmented: only the case
team, and supervisors (``cases.supervise``) whose scope holds the owning unit, see them.
Evidence items (``visible_evidence``) are seen by readers whose scope holds their unit, within
clearance, and always by the user who holds them or is named to receive them.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from amane.services.context import Actor
from amane.store.tables import (
    AuditRecord,
    Case,
    CaseMember,
    Complaint,
    Entity,
    EntityShare,
    EvidenceItem,
    IncidentFact,
    LabRequest,
    Report,
    Unit,
    WatchAlert,
    WatchItem,
)


def in_scope_units(actor: Actor) -> ColumnElement[bool]:
    """Clause on ``Unit``: the unit is inside the actor's scope."""
    if actor.national:
        return true()
    return Unit.path.startswith(actor.unit_path, autoescape=True)


def visible_entities(actor: Actor, *, capability: str = "records.read") -> ColumnElement[bool]:
    """Clause on ``Entity`` selecting exactly the records the actor may see."""
    if not actor.can(capability):
        return false()
    return _visible_clause(actor.national, actor.unit_path, actor.clearance)


@functools.lru_cache(maxsize=4096)
def _visible_clause(national: bool, unit_path: str, clearance: int) -> ColumnElement[bool]:
    # Clause objects are immutable, so one per (scope, clearance) is built once and reused.
    clauses: list[ColumnElement[bool]] = [
        Entity.deleted_at.is_(None),
        Entity.classification <= clearance,
    ]
    if not national:
        in_scope = Unit.path.startswith(unit_path, autoescape=True)
        owned = Entity.owner_unit_id.in_(select(Unit.id).where(in_scope))
        shared = exists(
            select(EntityShare.entity_id)
            .join(Unit, Unit.id == EntityShare.unit_id)
            .where(EntityShare.entity_id == Entity.id, in_scope)
        )
        clauses.append(or_(owned, shared))
    return and_(*clauses)


def visible_facts(actor: Actor, *, capability: str = "analytics.read") -> ColumnElement[bool]:
    """Clause on ``IncidentFact``: the incidents whose record the actor may see (same rule as
    :func:`visible_entities`, applied to the record's owner unit, classification and shares)."""
    if not actor.can(capability):
        return false()
    clauses: list[ColumnElement[bool]] = [IncidentFact.classification <= actor.clearance]
    if not actor.national:
        in_scope = Unit.path.startswith(actor.unit_path, autoescape=True)
        owned = IncidentFact.owner_unit_id.in_(select(Unit.id).where(in_scope))
        shared = IncidentFact.entity_id.in_(
            select(EntityShare.entity_id).join(Unit, Unit.id == EntityShare.unit_id).where(in_scope)
        )
        clauses.append(or_(owned, shared))
    return and_(*clauses)


def unit_in_scope(actor: Actor, unit: Unit) -> bool:
    """Whether ``unit`` is inside the actor's scope (for choosing an owner unit)."""
    return actor.national or unit.path.startswith(actor.unit_path)


def visible_audit(actor: Actor) -> ColumnElement[bool]:
    """Auditors see the audit records of users whose unit is in their scope."""
    if not actor.can("audit.read"):
        return false()
    if actor.national:
        return true()
    return AuditRecord.unit_code.in_(select(Unit.code).where(in_scope_units(actor)))


def _unit_in_scope(actor: Actor, unit_col: ColumnElement[int] | Any) -> ColumnElement[bool]:
    if actor.national:
        return true()
    return unit_col.in_(select(Unit.id).where(Unit.path.startswith(actor.unit_path, autoescape=True)))


def visible_complaints(actor: Actor) -> ColumnElement[bool]:
    """Complaints of units in the actor's scope (within clearance)."""
    if not actor.can("records.read"):
        return false()
    return and_(Complaint.classification <= actor.clearance, _unit_in_scope(actor, Complaint.unit_id))


def visible_reports(actor: Actor) -> ColumnElement[bool]:
    """Reports of units in scope; drafts only for their author and for approvers."""
    if not actor.can("records.read"):
        return false()
    clauses = [Report.classification <= actor.clearance, _unit_in_scope(actor, Report.unit_id)]
    if not actor.can("reports.approve"):
        clauses.append(or_(Report.state != "draft", Report.author_id == actor.user_id))
    return and_(*clauses)


def case_team_member(actor: Actor) -> ColumnElement[bool]:
    if actor.user_id is None:
        return false()
    return exists(select(CaseMember.case_id).where(CaseMember.case_id == Case.id,
                                                   CaseMember.user_id == actor.user_id))


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """Case files: the team, and supervisors whose scope holds the owning unit (national ones see
    all), within clearance. Everyone else learns at most that a case exists (``case_hint``)."""
    if not actor.can("records.read"):
        return false()
    who = case_team_member(actor)
    if actor.can("cases.supervise"):
        who = or_(who, _unit_in_scope(actor, Case.unit_id))
    return and_(Case.classification <= actor.clearance, who)


def visible_evidence(actor: Actor) -> ColumnElement[bool]:
    """Evidence items of units in the actor's scope within clearance, plus the items the actor
    holds or is named to receive in a pending transfer (custody is never hidden from its holder)."""
    if not actor.can("records.read"):
        return false()
    scoped = and_(EvidenceItem.classification <= actor.clearance, _unit_in_scope(actor, EvidenceItem.unit_id))
    if actor.user_id is None:
        return scoped
    return or_(scoped, EvidenceItem.custodian_id == actor.user_id, EvidenceItem.pending_to_id == actor.user_id)


def visible_lab_requests(actor: Actor) -> ColumnElement[bool]:
    """Lab requests seen by their requester's unit chain (the requesting unit and the units above
    it), by the lab (the lab unit and the units above it) and by national units, within clearance;
    always by the requester and the assigned technician."""
    if not (actor.can("records.read") or actor.can("lab.work")):
        return false()
    scoped = and_(LabRequest.classification <= actor.clearance,
                  or_(_unit_in_scope(actor, LabRequest.requester_unit_id),
                      _unit_in_scope(actor, LabRequest.lab_unit_id)))
    if actor.user_id is None:
        return scoped
    return or_(scoped, LabRequest.requester_id == actor.user_id, LabRequest.technician_id == actor.user_id)


def visible_watch_items(actor: Actor) -> ColumnElement[bool]:
    """Collected content (cyber watch) of sources whose unit is in the actor's scope, within clearance."""
    if not actor.can("watch.read"):
        return false()
    return and_(WatchItem.classification <= actor.clearance, _unit_in_scope(actor, WatchItem.unit_id))


def visible_watch_alerts(actor: Actor) -> ColumnElement[bool]:
    """Watch alerts: same rule as their items."""
    if not actor.can("watch.read"):
        return false()
    return and_(WatchAlert.classification <= actor.clearance, _unit_in_scope(actor, WatchAlert.unit_id))
