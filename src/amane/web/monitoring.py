"""Pages that track the evolution of crime: the dashboard (this week's changes, weekly trends,
counts by unit and category, latest alerts), the CompStat table, the spike alerts with the
chart that explains each one, the hotspot map with its time slider and the forecast map with
its measured accuracy beside it.

Thin like the other pages: parse the query, call :class:`~amane.services.monitoring.MonitoringService`
(need-to-know, the ``analytics.read`` capability and audit live there), render. Charts are
server-rendered inline SVG (no chart library, no request leaves the server); the maps use the
locally served Leaflet, draw the packaged region boundaries, and add a tile layer only when
``AMANE_TILE_URL`` is set. The map script fetches the JSON API (``/api/v1/analytics/...``),
which the session cookie authenticates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from amane.api.deps import services
from amane.model.schema import load_vocabulary
from amane.services.context import Actor
from amane.services.errors import FieldError, NotFound, ValidationFailed
from amane.services.monitoring import today_local
from amane.services.units import UnitView
from amane.web.i18n import has, t
from amane.web.routes import Problem, Who, page_lang, render, scope_units, unit_map

router = APIRouter(include_in_schema=False)

#: Lengths of the trend charts offered on the dashboard, in weeks.
TREND_WEEKS = (13, 26, 52)
#: Forecast models offered (``auto`` lets the service pick the best by its backtest).
FORECAST_MODELS = ("auto", "last_period", "ewma", "kde", "kde_decay", "etas")
HOT_CLASSES = ("hot99", "hot95", "hot90", "none", "cold90", "cold95", "cold99")
SLIDER_WEEKS = 52
H3_RESOLUTIONS = (7, 8, 9)
CELL_SIZES = (100, 250, 500, 1000)
#: Ways to draw the hotspot map: H3 hexagons, square cells (both with Gi*), kernel density.
MAP_METHODS = ("h3", "square", "kde")
#: Shares of the incidents that the density map outlines (the highest-density regions).
MASS_BANDS = (50, 75, 90)
#: Near-repeat (Knox) test: band widths and permutations offered, and the default offence.
NR_SPACE_M = (50, 100, 200)
NR_TIME_DAYS = (7, 14)
NR_PERMUTATIONS = (99, 999)
NR_DEFAULT_CATEGORY = "burglary"
NR_SIGNIFICANCE = 0.05


# --------------------------------------------------------------------------- formatting


def fmt_int(n: Any, lang: str) -> str:
    """A count with the thousands grouped the way the language writes them."""
    if n is None:
        return "—"
    try:
        value = int(n)
    except (TypeError, ValueError):
        return str(n)
    text = f"{value:,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def fmt_num(x: Any, lang: str, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{float(x):,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def fmt_pct(x: Any, lang: str, digits: int = 1, *, signed: bool = False, fraction: bool = False) -> str:
    """``12.5 %`` (fr), ``12.5%`` (en, ar); ``fraction`` multiplies 0..1 values by 100."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    value = float(x) * (100 if fraction else 1)
    text = fmt_num(abs(value) if signed else value, lang, digits)
    if signed:
        text = ("+" if value > 0 else "−" if value < 0 else "±") + text
    return text + ("\u202f%" if lang == "fr" else "%")


@dataclass
class Change:
    """A change against the same period a year earlier, told with a sign, an arrow and words
    (never by colour alone)."""

    kind: str  # up, down, same, new, none
    text: str
    words: str


def change(cur: int, prev: int, pct: float | None, lang: str) -> Change:
    if pct is None:
        if cur > 0:
            return Change("new", t("mon.change.new", lang), t("mon.change.new_words", lang, prev=prev))
        return Change("none", "—", t("mon.change.none_words", lang))
    if pct > 0:
        return Change("up", "▲ " + fmt_pct(pct, lang, signed=True),
                      t("mon.change.up_words", lang, pct=fmt_pct(pct, lang), prev=fmt_int(prev, lang)))
    if pct < 0:
        return Change("down", "▼ " + fmt_pct(pct, lang, signed=True),
                      t("mon.change.down_words", lang, pct=fmt_pct(-pct, lang), prev=fmt_int(prev, lang)))
    return Change("same", "= " + fmt_pct(0, lang), t("mon.change.same_words", lang, prev=fmt_int(prev, lang)))


