"""Records of the POLE model: create, read, list, update, delete, history, relations, share.

Every method applies the need-to-know rule (``policy.visible_entities``) and writes one
audit record. Changes write the record, its new version, its look-up keys and references,
and the audit record in one transaction.
"""

from __future__ import annotations

import builtins
import functools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from amane.model.schema import EntitySchema, Registry
from amane.services import audit, facts
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from amane.services.policy import unit_in_scope, visible_entities
from amane.services.roles import CLEARANCES, clearance_level
from amane.services.search import KEY_COLUMNS, identifier_keys, key_rows, record_keys
from amane.settings import Settings
from amane.store.db import Database
from amane.store.tables import Entity, EntityKey, EntityRef, EntityShare, EntityVersion, Unit, User
from amane.store.types import utcnow

MAX_PER_PAGE = 200


def new_id() -> str:
    """32 hex characters, ordered by creation time (48-bit ms clock + 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


@dataclass(frozen=True)
class EntityView:
    id: str
    schema: str
    caption: str
    data: dict[str, Any]
    owner_unit: str
    classification: str
    version: int
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    updated_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schema": self.schema,
            "caption": self.caption,
            "data": self.data,
            "owner_unit": self.owner_unit,
            "classification": self.classification,
            "version": self.version,
            "external_id": self.external_id,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
            "created_by": self.created_by,
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True)
class VersionView:
    version: int
    op: str
    data: dict[str, Any]
    owner_unit: str
    classification: str
    changed_at: datetime
    changed_by: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["changed_at"] = self.changed_at.isoformat().replace("+00:00", "Z")
        return d


@dataclass
class Page:
    items: list[EntityView]
    total: int
    page: int
    per_page: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [i.as_dict() for i in self.items],
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
        }


@dataclass
class ListQuery:
    schema: str | None = None
    q: str | None = None
    owner_unit: str | None = None
    classification: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    page: int = 1
    per_page: int = 50

    def terms(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, {}, "")}


def _view(e: Entity, unit_code: str, names: Mapping[int, str] | None = None) -> EntityView:
    names = names or {}
    return EntityView(
        id=e.id,
        schema=e.schema,
        caption=e.caption,
        data=e.data,
        owner_unit=unit_code,
        classification=CLEARANCES[e.classification],
        version=e.version,
        external_id=e.external_id,
        created_at=e.created_at,
        updated_at=e.updated_at,
        created_by=names.get(e.created_by) if e.created_by else None,
        updated_by=names.get(e.updated_by) if e.updated_by else None,
    )


_ENTITY_COLS = (
    Entity.id, Entity.schema, Entity.caption, Entity.data, Entity.classification, Entity.version,
    Entity.external_id, Entity.created_at, Entity.updated_at, Entity.created_by, Entity.updated_by,
)


@functools.lru_cache(maxsize=4096)
def _get_statement(visible: Any) -> Any:
    """One statement object per policy clause: SQLAlchemy then reuses its compiled form and
    result metadata as they are (building the statement per call costs more than the query)."""
    return (
        select(*_ENTITY_COLS, Unit.code.label("unit_code"))
        .join(Unit, Unit.id == Entity.owner_unit_id)
        .where(Entity.id == bindparam("eid"), visible)
    )


def _row_view(r: Any, names: Mapping[int, str]) -> EntityView:
    return EntityView(
        id=r.id, schema=r.schema, caption=r.caption, data=r.data, owner_unit=r.unit_code,
        classification=CLEARANCES[r.classification], version=r.version, external_id=r.external_id,
        created_at=r.created_at, updated_at=r.updated_at,
        created_by=names.get(r.created_by) if r.created_by else None,
        updated_by=names.get(r.updated_by) if r.updated_by else None,
    )


def _usernames(s: Session, ids: set[int | None]) -> dict[int, str]:
    real = {i for i in ids if i}
    if not real:
        return {}
    return {i: n for i, n in s.execute(select(User.id, User.username).where(User.id.in_(real)))}


class EntityService:
    def __init__(self, db: Database, registry: Registry, settings: Settings, writer: AuditWriter) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.writer = writer
        #: user id -> username for the hot read path (a username never changes, a user is never deleted)
        self._usernames: dict[int, str] = {}

    # -- helpers -------------------------------------------------------------------------

    def _audit_read(self, actor: Actor, event: AuditEvent) -> None:
        if self.settings.audit_reads:
            self.writer.record(actor, event)

    def _owner_unit(self, s: Session, actor: Actor, code: str | None) -> Unit:
        if code:
            unit = s.scalar(select(Unit).where(Unit.code == code.strip().upper(), Unit.active.is_(True)))
            if unit is None or not unit_in_scope(actor, unit):
                raise ValidationFailed([FieldError("owner_unit", "unit.unknown", f"unknown unit code '{code}'")])
            return unit
        if actor.unit_id is None:
            raise ValidationFailed([FieldError("owner_unit", "property.required", "the owner unit is required")])
        unit = s.get(Unit, actor.unit_id)
        assert unit is not None
        return unit

    def _classification(self, actor: Actor, value: str | int | None) -> int:
        if value is None or value == "":
            return 0
        try:
            level = clearance_level(value)
        except ValueError as exc:
            raise ValidationFailed([FieldError("classification", "classification.unknown", str(exc))]) from None
        if level > actor.clearance:
            raise ValidationFailed(
                [FieldError("classification", "classification.above_clearance",
                            "you cannot classify a record above your own clearance")]
            )
        return level

    def _check_refs(self, s: Session, actor: Actor, schema: EntitySchema, data: Mapping[str, Any]) -> None:
        refs = schema.references(data)
        if not refs:
            return
        ids = {rid for _, rid in refs}
        found = {
            eid: sch
            for eid, sch in s.execute(
                select(Entity.id, Entity.schema).where(Entity.id.in_(ids), visible_entities(actor))
            )
        }
        errs = []
        for prop, rid in refs:
            p = schema.properties[prop]
            if rid not in found:
                errs.append(FieldError(f"data.{prop}", "reference.unknown", f"no record '{rid}' to link to"))
            elif p.range and found[rid] not in p.range:
                errs.append(
                    FieldError(f"data.{prop}", "reference.range",
                               f"'{rid}' is a {found[rid]}; expected one of: {', '.join(p.range)}")
                )
        if errs:
            raise ValidationFailed(errs)

    def _write_index(self, s: Session, eid: str, schema: EntitySchema, data: Mapping[str, Any], *, fresh: bool,
                     unit: Unit, classification: int) -> None:
        """The record's keys and references, rewritten whole; the keys carry the owner unit's path and
        the classification (person search narrows a restricted user's look-up with them), so every
        change of data, owner or classification comes through here."""
        if not fresh:
            s.execute(delete(EntityKey).where(EntityKey.entity_id == eid))
            s.execute(delete(EntityRef).where(EntityRef.entity_id == eid))
        keys = [dict(zip(KEY_COLUMNS, r, strict=True))
                for r in key_rows(eid, record_keys(schema, data), unit.path, classification)]
        if keys:
            s.execute(insert(EntityKey), keys)
        refs = [{"entity_id": eid, "prop": p, "ref_id": r} for p, r in set(schema.references(data))]
        if refs:
            s.execute(insert(EntityRef), refs)

    def _load_visible(self, s: Session, actor: Actor, eid: str, *, capability: str = "records.read") -> Entity:
        e = s.scalar(select(Entity).where(Entity.id == eid, visible_entities(actor, capability=capability)))
        if e is None:
            raise NotFound("record", eid)
        return e

    # -- reads ---------------------------------------------------------------------------

    def get(self, actor: Actor, eid: str) -> EntityView:
        # Core, not ORM: this is the hottest read path (one query with the policy clause, outside
        # a transaction; the creator's and editor's names come from a cache).
        with self.db.statement_engine.connect() as c:
            row = c.execute(_get_statement(visible_entities(actor)), {"eid": eid}).first()
            if row is None:
                self._audit_read(actor, AuditEvent("read", "entity", eid, "not_found"))
                raise NotFound("record", eid)
            missing = {i for i in (row.created_by, row.updated_by) if i and i not in self._usernames}
            if missing:
                if len(self._usernames) > 10_000:
                    self._usernames.clear()
                found = c.execute(select(User.id, User.username).where(User.id.in_(missing)))
                self._usernames.update((i, n) for i, n in found)
            view = _row_view(row, self._usernames)
        self._audit_read(actor, AuditEvent("read", view.schema, eid))
        return view

    def _list_stmt(self, actor: Actor, query: ListQuery) -> Any:
        conds: list[Any] = [visible_entities(actor)]
        if query.schema:
            self.registry.get(query.schema)
            conds.append(Entity.schema == query.schema)
        if query.owner_unit:
            conds.append(Entity.owner_unit.has(Unit.code == query.owner_unit.strip().upper()))
        if query.classification:
            try:
                conds.append(Entity.classification == clearance_level(query.classification))
            except ValueError as exc:
                raise ValidationFailed([FieldError("classification", "classification.unknown", str(exc))]) from None
        if query.props:
            schema = self.registry.get(query.schema) if query.schema else None
            for prop, value in query.props.items():
                if schema is not None and prop not in schema.properties:
                    raise ValidationFailed([FieldError(prop, "property.unknown", f"'{query.schema}' has no '{prop}'")])
                conds.append(Entity.data[prop].as_string() == value)
        if query.q and query.q.strip():
            conds.append(self._text_clause(query.q.strip()))
        return and_(*conds)

    def _text_clause(self, q: str) -> Any:
        """Caption contains the text, or an identifier key equals its normalised form."""
        ors: list[Any] = [func.lower(Entity.caption).contains(q.lower(), autoescape=True)]
        for kind, key in identifier_keys(q):
            ors.append(exists(select(EntityKey.entity_id).where(
                EntityKey.entity_id == Entity.id, EntityKey.kind == kind, EntityKey.value == key
            )))
        return or_(*ors)

    def list(self, actor: Actor, query: ListQuery) -> Page:
        if query.q and query.q.strip() and query.schema in (None, "", "Person"):
            require_any(actor, "persons.search")
            if not actor.purpose.strip():
                raise ValidationFailed([FieldError("purpose", "purpose.required",
                                                   "a person search needs a declared purpose")])
        page = max(1, query.page)
        per_page = max(1, min(MAX_PER_PAGE, query.per_page))
        cond = self._list_stmt(actor, query)
        with self.db.read() as s:
            total = int(s.scalar(select(func.count()).select_from(Entity).where(cond)) or 0)
            rows = s.execute(
                select(Entity, Unit.code)
                .join(Unit, Unit.id == Entity.owner_unit_id)
                .where(cond)
                .order_by(Entity.updated_at.desc(), Entity.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            items = [_view(e, code) for e, code in rows]
        self._audit_read(
            actor,
            AuditEvent("search" if query.q else "list", query.schema or "entity", "",
                       details={"terms": query.terms(), "total": total}),
        )
        return Page(items, total, page, per_page)

    def count(self, actor: Actor, query: ListQuery) -> int:
        cond = self._list_stmt(actor, query)
        with self.db.read() as s:
            total = int(s.scalar(select(func.count()).select_from(Entity).where(cond)) or 0)
        self._audit_read(actor, AuditEvent("count", query.schema or "entity", "", details={"terms": query.terms()}))
        return total

    def history(self, actor: Actor, eid: str) -> builtins.list[VersionView]:
        with self.db.read() as s:
            self._load_visible(s, actor, eid)
            rows = s.execute(
                select(EntityVersion, Unit.code)
                .join(Unit, Unit.id == EntityVersion.owner_unit_id)
                .where(EntityVersion.entity_id == eid)
                .order_by(EntityVersion.version.desc())
            ).all()
            names = _usernames(s, {v.changed_by for v, _ in rows})
            out = [
                VersionView(v.version, v.op, v.data, code, CLEARANCES[v.classification], v.changed_at,
                            names.get(v.changed_by) if v.changed_by else "system", v.reason)
                for v, code in rows
            ]
        self._audit_read(actor, AuditEvent("history", "entity", eid))
        return out

    def relations(self, actor: Actor, eid: str) -> builtins.list[EntityView]:
        """Visible relation records that reference ``eid``, and visible records they link to."""
        with self.db.read() as s:
            self._load_visible(s, actor, eid)
            rows = s.execute(
                select(Entity, Unit.code)
                .join(Unit, Unit.id == Entity.owner_unit_id)
                .where(Entity.id.in_(select(EntityRef.entity_id).where(EntityRef.ref_id == eid)),
                       visible_entities(actor))
                .order_by(Entity.updated_at.desc())
                .limit(500)
            ).all()
            items = [_view(e, code) for e, code in rows]
        self._audit_read(actor, AuditEvent("relations", "entity", eid, details={"count": len(items)}))
        return items

    def captions(self, actor: Actor, ids: set[str], *, lang: str = "en") -> dict[str, tuple[str, str]]:
        """id -> (schema, caption in ``lang``) for the visible ones among ``ids`` (to label links).
        Captions are computed from the data, so an offence or a role shows in the page language."""
        if not ids:
            return {}
        with self.db.read() as s:
            rows = s.execute(
                select(Entity.id, Entity.schema, Entity.data).where(Entity.id.in_(ids), visible_entities(actor))
            ).all()
        out: dict[str, tuple[str, str]] = {}
        for i, sch, data in rows:
            schema = self.registry.get(sch) if sch in self.registry else None
            out[i] = (sch, schema.caption(data, lang) if schema else sch)
        return out

    # -- writes --------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        schema_name: str,
        data: Any,
        *,
        owner_unit: str | None = None,
        classification: str | int | None = None,
        external_id: str | None = None,
        reason: str = "",
    ) -> EntityView:
        actor.require("records.create")
        with self.db.write() as s:
            return self.create_in(s, actor, schema_name, data, owner_unit=owner_unit,
                                  classification=classification, external_id=external_id, reason=reason)

    def create_in(
        self,
        s: Session,
        actor: Actor,
        schema_name: str,
        data: Any,
        *,
        owner_unit: str | None = None,
        classification: str | int | None = None,
        external_id: str | None = None,
        reason: str = "",
    ) -> EntityView:
        """``create`` inside the caller's write transaction (procedures write a complaint's
        incident and the complaint's new state together)."""
        actor.require("records.create")
        schema = self.registry.get(schema_name)
        clean = schema.validate(data)
        level = self._classification(actor, classification)
        now = utcnow()
        unit = self._owner_unit(s, actor, owner_unit)
        self._check_refs(s, actor, schema, clean)
        if external_id:
            dup = s.scalar(select(Entity.id).where(
                Entity.schema == schema.name, Entity.owner_unit_id == unit.id, Entity.external_id == external_id
            ))
            if dup is not None:
                raise Conflict("a record with this external id exists", field="external_id",
                               rule="external_id.taken")
        e = Entity(
            id=new_id(), schema=schema.name, data=clean, caption=schema.caption(clean)[:300],
            owner_unit_id=unit.id, classification=level, version=1, external_id=external_id or None,
            created_at=now, created_by=actor.user_id, updated_at=now, updated_by=actor.user_id,
        )
        s.add(e)
        s.flush()
        s.add(EntityVersion(entity_id=e.id, version=1, op="create", data=clean, owner_unit_id=unit.id,
                            classification=level, changed_at=now, changed_by=actor.user_id, reason=reason[:500]))
        self._write_index(s, e.id, schema, clean, fresh=True, unit=unit, classification=level)
        if schema.name == facts.SCHEMA:
            facts.sync_facts(s, [(e.id, unit.id, level, clean)])
        audit.append(s, [(actor, AuditEvent("create", schema.name, e.id, details={"version": 1}))])
        name = {actor.user_id: actor.username} if actor.user_id else {}
        return _view(e, unit.code, name)

    def update(
        self,
        actor: Actor,
        eid: str,
        data: Any,
        *,
        expected_version: int | None,
        partial: bool = False,
        classification: str | int | None = None,
        owner_unit: str | None = None,
        reason: str = "",
    ) -> EntityView:
        actor.require("records.update")
        if expected_version is None:
            raise ValidationFailed([FieldError("version", "property.required",
                                               "give the version you edited (If-Match or 'version')")])
        with self.db.write() as s:
            return self.update_in(s, actor, eid, data, expected_version=expected_version, partial=partial,
                                  classification=classification, owner_unit=owner_unit, reason=reason)

    def update_in(
        self,
        s: Session,
        actor: Actor,
        eid: str,
        data: Any,
        *,
        expected_version: int | None = None,
        partial: bool = False,
        classification: str | int | None = None,
        owner_unit: str | None = None,
        reason: str = "",
    ) -> EntityView:
        """``update`` inside the caller's write transaction (``expected_version`` None: current)."""
        actor.require("records.update")
        now = utcnow()
        e = self._load_visible(s, actor, eid)
        schema = self.registry.get(e.schema)
        if expected_version is not None and e.version != expected_version:
            raise Conflict(
                f"the record changed since you read it (you edited version {expected_version}, "
                f"it is now at version {e.version})",
                field="version", rule="version.stale", current_version=e.version,
            )
        if data is not None and not isinstance(data, Mapping):
            raise ValidationFailed([FieldError("data", "data.type", "data must be an object")])
        merged = {**e.data, **(data or {})} if partial else (data if data is not None else e.data)
        if partial:
            merged = {k: v for k, v in merged.items() if v not in (None, "", [])}
        clean = schema.validate(merged)
        level = e.classification if classification in (None, "") else self._classification(actor, classification)
        unit = e.owner_unit if not owner_unit else self._owner_unit(s, actor, owner_unit)
        self._check_refs(s, actor, schema, clean)
        changed = clean != e.data or level != e.classification or unit.id != e.owner_unit_id
        if not changed:
            view = _view(e, e.owner_unit.code, _usernames(s, {e.created_by, e.updated_by}))
            audit.append(s, [(actor, AuditEvent("update", e.schema, eid, "unchanged", {"version": e.version}))])
            return view
        e.data = clean
        e.caption = schema.caption(clean)[:300]
        e.classification = level
        e.owner_unit_id = unit.id
        e.version += 1
        e.updated_at = now
        e.updated_by = actor.user_id
        s.add(EntityVersion(entity_id=e.id, version=e.version, op="update", data=clean, owner_unit_id=unit.id,
                            classification=level, changed_at=now, changed_by=actor.user_id, reason=reason[:500]))
        self._write_index(s, e.id, schema, clean, fresh=False, unit=unit, classification=level)
        if schema.name == facts.SCHEMA:
            facts.sync_facts(s, [(e.id, unit.id, level, clean)])
        audit.append(s, [(actor, AuditEvent("update", e.schema, eid, details={"version": e.version}))])
        s.flush()
        s.refresh(e)
        view = _view(e, unit.code, _usernames(s, {e.created_by, e.updated_by}))
        return view

    def delete(self, actor: Actor, eid: str, *, expected_version: int | None, reason: str) -> None:
        actor.require("records.delete")
        errs = []
        if expected_version is None:
            errs.append(FieldError("version", "property.required", "give the version you are deleting"))
        if not reason.strip():
            errs.append(FieldError("reason", "property.required", "a reason is required to delete a record"))
        if errs:
            raise ValidationFailed(errs)
        now = utcnow()
        with self.db.write() as s:
            e = self._load_visible(s, actor, eid)
            if e.version != expected_version:
                raise Conflict("the record changed since you read it", field="version", rule="version.stale",
                               current_version=e.version)
            e.version += 1
            e.deleted_at = now
            e.updated_at = now
            e.updated_by = actor.user_id
            s.add(EntityVersion(entity_id=e.id, version=e.version, op="delete", data=e.data,
                                owner_unit_id=e.owner_unit_id, classification=e.classification, changed_at=now,
                                changed_by=actor.user_id, reason=reason[:500]))
            if e.schema == facts.SCHEMA:
                facts.sync_facts(s, [(e.id, e.owner_unit_id, e.classification, None)])
            audit.append(s, [(actor, AuditEvent("delete", e.schema, eid, details={"version": e.version}))])

    def share(self, actor: Actor, eid: str, unit_code: str) -> None:
        actor.require("records.share")
        with self.db.write() as s:
            e = self._load_visible(s, actor, eid)
            unit = s.scalar(select(Unit).where(Unit.code == unit_code.strip().upper(), Unit.active.is_(True)))
            if unit is None:
                raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit_code}'")])
            if not s.get(EntityShare, (e.id, unit.id)):
                s.add(EntityShare(entity_id=e.id, unit_id=unit.id, shared_by=actor.user_id))
            audit.append(s, [(actor, AuditEvent("share", e.schema, eid, details={"unit": unit.code}))])


def require_any(actor: Actor, *caps: str) -> None:
    if not any(actor.can(c) for c in caps):
        raise Forbidden(" or ".join(caps))
