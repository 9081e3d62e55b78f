"""Rebuild the key index (``entity_keys``) from the records, after the rules that make the keys
change: a new version of the names engine (new or different name keys), a new identifier type in
the model. ``amane db rekey`` runs it.

Each record's keys are computed again exactly as a write computes them
(:func:`amane.services.search.record_keys` and :func:`~amane.services.search.key_rows`, with the
owner unit's path and the classification that person search narrows with) and compared with the stored ones;
only the records whose keys differ are rewritten, one transaction per batch of records, so an
interrupted run leaves every record either as it was or done, and running it again finishes the
work (a second run changes nothing). Audited once, with the counts, as ``keys.rebuild``.

The version of the names engine's keys that the index was built with is kept in ``store_meta``
(``keys_version``): a run over the persons moves it to the running code's version, and
:func:`keys_status` tells ``amane db upgrade`` and ``amane serve`` when the code computes keys
of another version than the stored ones (person searches then miss whoever the new keys would
find: the operator runs ``amane db rekey``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, func, select

from amane.model.schema import Registry
from amane.names import KEYS_VERSION
from amane.services import audit
from amane.services.context import Actor
from amane.services.errors import FieldError, ValidationFailed
from amane.services.search import KEY_COLUMNS, key_rows, record_keys
from amane.store.bulk import insert_rows
from amane.store.db import Database
from amane.store.tables import Entity, EntityKey, StoreMeta, Unit

BATCH = 2000
KEYS_META = "keys_version"


@dataclass(frozen=True)
class KeysStatus:
    stored: str
    current: str

    @property
    def stale(self) -> bool:
        return self.stored != self.current

    def message(self) -> str:
        return (f"the key index was built with names keys version {self.stored}; this version of Amane computes "
                f"version {self.current}: run `amane db rekey` (until then person searches miss records "
                "whose new keys differ)")


def keys_status(db: Database) -> KeysStatus:
    """The keys version of the index and of the running code. A database without records is
    up to date by definition (and is marked so)."""
    current = str(KEYS_VERSION)
    with db.read() as s:
        stored = s.scalar(select(StoreMeta.value).where(StoreMeta.name == KEYS_META))
        empty = s.scalar(select(Entity.id).limit(1)) is None
    if stored != current and empty:
        _mark_keys_version(db, current)
        stored = current
    return KeysStatus(stored or "none", current)


def _mark_keys_version(db: Database, version: str) -> None:
    with db.write() as s:
        row = s.get(StoreMeta, KEYS_META)
        if row is None:
            s.add(StoreMeta(name=KEYS_META, value=version))
        else:
            row.value = version


@dataclass
class RekeyReport:
    records: int = 0
    changed: int = 0
    keys_before: int = 0
    keys_after: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def rekey(db: Database, registry: Registry, actor: Actor, *, schemas: Sequence[str] | None = None,
          batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> RekeyReport:
    """Recompute the keys of every record (of ``schemas``, default all) and rewrite those that
    differ. ``progress(done, total)`` after each batch."""
    known = set(registry.names())
    wanted = list(schemas) if schemas else None
    if wanted:
        bad = [s for s in wanted if s not in known]
        if bad:
            raise ValidationFailed([FieldError("schema", "schema.unknown", f"no such record type: {bad[0]}")])
    report = RekeyReport()
    cond = [Entity.schema.in_(wanted)] if wanted else []
    with db.read() as s:
        total = int(s.scalar(select(func.count()).select_from(Entity).where(*cond)) or 0)
        paths: dict[int, str] = {u: p for u, p in s.execute(select(Unit.id, Unit.path))}
    last = ""
    while True:
        with db.write() as s:
            rows = s.execute(select(Entity.id, Entity.schema, Entity.data, Entity.owner_unit_id,
                                    Entity.classification)
                             .where(Entity.id > last, *cond).order_by(Entity.id).limit(batch)).all()
            if not rows:
                break
            ids = [r[0] for r in rows]
            stored: dict[str, set[tuple[Any, ...]]] = {i: set() for i in ids}
            for row in s.execute(select(EntityKey.entity_id, EntityKey.kind, EntityKey.value, EntityKey.unit_path,
                                        EntityKey.classification).where(EntityKey.entity_id.in_(ids))):
                stored[row[0]].add(tuple(row))
            fresh: list[tuple[Any, ...]] = []
            changed: list[str] = []
            for eid, schema_name, data, unit_id, level in rows:
                if schema_name not in known:  # a type no longer declared: its keys stay as they are
                    continue
                keys = set(key_rows(eid, record_keys(registry.get(schema_name), data or {}),
                                    paths.get(unit_id, ""), level))
                report.keys_before += len(stored[eid])
                report.keys_after += len(keys)
                if keys != stored[eid]:
                    changed.append(eid)
                    fresh += sorted(keys, key=lambda r: (r[1], r[2]))
            if changed:
                s.execute(delete(EntityKey).where(EntityKey.entity_id.in_(changed)))
                insert_rows(s, "entity_keys", KEY_COLUMNS, fresh)
            report.records += len(rows)
            report.changed += len(changed)
            last = ids[-1]
        if progress is not None:
            progress(report.records, total)
    with db.write() as s:
        audit.append(s, [(actor, audit.AuditEvent("keys.rebuild", "entity_keys", ",".join(wanted or ["*"]),
                                                  details=report.as_dict()))])
    if wanted is None or "Person" in wanted:  # the names engine's keys are those of persons
        _mark_keys_version(db, str(KEYS_VERSION))
    return report
