"""Bulk import of records from CSV or JSON Lines: validate every row first, then write the
whole batch in one transaction (all or nothing), idempotent on ``external_id``.

A row without ``external_id`` gets one derived from its content (``sha1:...``), so that
running the same file twice still gives one record per row. References to other records
may be given as ``ext:EXTERNAL_ID`` and are resolved against records the importer can see
(or earlier in the same batch).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from amane.model.errors import ValidationFailed
from amane.model.schema import EntitySchema, Registry
from amane.services import audit, facts
from amane.services.audit import AuditEvent
from amane.services.context import Actor
from amane.services.entities import new_id
from amane.services.errors import FieldError
from amane.services.policy import unit_in_scope, visible_entities
from amane.services.roles import clearance_level
from amane.services.search import KEY_COLUMNS, key_rows, record_keys
from amane.store.bulk import insert_rows
from amane.store.db import Database
from amane.store.tables import Entity, EntityKey, EntityRef, Unit
from amane.store.types import utcnow

#: Separator of several values in one CSV cell (for properties that take several values).
MULTI_SEP = "|"
#: Columns that are about the record, not properties of its schema.
META_COLUMNS = ("external_id", "classification", "owner_unit")
CHUNK = 900
ENTITY_COLUMNS = ("id", "schema", "data", "caption", "owner_unit_id", "classification", "version", "external_id",
                  "created_at", "created_by", "updated_at", "updated_by", "deleted_at")
VERSION_COLUMNS = ("entity_id", "version", "op", "data", "owner_unit_id", "classification", "changed_at",
                   "changed_by", "reason")


@dataclass
class Row:
    line: int
    values: dict[str, Any]


@dataclass
class Prepared:
    line: int
    external_id: str
    unit_id: int
    classification: int
    data: dict[str, Any]
    caption: str
    keys: list[tuple[str, str]]
    refs: list[tuple[str, str]]


@dataclass
class ImportReport:
    schema: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[FieldError] = field(default_factory=list)
    digest: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "errors": [e.as_dict() for e in self.errors], "sha256": self.digest,
        }


def read_rows(path: Path) -> tuple[list[Row], str]:
    """CSV (header line, UTF-8 with or without BOM) or JSON Lines (``.jsonl``/``.ndjson``)."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([FieldError("file", "file.encoding", f"the file is not UTF-8 ({exc.reason})")]) from None
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _jsonl(text), digest
    return _csv(text), digest


def _csv(text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ValidationFailed([FieldError("file", "csv.header", "the CSV file has no header line")])
    header = [h.strip() for h in reader.fieldnames]
    if len(set(header)) != len(header):
        raise ValidationFailed([FieldError("file", "csv.header", "the CSV header repeats a column")])
    rows = []
    for i, rec in enumerate(reader, start=2):
        if None in rec:
            raise ValidationFailed([FieldError(f"row {i}", "csv.columns", "this row has more cells than the header")])
        values = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in rec.items()}
        rows.append(Row(i, {k: v for k, v in values.items() if v not in (None, "")}))
    return rows


def _jsonl(text: str) -> list[Row]:
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationFailed([FieldError(f"line {i}", "json.syntax", f"invalid JSON: {exc.msg}")]) from None
        if not isinstance(obj, dict):
            raise ValidationFailed([FieldError(f"line {i}", "json.type", "each line must be a JSON object")])
        rows.append(Row(i, {k: v for k, v in obj.items() if v not in (None, "")}))
    return rows


def _to_data(schema: EntitySchema, values: dict[str, Any]) -> dict[str, Any]:
    """CSV cells to property values: ``lat``/``lon`` columns become ``coordinates``; cells of
    multi-valued properties are split on ``|``."""
    data = {k: v for k, v in values.items() if k not in META_COLUMNS}
    if "lat" in data or "lon" in data:
        if "coordinates" in schema.properties and "coordinates" not in data:
            data["coordinates"] = {"lat": data.pop("lat", None), "lon": data.pop("lon", None)}
    for name, prop in schema.properties.items():
        if prop.multiple and isinstance(data.get(name), str):
            data[name] = [v.strip() for v in data[name].split(MULTI_SEP) if v.strip()]
    return data