def ltr(value: Any) -> str:
    """A date, code or number kept left-to-right as one unit inside a translated sentence (Unicode
    isolates: an ISO date in Arabic text would otherwise show as 29-11-2026)."""
    return f"\u2066{value}\u2069"


def label_of(labels: Any, lang: str, default: str = "") -> str:
    """A ``{ar, fr, en}`` label in the page language (French, then anything, as fallbacks)."""
    if isinstance(labels, Mapping):
        for key in (lang, "fr", "en", "ar"):
            if labels.get(key):
                return str(labels[key])
        return default
    return str(labels) if labels else default


# --------------------------------------------------------------------------- SVG charts


@dataclass
class Series:
    key: str
    label: str
    values: list[float | None]
    css: str = "s-main"
    points: str = ""
    dots: list[tuple[float, float, float | None]] = field(default_factory=list)


@dataclass
class Chart:
    """Geometry of a small line chart (drawn by the ``line_chart`` macro): time runs left to right
    in every language, the axes carry their numbers, the data table sits beside it."""

    id: str
    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    band: str = ""
    band_label: str = ""
    highlight: list[tuple[float, float, float]] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    y_max: float = 0.0

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return float(m * exp)
    return float(10 * exp)


def line_chart(chart_id: str, title: str, dates: Sequence[date], series: Sequence[Series], lang: str, *,
               band: tuple[Sequence[float | None], Sequence[float | None]] | None = None, band_label: str = "",
               highlight: Sequence[int] = (), width: int = 640, height: int = 170) -> Chart:
    """Polylines (and an optional shaded band between two series) for weekly values."""
    left, right, top, bottom = 40, 10, 10, 24
    n = len(dates)
    values = [v for s in series for v in s.values if v is not None]
    if band:
        values += [v for v in band[1] if v is not None]
    y_max = _nice_max(max(values, default=0.0))
    pw, ph = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return round(left + (pw * i / (n - 1) if n > 1 else pw / 2), 1)

    def y(v: float) -> float:
        return round(top + ph - ph * v / y_max, 1)

    for s in series:
        pts: list[tuple[float, float, float | None]] = [(x(i), y(v), v) for i, v in enumerate(s.values)
                                                        if v is not None]
        s.points = " ".join(f"{a},{b}" for a, b, _ in pts)
        s.dots = pts if n <= 60 else []
    band_path = ""
    if band:
        lo, hi = band
        upper = [(x(i), y(v)) for i, v in enumerate(hi) if v is not None]
        lower = [(x(i), y(v)) for i, v in enumerate(lo) if v is not None]
        if upper and lower:
            band_path = "M" + " L".join(f"{a},{b}" for a, b in upper) + " L" + " L".join(
                f"{a},{b}" for a, b in reversed(lower)) + " Z"
    ticks = [(y(y_max * f), fmt_int(y_max * f, lang) if (y_max * f).is_integer() else fmt_num(y_max * f, lang))
             for f in (0, 0.5, 1)]
    # a label at the first week of a month, thinned to about six labels
    marks: list[tuple[float, str]] = []
    step = max(1, math.ceil(n / 6))
    last = -step
    for i, d in enumerate(dates):
        if (i == 0 or d.month != dates[i - 1].month) and i - last >= step * 0.8:
            marks.append((x(i), d.strftime("%m/%Y") if n > 14 else d.strftime("%d/%m")))
            last = i
    marks = [m for m in marks if m[0] <= width - right - 20] or marks[:1]
    hl = []
    for i in highlight:
        if 0 <= i < n:
            half = pw / max(1, n - 1) / 2
            hl.append((round(x(i) - half, 1), round(half * 2, 1), float(ph)))
    return Chart(chart_id, title, width, height, left, top, right, bottom, list(series), marks, ticks,
                 band_path, band_label, hl, [d.isoformat() for d in dates], y_max)


# --------------------------------------------------------------------------- request helpers


def _day(raw: str | None, name: str, errors: list[FieldError]) -> date | None:
    raw = (raw or "").strip()[:20]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "date.format", "use YYYY-MM-DD"))
        return None


def _choice(raw: str | None, allowed: Sequence[Any], default: Any) -> Any:
    raw = (raw or "").strip()
    for a in allowed:
        if str(a) == raw:
            return a
    return default


