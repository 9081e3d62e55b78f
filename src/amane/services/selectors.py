"""Selectors found in seized data or collected content, matched against the records store.

A selector is a phone number, e-mail address, bank account, crypto-currency wallet, vehicle plate
or ID number that an extractor found (``forensics`` on a seized disk, ``watch`` on a channel
export). :class:`SelectorMatcher` answers "which records already hold it" through the same
``entity_keys`` index that person search uses, with the value cleaned by the model's own type
(so ``0612-345678`` found on a disk meets ``+212612345678`` typed by an officer), and only within
the actor's need-to-know (``policy.visible_entities``): a record the actor may not see is not
there. For every record found it also lists the records linked to it by a relation (the person
who owns a phone, the incidents a person is involved in) and the case files on those incidents:
the visible ones, and for the others only the unit to contact (hit/no-hit, as ``CaseService.hint``).
Every look-up that finds something is audited with the selectors asked and the records shown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, tuple_
from sqlalchemy.orm import Session, aliased

from amane.model import types as mtypes
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.policy import visible_cases, visible_entities
from amane.store.db import Database
from amane.store.tables import Case, CaseIncident, Entity, EntityKey, EntityRef, Unit

#: Extractor kind (forensics and watch) -> model value type whose ``clean``/``keys`` index it.
SELECTOR_TYPES: dict[str, str] = {
    "phone": "phone",
    "email": "email",
    "iban": "iban",
    "bitcoin": "crypto",
    "bech32": "crypto",
    "ethereum": "crypto",
    "crypto": "crypto",
    "btc": "crypto",
    "eth": "crypto",
    "wallet": "crypto",
    "plate": "plate",
    "cin": "cin",
}
#: Most selectors looked up in one statement (SQLite's limit on bound parameters is far above).
BATCH = 400
#: The owner unit, joined under another name than the ``Unit`` that the policy clauses' sub-queries
#: read (which would otherwise be correlated with it).
OwnerUnit = aliased(Unit, name="owner_unit")


@dataclass(frozen=True)
class Linked:
    id: str
    schema: str
    caption: str
    unit: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "schema": self.schema, "caption": self.caption, "unit": self.unit}


@dataclass(frozen=True)
class RecordHit:
    """One record holding a selector, as the actor may see it."""

    kind: str
    value: str
    record: Linked
    linked: tuple[Linked, ...] = ()
    cases: tuple[dict[str, Any], ...] = ()
    #: Units holding case files on these incidents that the actor may not open: contact them.
    contact_units: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "record": self.record.as_dict(),
                "linked": [x.as_dict() for x in self.linked], "cases": list(self.cases),
                "contact_units": list(self.contact_units)}


@dataclass
class _Keyed:
    kind: str
    value: str
    keys: list[tuple[str, str]] = field(default_factory=list)


def selector_keys(kind: str, value: str) -> list[tuple[str, str]]:
    """The ``entity_keys`` (kind, value) pairs a selector meets, or [] for a kind records do not
    index (URLs, IPs, cards) or a value the record type would refuse."""
    type_name = SELECTOR_TYPES.get(kind)
    if type_name is None:
        return []
    vt = mtypes.get_type(type_name)
    try:
        cleaned = vt.clean(value)
    except Exception:  # noqa: BLE001 - a value the records would not hold under this type
        return []
    if not vt.key_kind:
        return []
    return [(vt.key_kind, k) for k in vt.keys(cleaned)]


class SelectorMatcher:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer

    def known(self, s: Session, actor: Actor, selectors: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The selectors that some record visible to ``actor`` holds (one statement per batch; used
        by the ingest pipelines to raise "known selector" alerts; not audited here)."""
        keyed = [_Keyed(k, v, selector_keys(k, v)) for k, v in dict.fromkeys(selectors)]
        by_key: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for x in keyed:
            for key in x.keys:
                by_key.setdefault(key, set()).add((x.kind, x.value))
        found: set[tuple[str, str]] = set()
        keys = list(by_key)
        for i in range(0, len(keys), BATCH):
            part = keys[i:i + BATCH]
            rows = s.execute(
                select(EntityKey.kind, EntityKey.value).join(Entity, Entity.id == EntityKey.entity_id)
                .where(tuple_(EntityKey.kind, EntityKey.value).in_(part), visible_entities(actor))
                .distinct()).all()
            for kind, value in rows:
                found |= by_key.get((kind, value), set())
        return found

    def match(self, actor: Actor, selectors: Iterable[tuple[str, str]], *, context: str = "",
              context_id: str = "") -> list[RecordHit]:
        """Every visible record holding one of ``selectors``, with its linked records and cases."""
        keyed = [_Keyed(k, v, selector_keys(k, v)) for k, v in dict.fromkeys(selectors)]
        by_key: dict[tuple[str, str], list[_Keyed]] = {}
        for x in keyed:
            for key in x.keys:
                by_key.setdefault(key, []).append(x)
        if not by_key:
            return []
        hits: list[RecordHit] = []
        with self.db.read() as s:
            keys = list(by_key)
            found: list[tuple[str, str, str]] = []
            for i in range(0, len(keys), BATCH):
                part = keys[i:i + BATCH]
                found += [(k, v, e) for k, v, e in s.execute(
                    select(EntityKey.kind, EntityKey.value, EntityKey.entity_id)
                    .join(Entity, Entity.id == EntityKey.entity_id)
                    .where(tuple_(EntityKey.kind, EntityKey.value).in_(part), visible_entities(actor))).all()]
            records = self._records(s, actor, {e for _, _, e in found})
            seen: set[tuple[str, str, str]] = set()
            for kind_key, value_key, eid in found:
                for x in by_key[(kind_key, value_key)]:
                    if (x.kind, x.value, eid) in seen or eid not in records:
                        continue
                    seen.add((x.kind, x.value, eid))
                    rec, linked = records[eid]
                    incidents = {r.id for r in (rec, *linked) if r.schema == "Incident"}
                    cases, contact = self._cases(s, actor, incidents)
                    hits.append(RecordHit(x.kind, x.value, rec, linked, cases, contact))
        if hits:
            self.writer.record(actor, AuditEvent("selector-match", context, context_id, details={
                "selectors": sorted({f"{h.kind}:{h.value}" for h in hits}),
                "records": sorted({h.record.id for h in hits})}))
        hits.sort(key=lambda h: (h.kind, h.value, h.record.schema, h.record.id))
        return hits

    def _records(self, s: Session, actor: Actor, ids: set[str]) -> dict[str, tuple[Linked, tuple[Linked, ...]]]:
        """Each visible record with the visible records linked to it through one relation."""
        if not ids:
            return {}
        out: dict[str, tuple[Linked, tuple[Linked, ...]]] = {}
        rows = s.execute(select(Entity.id, Entity.schema, Entity.caption, OwnerUnit.code)
                         .join(OwnerUnit, OwnerUnit.id == Entity.owner_unit_id)
                         .where(Entity.id.in_(ids), visible_entities(actor))).all()
        base = {r[0]: Linked(r[0], r[1], r[2], r[3]) for r in rows}
        # relations referring to each record, then the other ends of those relations
        rel_rows = s.execute(select(EntityRef.ref_id, EntityRef.entity_id)
                             .where(EntityRef.ref_id.in_(list(base)))).all()
        relations: dict[str, set[str]] = {}
        for ref_id, rel_id in rel_rows:
            relations.setdefault(ref_id, set()).add(rel_id)
        all_rel = {r for v in relations.values() for r in v}
        ends: dict[str, set[str]] = {}
        if all_rel:
            for rel_id, ref_id in s.execute(select(EntityRef.entity_id, EntityRef.ref_id)
                                            .where(EntityRef.entity_id.in_(all_rel))).all():
                ends.setdefault(rel_id, set()).add(ref_id)
        wanted = {e for v in ends.values() for e in v} | all_rel
        linked_rows = {}
        if wanted:
            linked_rows = {r[0]: Linked(r[0], r[1], r[2], r[3]) for r in s.execute(
                select(Entity.id, Entity.schema, Entity.caption, OwnerUnit.code)
                .join(OwnerUnit, OwnerUnit.id == Entity.owner_unit_id)
                .where(Entity.id.in_(wanted), visible_entities(actor))).all()}
        for eid, rec in base.items():
            others: dict[str, Linked] = {}
            for rel_id in sorted(relations.get(eid, ())):
                if rel_id not in linked_rows:
                    continue  # a relation the actor may not see hides its other end too
                for end in sorted(ends.get(rel_id, ())):
                    if end != eid and end in linked_rows:
                        others[end] = linked_rows[end]
            out[eid] = (rec, tuple(others.values()))
        return out

    def _cases(self, s: Session, actor: Actor,
               incidents: set[str]) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
        if not incidents:
            return (), ()
        on_incidents = Case.id.in_(select(CaseIncident.case_id).where(CaseIncident.incident_id.in_(incidents)))
        visible = s.execute(select(Case.id, Case.reference, OwnerUnit.code)
                            .join(OwnerUnit, OwnerUnit.id == Case.unit_id)
                            .where(on_incidents, visible_cases(actor)).order_by(Case.id)).all()
        hidden = s.scalars(select(OwnerUnit.code).join(Case, Case.unit_id == OwnerUnit.id)
                           .where(and_(on_incidents, ~visible_cases(actor))).distinct()).all()
        return (tuple({"id": c, "reference": ref, "unit": u} for c, ref, u in visible),
                tuple(sorted(set(hidden))))