def content_id(schema: str, data: dict[str, Any]) -> str:
    blob = json.dumps([schema, data], sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha1:" + hashlib.sha1(blob).hexdigest()


#: Imports that change at least this many records refresh the planner's statistics afterwards.
STATISTICS_AFTER = 10000
_KEY_ORDER = operator.itemgetter(1, 2)
"""(kind, value) of a key row (entity_id, kind, value, unit_path, classification)."""

#: Rows validated, then written, at a time.
PREPARE_CHUNK = 2000


@dataclass
class _PrepareContext:
    schema: EntitySchema
    unit: Unit
    default_classification: int
    actor: Actor
    units_by_code: dict[str, Unit] | None

    def one(self, row: Row) -> Prepared | list[FieldError]:
        where = f"row {row.line}"
        schema = self.schema
        try:
            data = schema.validate(_to_data(schema, row.values))
        except ValidationFailed as exc:
            return [FieldError(f"{where}.{e.field.removeprefix('data.')}", e.rule, e.message) for e in exc.errors]
        level = self.default_classification
        if "classification" in row.values:
            try:
                level = clearance_level(str(row.values["classification"]))
            except ValueError as exc:
                return [FieldError(f"{where}.classification", "classification.unknown", str(exc))]
            if level > self.actor.clearance:
                return [FieldError(f"{where}.classification", "classification.above_clearance",
                                   "above your own clearance")]
        row_unit: Unit | None = self.unit
        if "owner_unit" in row.values and self.units_by_code is not None:
            row_unit = self.units_by_code.get(str(row.values["owner_unit"]).upper())
            if row_unit is None or not unit_in_scope(self.actor, row_unit):
                return [FieldError(f"{where}.owner_unit", "unit.unknown", "unknown unit code")]
        assert row_unit is not None
        ext = str(row.values.get("external_id") or content_id(schema.name, data))[:128]
        return Prepared(row.line, ext, row_unit.id, level, data, schema.caption(data)[:300],
                        record_keys(schema, data), schema.references(data))


class ImportService:
    def __init__(self, db: Database, registry: Registry) -> None:
        self.db = db
        self.registry = registry

    # -- validation ----------------------------------------------------------------------

    def prepare_chunks(
        self, schema: EntitySchema, rows: list[Row], *, unit: Unit, default_classification: int,
        actor: Actor, units_by_code: dict[str, Unit] | None = None,
    ) -> Iterator[list[Prepared | list[FieldError]]]:
        """Validate and normalise rows chunk by chunk, in file order, so that the caller can write
        each chunk while the file is still being checked. (Validating in worker processes was
        measured slower than this on 2 cores once validation got fast: pickling the results back
        cost more than the validation itself.)"""
        ctx = _PrepareContext(schema, unit, default_classification, actor, units_by_code)
        for i in range(0, len(rows), PREPARE_CHUNK):
            yield [ctx.one(row) for row in rows[i : i + PREPARE_CHUNK]]

    @staticmethod
    def dedupe(results: list[Prepared | list[FieldError]], seen: dict[tuple[int, str], int],
               errors: list[FieldError]) -> list[Prepared]:
        """Drop rows that failed (their errors go to ``errors``) and repeated external ids."""
        out: list[Prepared] = []
        for res in results:
            if isinstance(res, list):
                errors += res
                continue
            key = (res.unit_id, res.external_id)
            if key in seen:
                errors.append(FieldError(f"row {res.line}.external_id", "external_id.duplicate",
                                         f"external id '{res.external_id}' already used on row {seen[key]}"))
                continue
            seen[key] = res.line
            out.append(res)
        return out

    def prepare(
        self, schema: EntitySchema, rows: list[Row], *, unit: Unit, default_classification: int,
        actor: Actor, units_by_code: dict[str, Unit] | None = None,
    ) -> tuple[list[Prepared], list[FieldError]]:
        """Validate every row; returns the good rows and every error."""
        seen: dict[tuple[int, str], int] = {}
        errors: list[FieldError] = []
        out: list[Prepared] = []
        for part in self.prepare_chunks(schema, rows, unit=unit, default_classification=default_classification,
                                        actor=actor, units_by_code=units_by_code):
            out += self.dedupe(part, seen, errors)
        return out, errors

    # -- writing -------------------------------------------------------------------------

    def _resolve_refs(self, s: Session, actor: Actor, items: list[Prepared], ext_map: dict[str, str],
                      schema: EntitySchema) -> list[FieldError]:
        wanted = {r[4:] for it in items for _, r in it.refs if r.startswith("ext:") and r[4:] not in ext_map}
        wanted_list = sorted(wanted)
        for i in range(0, len(wanted_list), CHUNK):
            chunk = wanted_list[i : i + CHUNK]
            for eid, ext in s.execute(
                select(Entity.id, Entity.external_id).where(Entity.external_id.in_(chunk), visible_entities(actor))
            ):
                if ext is None:
                    continue
                if ext in ext_map and ext_map[ext] != eid:
                    ext_map[ext] = ""  # ambiguous
                else:
                    ext_map[ext] = eid
        errors = []
        direct = {r for it in items for _, r in it.refs if not r.startswith("ext:")}
        known_direct: set[str] = set()
        direct_list = sorted(direct)
        for i in range(0, len(direct_list), CHUNK):
            known_direct.update(s.scalars(select(Entity.id).where(Entity.id.in_(direct_list[i : i + CHUNK]),
                                                                  visible_entities(actor))))
        for it in items:
            new_refs = []
            for prop, r in it.refs:
                target = ext_map.get(r[4:], "") if r.startswith("ext:") else (r if r in known_direct else "")
                if not target:
                    errors.append(FieldError(f"row {it.line}.{prop}", "reference.unknown",
                                             f"no record '{r}' to link to"))
                    continue
                it.data[prop] = target
                new_refs.append((prop, target))
            it.refs = new_refs
        return errors

    def write(self, s: Session, actor: Actor, schema: EntitySchema, items: list[Prepared],
              report: ImportReport, *, reason: str, ext_map: dict[str, str] | None = None,
              progress: Callable[[int], None] | None = None) -> None:
        """Write prepared rows inside the caller's transaction (no commit here)."""
        ext_map = {} if ext_map is None else ext_map
        if any(it.refs for it in items):
            errs = self._resolve_refs(s, actor, items, ext_map, schema)
            if errs:
                raise ValidationFailed(errs)
        now = utcnow()
        existing: dict[tuple[int, str], Entity] = {}
        by_unit: dict[int, list[str]] = {}
        for it in items:
            by_unit.setdefault(it.unit_id, []).append(it.external_id)
        for unit_id, exts in by_unit.items():
            for i in range(0, len(exts), CHUNK):
                for e in s.scalars(select(Entity).where(
                    Entity.schema == schema.name, Entity.owner_unit_id == unit_id,
                    Entity.external_id.in_(exts[i : i + CHUNK]),
                )):
                    existing[(unit_id, e.external_id or "")] = e
        # the keys carry their record's owner unit path and classification (person search)
        unit_paths: dict[int, str] = {
            u: p for u, p in s.execute(select(Unit.id, Unit.path).where(Unit.id.in_(by_unit)))}
        ent_rows: list[tuple[Any, ...]] = []
        ver_rows: list[tuple[Any, ...]] = []
        key_out: list[tuple[Any, ...]] = []
        ref_rows: list[tuple[Any, ...]] = []
        uid = actor.user_id
        done = 0
        fact_items: list[tuple[str, int, int, dict[str, Any] | None]] = []
        fact_updated: list[str] = []  # records that existed: their old facts go
        with_facts = schema.name == facts.SCHEMA
        for it in items:
            old = existing.get((it.unit_id, it.external_id))
            if old is None:
                eid = new_id()
                blob = json.dumps(it.data, ensure_ascii=False, separators=(",", ":"))
                ent_rows.append((eid, schema.name, blob, it.caption, it.unit_id, it.classification, 1,
                                 it.external_id, now, uid, now, uid, None))
                ver_rows.append((eid, 1, "create", blob, it.unit_id, it.classification, now, uid, reason))
                report.created += 1
            elif old.data == it.data and old.classification == it.classification and old.deleted_at is None:
                ext_map[it.external_id] = old.id
                report.unchanged += 1
                continue
            else:
                eid = old.id
                version = old.version + 1
                s.execute(update(Entity).where(Entity.id == eid).values(
                    data=it.data, caption=it.caption, classification=it.classification, version=version,
                    updated_at=now, updated_by=uid, deleted_at=None,
                ))
                s.execute(delete(EntityKey).where(EntityKey.entity_id == eid))
                s.execute(delete(EntityRef).where(EntityRef.entity_id == eid))
                blob = json.dumps(it.data, ensure_ascii=False, separators=(",", ":"))
                ver_rows.append((eid, version, "update", blob, it.unit_id, it.classification, now, uid, reason))
                report.updated += 1
                if with_facts:
                    fact_updated.append(eid)
            ext_map[it.external_id] = eid
            if with_facts:
                fact_items.append((eid, it.unit_id, it.classification, it.data))
            path = unit_paths[it.unit_id]
            key_out += key_rows(eid, it.keys, path, it.classification)
            ref_rows += [(eid, p, r) for p, r in dict.fromkeys(it.refs)]
            done += 1
            if len(ent_rows) >= 5000:
                self._flush(s, ent_rows, ver_rows, key_out, ref_rows)
                facts.sync_facts(s, fact_items, replace=fact_updated)
                fact_items.clear()
                fact_updated.clear()
                if progress:
                    progress(done)
        self._flush(s, ent_rows, ver_rows, key_out, ref_rows)
        facts.sync_facts(s, fact_items, replace=fact_updated)
        if progress:
            progress(done)

    @staticmethod
    def _flush(s: Session, ents: list[tuple[Any, ...]], vers: list[tuple[Any, ...]], keys: list[tuple[Any, ...]],
               refs: list[tuple[Any, ...]]) -> None:
        insert_rows(s, "entities", ENTITY_COLUMNS, ents)
        insert_rows(s, "entity_versions", VERSION_COLUMNS, vers)
        # in the order of the look-up indexes (kind, value): their B-trees then take the rows page
        # by page instead of at random places (SQLite, 20,000 persons: the key rows' insert 20-25%
        # shorter, about 5% of the whole import)
        keys.sort(key=_KEY_ORDER)
        insert_rows(s, "entity_keys", KEY_COLUMNS, keys)
        insert_rows(s, "entity_refs", ("entity_id", "prop", "ref_id"), refs)
        for lst in (ents, vers, keys, refs):
            lst.clear()

    def import_rows(
        self, actor: Actor, schema_name: str, rows: list[Row], *, unit: str,
        classification: str = "unclassified", digest: str = "", source_name: str = "",
        progress: Callable[[int], None] | None = None, dry_run: bool = False,
    ) -> ImportReport:
        """Validate every row and write all of them or none (one transaction). Validation of later
        chunks overlaps with writing earlier ones; the first error stops writing, validation goes
        on to report every error, and the transaction is rolled back. Errors are in the report."""
        actor.require("records.import")
        schema = self.registry.get(schema_name)
        report = ImportReport(schema=schema.name, rows=len(rows), digest=digest)
        try:
            level = clearance_level(classification)
        except ValueError as exc:
            raise ValidationFailed([FieldError("classification", "classification.unknown", str(exc))]) from None
        with self.db.read() as s:
            owner = s.scalar(select(Unit).where(Unit.code == unit.strip().upper(), Unit.active.is_(True)))
            if owner is None or not unit_in_scope(actor, owner):
                raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit}'")])
            units = {u.code: u for u in s.scalars(select(Unit))}
        chunks = self.prepare_chunks(schema, rows, unit=owner, default_classification=level, actor=actor,
                                     units_by_code=units)
        errors: list[FieldError] = []
        seen: dict[tuple[int, str], int] = {}
        ext_map: dict[str, str] = {}
        done = 0
        try:
            with self.db.write() as s:
                for part in chunks:
                    items = self.dedupe(part, seen, errors)
                    done += len(part)
                    if not errors and not dry_run:
                        self.write(s, actor, schema, items, report, ext_map=ext_map,
                                   reason=f"import {source_name} sha256:{digest[:16]}")
                    if progress:
                        progress(done)
                if errors or dry_run:
                    raise _RollBack()
                audit.append(s, [(actor, AuditEvent(
                    "import", schema.name, owner.code,
                    details={"file": source_name, "sha256": digest, "rows": report.rows,
                             "created": report.created, "updated": report.updated, "unchanged": report.unchanged},
                ))])
        except _RollBack:
            report.created = report.updated = report.unchanged = 0
            report.errors = errors
            return report
        if report.created + report.updated >= STATISTICS_AFTER:
            self.db.refresh_statistics()
        return report


class _RollBack(Exception):
    """Leaves the import's transaction without committing anything."""


def iter_export(db: Database, actor: Actor, schema: str | None, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Visible records, oldest first, as JSON-ready dicts (the caller audits the export)."""
    last = ""
    while True:
        with db.read() as s:
            cond = [visible_entities(actor, capability="records.export"), Entity.id > last]
            if schema:
                cond.append(Entity.schema == schema)
            rows = s.execute(
                select(Entity, Unit.code).join(Unit, Unit.id == Entity.owner_unit_id).where(*cond)
                .order_by(Entity.id).limit(batch)
            ).all()
        if not rows:
            return
        for e, code in rows:
            yield {"id": e.id, "schema": e.schema, "external_id": e.external_id, "owner_unit": code,
                   "classification": e.classification, "version": e.version, "data": e.data}
        last = rows[-1][0].id