def problems(exc: ValidationFailed | list[FieldError], lang: str) -> list[Problem]:
    errs = exc.errors if isinstance(exc, ValidationFailed) else exc
    out = []
    for e in errs:
        key = f"mon.errors.{e.rule}"
        msg = t(key, lang) if has(key, lang) else e.message
        field_key = f"mon.fields.{e.field}"
        if has(field_key, lang):
            msg = f"{t(field_key, lang)} : {msg}" if lang == "fr" else f"{t(field_key, lang)}: {msg}"
        out.append(Problem(msg, e.message))
    return out


@dataclass
class Filters:
    """What the filter bar of every monitoring page carries."""

    unit: str | None
    units: list[UnitView]
    all_allowed: bool
    as_of: date
    group: str = ""
    category: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def query(self, **extra: Any) -> str:
        params = {"unit": self.unit or "", "as_of": self.as_of.isoformat(), "group": self.group,
                  "category": self.category}
        params.update({k: str(v) for k, v in extra.items()})
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def filters(request: Request, actor: Actor, *, offences: bool = False) -> Filters:
    """Unit (default: the user's unit; all units for national users), day of reference, and
    optionally an offence group or category, all checked; a unit outside the scope is a 404."""
    actor.require("analytics.read")
    svc = services(request)
    qp = request.query_params
    units = scope_units(actor, unit_map(request))
    errors: list[FieldError] = []
    raw_unit = (qp.get("unit") if "unit" in qp else svc.monitoring.default_unit(actor)) or ""
    unit = raw_unit.strip().upper()[:32] or None
    if unit is None and not actor.national:
        unit = actor.unit_code
    if unit is not None and unit not in {u.code for u in units}:
        raise NotFound("unit", unit)
    today = today_local()
    as_of = _day(qp.get("as_of"), "as_of", errors) or today
    if as_of > today:
        errors.append(FieldError("as_of", "date.future", f"{as_of.isoformat()} is in the future"))
        as_of = today
    group = category = ""
    if offences:
        vocab = load_vocabulary("offences")
        group = (qp.get("group") or "").strip()[:32]
        category = (qp.get("category") or "").strip()[:64]
        if group and group not in vocab.groups:
            errors.append(FieldError("group", "group.unknown", f"unknown offence group '{group}'"))
            group = ""
        if category and category not in vocab.values:
            errors.append(FieldError("category", "category.unknown", f"unknown offence category '{category}'"))
            category = ""
    return Filters(unit, units, actor.national, as_of, group, category, errors)


def _offence_options(lang: str) -> dict[str, Any]:
    vocab = load_vocabulary("offences")
    groups = [(code, label_of(labels, lang)) for code, labels in vocab.groups.items()]
    cats: list[tuple[str, list[tuple[str, str]]]] = []
    for g, glabel in groups:
        members = [(c, label_of(vocab.values[c], lang)) for c, grp in vocab.group_of.items()
                   if grp == g and c in vocab.values]
        if members:
            cats.append((glabel, members))
    return {"group_options": groups, "category_options": cats}


def _common(request: Request, f: Filters) -> dict[str, Any]:
    lang = page_lang(request)
    svc = services(request)
    return {
        "f": f, "fmt_int": lambda n: fmt_int(n, lang), "fmt_num": lambda x, d=1: fmt_num(x, lang, d),
        "fmt_pct": lambda x, d=1, fraction=False: fmt_pct(x, lang, d, fraction=fraction),
        "label_of": lambda labels, default="": label_of(labels, lang, default),
        "ltr": ltr,
        "model_label": lambda m: t(f"mon.models.{m}", lang) if m and has(f"mon.models.{m}", lang) else (m or "—"),
        "change": lambda cur, prev, pct: change(int(cur or 0), int(prev or 0), pct, lang),
        "filter_problems": problems(f.errors, lang),
        "tile_url": getattr(svc.settings, "tile_url", "") or "",
    }


def _alerts_for(request: Request, actor: Actor, unit: str | None, limit: int) -> list[dict[str, Any]]:
    """Latest alerts of the unit's subtree."""
    return list(services(request).monitoring.alerts(actor, unit=unit, limit=limit))


def _unit_code(alert: Mapping[str, Any]) -> str | None:
    u = alert.get("unit")
    if isinstance(u, Mapping):
        return str(u.get("code") or "") or None
    return str(u) if u else None


# --------------------------------------------------------------------------- dashboard


