"""The analytic projection of Incident records (``incident_facts``).

Statistics, CompStat, spike alerts, hotspots and forecasts read one narrow row per incident
(owner unit, classification, offence and its group, time, region, commune, coordinates) instead
of parsing every record's JSON. Every path that writes Incident records keeps it in step, in the
same transaction: :class:`~amane.services.entities.EntityService` (create, update, delete, so
procedures too) and the bulk :class:`~amane.services.imports.ImportService`. ``rebuild_facts``
recomputes the whole table from the records (migration 0005, ``amane analytics rebuild-facts``).

An incident's region is its own ``region`` property, else the region of its owner unit, so that
a record without a place still counts in its region's statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from amane.model.schema import load_vocabulary
from amane.store.bulk import insert_rows
from amane.store.tables import Entity, IncidentFact, Unit

SCHEMA = "Incident"
COLUMNS = ("entity_id", "owner_unit_id", "classification", "category", "category_group", "occurred_at", "region",
           "commune", "lat", "lon")
CHUNK = 900


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fact_row(entity_id: str, owner_unit_id: int, classification: int, data: Mapping[str, Any],
             unit_region: str | None) -> tuple[Any, ...] | None:
    """The fact tuple (``COLUMNS`` order) of one Incident record, or None if it has no usable
    offence or date (the schema requires both, so only corrupt rows are skipped)."""
    category = data.get("offence_category")
    occurred = _when(data.get("occurred_from"))
    if not isinstance(category, str) or occurred is None:
        return None
    group = load_vocabulary("offences").group_of.get(category, "other")
    coords = data.get("coordinates") or {}
    lat = coords.get("lat") if isinstance(coords, Mapping) else None
    lon = coords.get("lon") if isinstance(coords, Mapping) else None
    region = data.get("region") or unit_region
    return (entity_id, owner_unit_id, classification, category, group, occurred, region, data.get("commune"),
            float(lat) if lat is not None else None, float(lon) if lon is not None else None)


def _regions(s: Session | Connection, unit_ids: Iterable[int]) -> dict[int, str | None]:
    ids = sorted(set(unit_ids))
    out: dict[int, str | None] = {}
    for i in range(0, len(ids), CHUNK):
        out.update(s.execute(select(Unit.id, Unit.region).where(Unit.id.in_(ids[i : i + CHUNK]))).all())
    return out


def sync_facts(s: Session, items: Sequence[tuple[str, int, int, Mapping[str, Any] | None]], *,
               replace: Sequence[str] | None = None) -> None:
    """Write the facts of the given Incident records, inside the caller's transaction.

    ``items``: (entity id, owner unit id, classification, data or None when the record was deleted).
    ``replace``: the ids that may already have facts (default: all of them); a bulk import of new
    records passes only the records it updated, and skips the deletes for the rest.
    """
    if not items:
        return
    ids = [it[0] for it in items] if replace is None else list(replace)
    for i in range(0, len(ids), CHUNK):
        s.execute(delete(IncidentFact).where(IncidentFact.entity_id.in_(ids[i : i + CHUNK])))
    regions = _regions(s, (it[1] for it in items))
    rows = []
    for eid, unit_id, level, data in items:
        if data is None:
            continue
        row = fact_row(eid, unit_id, level, data, regions.get(unit_id))
        if row is not None:
            rows.append(row)
    insert_rows(s, "incident_facts", COLUMNS, rows)


def rebuild_facts(conn: Connection | Session, *, batch: int = 5000) -> int:
    """Recompute every fact from the Incident records; returns how many were written."""
    conn.execute(delete(IncidentFact))
    regions = dict(conn.execute(select(Unit.id, Unit.region)).all())
    written = 0
    last = ""
    while True:
        rows = conn.execute(
            select(Entity.id, Entity.owner_unit_id, Entity.classification, Entity.data)
            .where(Entity.schema == SCHEMA, Entity.deleted_at.is_(None), Entity.id > last)
            .order_by(Entity.id).limit(batch)
        ).all()
        if not rows:
            return written
        out = []
        for eid, unit_id, level, data in rows:
            row = fact_row(eid, unit_id, level, data or {}, regions.get(unit_id))
            if row is not None:
                out.append(row)
        insert_rows(conn, "incident_facts", COLUMNS, out)
        written += len(out)
        last = rows[-1][0]
