"""REST API for crime monitoring: statistics, CompStat, hotspots, spike alerts and forecasts.
Thin: parse, call :class:`~amane.services.monitoring.MonitoringService`, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from amane.api.deps import current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Svc = Depends(services_dep)
Who = Depends(current_actor)


@router.get("/stats")
def statistics(
    by: str = Query("category", description="One or two of: unit, region, commune, category, group, hour, "
                                            "weekday, day, week, month (comma-separated)"),
    start: date | None = Query(None, description="First local day (default: 28 days before end)"),
    end: date | None = Query(None, description="Last local day, inclusive (default: today)"),
    unit: str | None = Query(None, max_length=32, description="Unit code: its subtree only"),
    category: str | None = Query(None, max_length=64),
    group: str | None = Query(None, max_length=32),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """Incident counts over the incidents you may see, grouped; ``unit`` rolls up the unit tree,
    ``region``/``commune`` add rates per 100,000 inhabitants (2024 census)."""
    dims = [d.strip() for d in by.split(",") if d.strip()]
    return svc.monitoring.stats(actor, by=dims, start=start, end=end, unit=unit, category=category,
                                group=group).as_dict()


@router.get("/compstat")
def compstat(
    unit: str | None = Query(None, max_length=32, description="Unit code (default: your unit; all for national)"),
    as_of: date | None = Query(None, description="Last local day of the windows (default: today)"),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """Last 7 days, last 28 days and year to date against the same days a year earlier."""
    return svc.monitoring.compstat(actor, unit=unit or svc.monitoring.default_unit(actor), as_of=as_of).as_dict()


@router.get("/hotspots")
def hotspots(
    unit: str | None = Query(None, max_length=32),
    start: date | None = Query(None), end: date | None = Query(None),
    category: str | None = Query(None, max_length=64), group: str | None = Query(None, max_length=32),
    method: str = Query("h3", description="h3 (hexagons), square (cells) or kde (kernel density, 300 m)"),
    resolution: int = Query(8, description="H3 resolution (5-11; 8 is about 0.74 km2)"),
    cell: float = Query(250, description="Square cell size in metres (50-5000)"),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """Counts, density and Getis-Ord Gi* hot/cold class per cell, as GeoJSON (with a ``meta`` member)."""
    return svc.monitoring.hotspots(actor, unit=unit, start=start, end=end, category=category, group=group,
                                   method=method, resolution=resolution, cell_m=cell)


@router.get("/near-repeat")
def near_repeat(
    unit: str | None = Query(None, max_length=32),
    start: date | None = Query(None, description="Default: 365 days before end"), end: date | None = Query(None),
    category: str | None = Query(None, max_length=64), group: str | None = Query(None, max_length=32),
    space: int = Query(100, description="Width of the spatial bands in metres"),
    bands: int = Query(5, description="Number of spatial bands"),
    time: int = Query(7, description="Width of the time bands in days"),
    time_bands: int = Query(4, description="Number of time bands"),
    permutations: int = Query(99, description="Monte Carlo permutations (19, 49, 99, 199, 999)"),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """Knox near-repeat test: observed pairs per (distance band x time band), the counts expected
    when dates are shuffled, their ratio and pseudo p-value."""
    return svc.monitoring.near_repeat(actor, unit=unit, start=start, end=end, category=category, group=group,
                                      space_m=space, bands=bands, time_days=time, time_bands=time_bands,
                                      permutations=permutations)


@router.get("/forecast")
def forecast(
    unit: str | None = Query(None, max_length=32),
    model: str = Query("auto", description="auto (best in the backtest), last_period, ewma, kde, kde_decay, etas"),
    horizon: int = Query(7, description="Days ahead (1-28)"),
    cell: float = Query(250, description="Square cell size in metres (100-2000)"),
    category: str | None = Query(None, max_length=64), group: str | None = Query(None, max_length=32),
    windows: int = Query(12, description="Backtest windows behind the accuracy figures (4-52)"),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """The top-ranked cells for the next period, with the accuracy measured by a rolling backtest
    on the same history (``meta.accuracy``), or an explicit ``meta.not_enough_data``."""
    return svc.monitoring.forecast(actor, unit=unit or svc.monitoring.default_unit(actor), model=model,
                                   horizon_days=horizon, cell_m=cell, category=category, group=group,
                                   windows=windows)


@router.get("/alerts")
def alerts(unit: str | None = Query(None, max_length=32), limit: int = Query(50, ge=1, le=500),
           svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    """Spike alerts of the units in your scope, newest week first."""
    return svc.monitoring.alerts(actor, unit=unit, limit=limit)


@router.get("/alerts/{alert_id}")
def alert(alert_id: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """One alert with the weekly series, expected values and bounds that explain it."""
    return svc.monitoring.alert(actor, alert_id)


@router.get("/regions.geojson")
def regions(svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Region boundaries (packaged data) for maps that work without a tile server."""
    actor.require("analytics.read")
    return svc.monitoring.regions_geojson()


@router.get("/compstat.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def compstat_pdf(
    unit: str | None = Query(None, max_length=32), as_of: date | None = Query(None),
    lang: str = Query("fr", description="ar, fr or en"), svc: Services = Svc, actor: Actor = Who,
) -> Response:
    """The CompStat report as a printable PDF (A4 landscape)."""
    report, pdf = svc.monitoring.compstat_pdf(actor, unit=unit or svc.monitoring.default_unit(actor), as_of=as_of,
                                              lang=lang)
    name = f"compstat-{report.unit.get('code') or 'all'}-{report.as_of.isoformat()}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