@router.get("/monitoring")
def dashboard(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    f = filters(request, actor)
    weeks = _choice(request.query_params.get("weeks"), TREND_WEEKS, 52)
    mon = svc.monitoring
    cs = mon.compstat(actor, unit=f.unit, as_of=f.as_of).as_dict()
    starts, by_group = mon.weekly_counts(actor, unit=f.unit, weeks=weeks, as_of=f.as_of, dimension="group")
    start28 = f.as_of - timedelta(days=27)
    by_unit = mon.stats(actor, by=["unit"], start=start28, end=f.as_of, unit=f.unit).as_dict()
    by_cat = mon.stats(actor, by=["category"], start=start28, end=f.as_of, unit=f.unit).as_dict()
    vocab = load_vocabulary("offences")
    totals = [sum(col) for col in zip(*by_group.values(), strict=True)] if by_group else [0] * len(starts)
    main_chart = line_chart("trend-total", t("mon.dash.trend_total", lang), starts,
                            [Series("total", t("mon.dash.all_offences", lang), [float(v) for v in totals])], lang,
                            width=1100, height=220)
    group_charts = []
    for code, labels in vocab.groups.items():
        vals = by_group.get(code)
        if not vals or not any(vals):
            continue
        name = label_of(labels, lang, code)
        group_charts.append((code, sum(vals), line_chart(f"trend-{code}", name, starts,
                                                         [Series(code, name, [float(v) for v in vals])], lang,
                                                         width=420, height=130)))
    unit_rows = sorted(by_unit["rows"], key=lambda r: -r["count"])
    cat_rows = sorted(by_cat["rows"], key=lambda r: -r["count"])[:10]
    alerts = _alerts_for(request, actor, f.unit, 5)
    ctx = _common(request, f)
    ctx.update({
        "cs": cs, "weeks": weeks, "trend_weeks": TREND_WEEKS, "main_chart": main_chart,
        "group_charts": group_charts, "unit_rows": unit_rows, "unit_max": max((r["count"] for r in unit_rows),
                                                                              default=0),
        "cat_rows": cat_rows, "cat_max": max((r["count"] for r in cat_rows), default=0), "cat_total": by_cat["total"],
        "period28": by_cat["period"], "alerts": alerts,
    })
    return render(request, "mon_dashboard.html", ctx)


# --------------------------------------------------------------------------- CompStat


@router.get("/monitoring/compstat")
def compstat_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    f = filters(request, actor)
    cs = svc.monitoring.compstat(actor, unit=f.unit, as_of=f.as_of).as_dict()
    vocab = load_vocabulary("offences")
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in cs["categories"]:
        by_group.setdefault(vocab.group_of.get(row["key"], "other"), []).append(row)
    sections = []
    for g in cs["groups"]:
        rows = sorted(by_group.get(g["key"], []), key=lambda r: (-r.get("ytd", 0), r["key"]))
        sections.append((g, rows))
    ctx = _common(request, f)
    ctx.update({"cs": cs, "sections": sections})
    return render(request, "mon_compstat.html", ctx)


# --------------------------------------------------------------------------- alerts


@router.get("/monitoring/alerts")
def alerts_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    f = filters(request, actor)
    items = _alerts_for(request, actor, f.unit, 200)
    ctx = _common(request, f)
    ctx.update({"items": items, "unit_code": _unit_code})
    return render(request, "mon_alerts.html", ctx)


@router.get("/monitoring/alerts/{alert_id}")
def alert_page(alert_id: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("analytics.read")
    lang = page_lang(request)
    svc = services(request)
    key: Any = int(alert_id) if alert_id.isdigit() else alert_id
    item = svc.monitoring.alert(actor, key)
    chart = None
    raw = item.get("chart") or {}
    weeks = []
    for w in raw.get("weeks") or []:
        try:
            weeks.append(date.fromisoformat(str(w)[:10]))
        except ValueError:
            weeks = []
            break
    if weeks:
        def col(name: str) -> list[float | None]:
            vals = list(raw.get(name) or [])
            return [None if v is None else float(v) for v in vals[:len(weeks)]] + [None] * (len(weeks) - len(vals))

        observed, expected, threshold = col("observed"), col("expected"), col("threshold")
        period_start = str(item.get("period_start") or "")[:10]
        hl = [i for i, d in enumerate(weeks) if d.isoformat() >= period_start] if period_start else []
        chart = line_chart(
            "alert-chart", t("mon.alert.chart_title", lang), weeks,
            [Series("threshold", t("mon.alert.threshold", lang), threshold, "s-threshold"),
             Series("expected", t("mon.alert.expected", lang), expected, "s-expected"),
             Series("observed", t("mon.alert.observed", lang), observed, "s-observed")],
            lang, band=(expected, threshold), band_label=t("mon.alert.band", lang), highlight=hl[-1:] if hl else [],
            width=760, height=240)
    reason = item.get("reason")
    unit = item.get("unit") or {}
    f = Filters(_unit_code(item), [], actor.national, today_local())
    ctx = _common(request, f)
    category = label_of(item.get("category_label"), lang, str(item.get("category") or ""))
    summary = t("mon.alert.summary", lang, observed=fmt_int(item.get("observed"), lang),
                expected=fmt_num(item.get("expected"), lang), threshold=fmt_num(item.get("threshold"), lang),
                category=category, start=ltr(str(item.get("period_start") or "")[:10]),
                end=ltr(str(item.get("period_end") or "")[:10]))
    ctx.update({"a": item, "chart": chart, "reason": label_of(reason, lang) if reason else "", "summary": summary,
                "unit_label": label_of(unit.get("name"), lang, _unit_code(item) or "") if isinstance(unit, Mapping)
                else str(unit)})
    return render(request, "mon_alert.html", ctx)


# --------------------------------------------------------------------------- hotspot map


def _regions(request: Request) -> dict[str, Any]:
    return dict(services(request).monitoring.regions_geojson())


def _unit_region(request: Request, code: str | None) -> str:
    u = unit_map(request).get(code or "")
    return (u.region or "") if u else ""


@router.get("/monitoring/map")
def map_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    f = filters(request, actor, offences=True)
    qp = request.query_params
    method = _choice(qp.get("method"), MAP_METHODS, "h3")
    resolution = _choice(qp.get("resolution"), H3_RESOLUTIONS, 8)
    cell_m = _choice(qp.get("cell_m"), CELL_SIZES, 250)
    span = _choice(qp.get("span"), (1, 4, 13), 4)
    colour = _choice(qp.get("colour"), ("count", "gi"), "gi")
    ctx = _common(request, f)
    ctx.update({
        "method": method, "resolution": resolution, "cell_m": cell_m, "span": span, "colour": colour,
        "resolutions": H3_RESOLUTIONS, "cell_sizes": CELL_SIZES, "steps": SLIDER_WEEKS,
        "hot_classes": HOT_CLASSES, "mass_bands": MASS_BANDS, "regions": _regions(request),
        "focus_region": _unit_region(request, f.unit),
        **_offence_options(page_lang(request)),
    })
    return render(request, "mon_map.html", ctx)


# --------------------------------------------------------------------------- forecast map


def _forecast_params(request: Request, actor: Actor) -> tuple[Filters, dict[str, Any]]:
    f = filters(request, actor, offences=True)
    qp = request.query_params
    opts = {"model": _choice(qp.get("model"), FORECAST_MODELS, "auto"),
            "horizon_days": _choice(qp.get("horizon_days"), (1, 7, 14, 28), 7),
            "cell_m": _choice(qp.get("cell_m"), CELL_SIZES, 250)}
    return f, opts


@router.get("/monitoring/forecast")
def forecast_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    f, opts = _forecast_params(request, actor)
    ctx = _common(request, f)
    ctx.update({"opts": opts, "models": FORECAST_MODELS, "cell_sizes": CELL_SIZES, "result": None,
                "partial": False, "regions": _regions(request), "focus_region": _unit_region(request, f.unit),
                "result_url": "/monitoring/forecast/result?" + f.query(**opts),
                **_offence_options(page_lang(request))})
    return render(request, "mon_forecast.html", ctx)


@router.get("/monitoring/forecast/result")
def forecast_result(request: Request, actor: Actor = Who) -> HTMLResponse:
    """The forecast and its accuracy: a fragment for htmx (the page asks for it once loaded, so
    the user sees that it is being computed), the whole page otherwise."""
    lang = page_lang(request)
    f, opts = _forecast_params(request, actor)
    error: list[Problem] = []
    result: dict[str, Any] | None = None
    try:
        if f.errors:  # a filter that was dropped would make the forecast answer another question
            raise ValidationFailed(f.errors)
        result = dict(services(request).monitoring.forecast(
            actor, unit=f.unit, model=opts["model"], horizon_days=opts["horizon_days"], cell_m=opts["cell_m"],
            category=f.category or None, group=f.group or None))
    except ValidationFailed as exc:
        error = problems(exc, lang)
    partial = bool(request.headers.get("hx-request"))
    ctx = _common(request, f)
    meta = dict((result or {}).get("meta") or {})
    features = list((result or {}).get("features") or [])
    ctx.update({"opts": opts, "models": FORECAST_MODELS, "cell_sizes": CELL_SIZES, "result": result or {},
                "meta": meta, "acc": meta.get("accuracy"), "not_enough": meta.get("not_enough_data"),
                "features": features, "n_1": sum(1 for x in features if x.get("properties", {}).get("selected_1pct")),
                "n_5": sum(1 for x in features if x.get("properties", {}).get("selected_5pct")),
                "forecast_error": error, "partial": partial, "regions": None if partial else _regions(request),
                "focus_region": _unit_region(request, f.unit), "result_url": "",
                **_offence_options(lang)})
    return render(request, "mon_forecast_result.html" if partial else "mon_forecast.html", ctx)


# --------------------------------------------------------------------------- near repeats


@dataclass
class NearRepeatParams:
    """The near-repeat form: period, band widths and permutations, each as the user gave it."""

    start: date
    end: date
    space: int
    time: int
    permutations: int
    errors: list[FieldError] = field(default_factory=list)


def _int_param(raw: str | None, name: str, default: int, errors: list[FieldError]) -> int:
    raw = (raw or "").strip()[:12]
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(FieldError(name, "number.format", f"{name}: a whole number is expected"))
        return default


def _near_repeat_params(request: Request, actor: Actor) -> tuple[Filters, NearRepeatParams]:
    """The filters (unit, offence: burglary unless the form says otherwise) and the test's own
    parameters; band widths outside the lists offered are passed on for the service to judge."""
    qp = request.query_params
    f = filters(request, actor, offences=True)
    if "category" not in qp and "group" not in qp:
        f.category = NR_DEFAULT_CATEGORY
    errors: list[FieldError] = []
    end = _day(qp.get("end"), "end", errors) or today_local()
    start = _day(qp.get("start"), "start", errors) or end - timedelta(days=364)
    p = NearRepeatParams(start, end, _int_param(qp.get("space"), "space", 100, errors),
                         _int_param(qp.get("time"), "time", 7, errors),
                         _int_param(qp.get("permutations"), "permutations", 99, errors), errors)
    return f, p


def _near_repeat_query(f: Filters, p: NearRepeatParams) -> str:
    # the offence filters always travel, empty or not: "all offences" must not fall back to burglary
    return urlencode({"unit": f.unit or "", "group": f.group, "category": f.category, "start": p.start.isoformat(),
                      "end": p.end.isoformat(), "space": p.space, "time": p.time, "permutations": p.permutations})


def _with(options: Sequence[int], value: int) -> list[int]:
    return sorted({*options, value}) if value > 0 else list(options)


@dataclass
class KnoxCell:
    ratio: float | None
    observed: int
    expected: float | None
    p: float | None
    significant: bool
    beyond: bool


@dataclass
class KnoxView:
    """The Knox table as the page shows it: localized band labels, cells, the strongest finding."""

    space_labels: list[str]
    time_labels: list[str]
    rows: list[list[KnoxCell]]
    reading: str
    strongest: tuple[int, int] | None
    n_events: int
    n_perm: int


def _band_labels(uppers: Sequence[float | None], kind: str, lang: str) -> list[str]:
    """``0 to 100 m``, ``101 to 200 m``, ..., ``more than 500 m`` (``kind``: space or time) in the
    page language, from the bands' upper limits (the last one, None, is the "beyond" band)."""
    out: list[str] = []
    prev: float | None = None
    for upper in uppers:
        if upper is None:
            out.append(t(f"mon.nr.{kind}_beyond", lang, lo=fmt_band(prev or 0, lang)))
        elif prev is None:
            out.append(t(f"mon.nr.{kind}_first", lang, hi=fmt_band(upper, lang)))
        else:
            lo = prev + 1 if float(prev).is_integer() and float(upper).is_integer() else prev
            out.append(t(f"mon.nr.{kind}_band", lang, lo=fmt_band(lo, lang), hi=fmt_band(upper, lang)))
        prev = upper
    return out


def fmt_band(v: float, lang: str) -> str:
    return fmt_int(v, lang) if float(v).is_integer() else fmt_num(v, lang, 1)


def fmt_p(p: float | None, lang: str) -> str:
    if p is None:
        return "—"
    return fmt_num(p, lang, 3 if p < 0.01 else 2)


def knox_view(table: Mapping[str, Any], lang: str) -> KnoxView:
    space = [b.get("upper_m") for b in table["space_bands"]]
    time_ = [b.get("upper_days") for b in table["time_bands"]]
    ns, nt = len(space), len(time_)
    rows: list[list[KnoxCell]] = []
    best: tuple[float, int, int] | None = None
    for i in range(ns):
        row = []
        for j in range(nt):
            ratio = table["ratio"][i][j]
            p = table["p_value"][i][j]
            beyond = i == ns - 1 or j == nt - 1
            sig = (not beyond and ratio is not None and ratio > 1 and p is not None and p <= NR_SIGNIFICANCE)
            row.append(KnoxCell(ratio, int(table["observed"][i][j]), table["expected"][i][j], p, sig, beyond))
            if sig and (best is None or ratio > best[0]):
                best = (ratio, i, j)
        rows.append(row)
    if best is None:
        reading = t("mon.nr.no_pattern", lang)
        strongest = None
    else:
        ratio, i, j = best
        cell = rows[i][j]
        where = (t("mon.nr.where_first", lang, hi=fmt_band(space[0], lang)) if i == 0 else
                 t("mon.nr.where_band", lang, lo=fmt_band(space[i - 1] + 1, lang), hi=fmt_band(space[i], lang)))
        when = (t("mon.nr.when_first", lang, hi=fmt_band(time_[0], lang)) if j == 0 else
                t("mon.nr.when_band", lang, lo=fmt_band(time_[j - 1] + 1, lang), hi=fmt_band(time_[j], lang)))
        reading = t("mon.nr.reading", lang, where=where, when=when, ratio=fmt_num(ratio, lang, 1),
                    p=ltr("p = " + fmt_p(cell.p, lang)))
        strongest = (i, j)
    return KnoxView(_band_labels(space, "space", lang), _band_labels(time_, "time", lang), rows, reading, strongest,
                    int(table.get("n_events") or 0), int(table.get("n_perm") or 0))


def _near_repeat_ctx(request: Request, f: Filters, p: NearRepeatParams) -> dict[str, Any]:
    lang = page_lang(request)
    ctx = _common(request, f)
    ctx.update({"p": p, "space_options": _with(NR_SPACE_M, p.space), "time_options": _with(NR_TIME_DAYS, p.time),
                "perm_options": _with(NR_PERMUTATIONS, p.permutations), "fmt_p": lambda v: fmt_p(v, lang),
                "nr_error": [], "view": None, "meta": {}, "not_enough": None, "result_url": "", "partial": False,
                **_offence_options(lang)})
    return ctx


@router.get("/monitoring/near-repeat")
def near_repeat_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    """The near-repeat form; the Knox table is computed once the page shows (999 permutations
    take a few seconds), like the forecast."""
    f, p = _near_repeat_params(request, actor)
    ctx = _near_repeat_ctx(request, f, p)
    ctx["result_url"] = "/monitoring/near-repeat/result?" + _near_repeat_query(f, p)
    return render(request, "mon_near_repeat.html", ctx)


@router.get("/monitoring/near-repeat/result")
def near_repeat_result(request: Request, actor: Actor = Who) -> HTMLResponse:
    """The Knox table and its reading: a fragment for htmx, the whole page otherwise."""
    lang = page_lang(request)
    f, p = _near_repeat_params(request, actor)
    ctx = _near_repeat_ctx(request, f, p)
    try:
        if f.errors or p.errors:  # a parameter that was dropped would make the test answer another question
            raise ValidationFailed([*f.errors, *p.errors])
        result = services(request).monitoring.near_repeat(
            actor, unit=f.unit, start=p.start, end=p.end, category=f.category or None, group=f.group or None,
            space_m=p.space, time_days=p.time, permutations=p.permutations)
    except ValidationFailed as exc:
        ctx["nr_error"] = problems(exc, lang)
    else:
        meta = dict(result.get("meta") or {})
        table = result.get("table")
        ctx.update({"meta": meta, "not_enough": meta.get("not_enough_data") if not table else None,
                    "view": knox_view(table, lang) if table else None})
    ctx["partial"] = bool(request.headers.get("hx-request"))
    return render(request, "mon_near_repeat_result.html" if ctx["partial"] else "mon_near_repeat.html", ctx)
