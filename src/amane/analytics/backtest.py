"""Rolling-origin backtest: how well each forecast model would have done, measured on real history.

For origins ``T = start, start + step, ...`` (``T < end``), each model is fitted on every event
before ``T``, ranks the active cells for ``[T, T + h)``, and the ranking is scored against the
events that really happened in that window. Nothing after ``T`` is ever seen by the fit, and the
study area (the cells with at least one event before ``T``, see :mod:`amane.analytics.grid`) is
recomputed at each origin from the past only.

Metrics, for an area fraction ``p`` (1% and 5%), with ``A`` active cells, ``k = ceil(p * A)``,
``N`` the window's events (all of them, including any that fall outside the study area: they count
as misses) and ``n_c`` the window's events in cell ``c``:

* hit rate ``= hits / N``, where ``hits`` is the number of the window's events in the model's top
  ``k`` cells (ties in the scores are broken by cell order, so models should break their own ties);
* PAI, the predictive accuracy index (Chainey et al. 2008) ``= hit rate / (k / A)``: how many
  times more events the flagged cells catch than their share of the area would by chance;
* PEI, the predictive efficiency index (Hunt 2016) ``= hits / max hits``, where ``max hits`` is the
  sum of the ``k`` largest ``n_c``: the share of what a perfect ranking of the same ``k`` cells
  would have caught (1 for the oracle).

Averaging. ``hit_rate_1``, ``pai_1``, ``pei_1``... are means over the windows of the per-window
values (each week weighs the same; windows without any event are left out since their hit rate is
undefined). ``pooled`` gives the same indices from the sums over the windows (``sum hits / sum N``,
PAI from that and the mean area fraction, ``sum hits / sum max hits``): busy weeks weigh more.
``fit_seconds`` is the mean wall time of fit + predict per window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from amane.analytics.events import Events, from_days, to_days
from amane.analytics.forecast import MODELS, NotEnoughData, make_model
from amane.analytics.geo import LocalProjection
from amane.analytics.grid import SquareGrid

FRACTIONS = {"1": 0.01, "5": 0.05}
ALL = "all"


# -- metrics ---------------------------------------------------------------------------------------


def top_cells(scores: ArrayLike, k: int) -> NDArray[np.intp]:
    """Indices of the ``k`` highest scores; ties go to the lower index (a stable, deterministic rule)."""
    s = np.asarray(scores, dtype=float)
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if k >= len(s):
        return np.argsort(-s, kind="stable")
    order = np.argsort(-s, kind="stable")
    return order[:k]


def cells_for_fraction(n_active: int, fraction: float) -> int:
    """``k = ceil(fraction * n_active)`` (at least one cell)."""
    return max(1, math.ceil(fraction * n_active - 1e-9))


@dataclass(frozen=True)
class Hits:
    """Outcome of one ranking on one window at one area fraction."""

    k: int
    n_active: int
    events: int  # N: every event of the window
    hits: float  # events in the model's top k cells
    max_hits: float  # events in the best k cells (oracle)

    @property
    def area_fraction(self) -> float:
        return self.k / self.n_active

    @property
    def hit_rate(self) -> float:
        return self.hits / self.events if self.events else math.nan

    @property
    def pai(self) -> float:
        return self.hit_rate / self.area_fraction if self.events else math.nan

    @property
    def pei(self) -> float:
        return self.hits / self.max_hits if self.max_hits > 0 else math.nan


def score_ranking(scores: ArrayLike, counts: ArrayLike, fraction: float, *, events: int | None = None) -> Hits:
    """Hits of a score vector against the observed per-cell ``counts`` at an area ``fraction``.

    ``events`` is the window's total N (default: ``sum(counts)``, i.e. no event outside the area).
    """
    c = np.asarray(counts, dtype=float)
    s = np.asarray(scores, dtype=float)
    if c.shape != s.shape:
        raise ValueError(f"{len(s)} scores for {len(c)} cells")
    k = cells_for_fraction(len(c), fraction)
    hits = float(c[top_cells(s, k)].sum())
    best = float(np.sort(c)[::-1][:k].sum())
    n = int(round(c.sum())) if events is None else events
    return Hits(k=k, n_active=len(c), events=n, hits=hits, max_hits=best)


# -- the harness -----------------------------------------------------------------------------------


@dataclass
class WindowRow:
    """One model on one window (and one category, or ``all``)."""

    origin: str  # ISO date of the origin (local calendar)
    model: str
    category: str
    events: int
    active_cells: int
    fit_seconds: float
    skipped: str | None = None
    k_1: int = 0
    hits_1: float = 0.0
    max_1: float = 0.0
    k_5: int = 0
    hits_5: float = 0.0
    max_5: float = 0.0

    def hits(self, key: str) -> Hits:
        return Hits(
            getattr(self, f"k_{key}"),
            self.active_cells,
            self.events,
            getattr(self, f"hits_{key}"),
            getattr(self, f"max_{key}"),
        )

    def metrics(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for key in FRACTIONS:
            h = self.hits(key)
            out[f"hit_rate_{key}"] = _num(h.hit_rate)
            out[f"pai_{key}"] = _num(h.pai)
            out[f"pei_{key}"] = _num(h.pei)
        return out


def _num(value: float, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


@dataclass
class BacktestResult:
    parameters: dict[str, Any]
    windows: list[WindowRow] = field(default_factory=list)
    model_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self, model: str, category: str = ALL) -> dict[str, Any]:
        """Means over windows, pooled figures and timing for one model (and category)."""
        rows = [w for w in self.windows if w.model == model and w.category == category]
        scored = [w for w in rows if w.skipped is None and w.events > 0]
        out: dict[str, Any] = {}
        for key in FRACTIONS:
            hs = [w.hits(key) for w in scored]
            for metric in ("hit_rate", "pai", "pei"):
                vals = [getattr(h, metric) for h in hs]
                vals = [v for v in vals if math.isfinite(v)]
                out[f"{metric}_{key}"] = _num(float(np.mean(vals))) if vals else None
        pooled: dict[str, float | None] = {}
        for key in FRACTIONS:
            hs = [w.hits(key) for w in scored]
            n = sum(h.events for h in hs)
            hits = sum(h.hits for h in hs)
            best = sum(h.max_hits for h in hs)
            area = float(np.mean([h.area_fraction for h in hs])) if hs else math.nan
            rate = hits / n if n else math.nan
            pooled[f"hit_rate_{key}"] = _num(rate)
            pooled[f"pai_{key}"] = _num(rate / area if hs else math.nan)
            pooled[f"pei_{key}"] = _num(hits / best if best else math.nan)
        timed = [w.fit_seconds for w in rows if w.skipped is None]
        out["fit_seconds"] = _num(float(np.mean(timed)), 3) if timed else None
        out["windows"] = len(scored)
        out["skipped"] = sum(1 for w in rows if w.skipped is not None)
        reasons = sorted({w.skipped for w in rows if w.skipped is not None})
        if reasons:
            out["skipped_reasons"] = reasons[:3]
        out["events"] = sum(w.events for w in scored)
        out["pooled"] = pooled
        out["params"] = self.model_params.get(model, {})
        return out

    def to_dict(self, *, windows: bool = True) -> dict[str, Any]:
        """JSON-able: parameters, per-model summary (all categories together), per category, windows."""
        models = self.parameters["models"]
        out: dict[str, Any] = {"parameters": self.parameters, "models": {m: self.summary(m) for m in models}}
        cats = self.parameters.get("categories") or []
        if cats:
            out["categories"] = {c: {m: self.summary(m, c) for m in models} for c in cats}
        if windows:
            out["windows"] = [{**asdict(w), **w.metrics()} for w in self.windows]
        return out


def _as_days(value: date | datetime | float, zone: ZoneInfo) -> float:
    if isinstance(value, datetime):
        return to_days(value if value.tzinfo else value.replace(tzinfo=zone))
    if isinstance(value, date):
        return to_days(datetime(value.year, value.month, value.day, tzinfo=zone))
    return float(value)


def origins(
    start: date | datetime | float, end: date | datetime | float, step_days: float, *, timezone: str = "UTC"
) -> list[float]:
    """Origins (days since the epoch) from ``start`` by ``step_days`` while before ``end``.

    Dates mean local midnight in ``timezone``; with whole-day steps from a date, every origin is a
    local midnight (daylight-saving changes included).
    """
    zone = ZoneInfo(timezone)
    t0, t1 = _as_days(start, zone), _as_days(end, zone)
    if not step_days > 0:
        raise ValueError("step must be a positive number of days")
    out: list[float] = []
    if isinstance(start, date) and not isinstance(start, datetime) and float(step_days).is_integer():
        d = start
        while _as_days(d, zone) < t1:
            out.append(_as_days(d, zone))
            d = d + timedelta(days=int(step_days))
        return out
    t = t0
    while t < t1:
        out.append(t)
        t += step_days
    return out


def backtest(
    events: Events,
    *,
    start: date | datetime | float,
    end: date | datetime | float,
    horizon_days: float,
    step_days: float | None = None,
    cell_m: float = 250.0,
    models: Sequence[str] = ("last_period", "ewma", "kde", "kde_decay", "etas"),
    categories: Sequence[str] | None = None,
    params: dict[str, dict[str, float | None]] | None = None,
    timezone: str = "UTC",
    projection: LocalProjection | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Rolling-origin evaluation of ``models`` on ``events`` (see the module docstring).

    ``categories``: besides all events together, evaluate each of these offence codes on its own
    (each model then fits that category's history only; the study area stays the same).
    ``params``: per model name, parameters over its defaults. ``progress(done, total)`` is called
    after each window.
    """
    if not horizon_days > 0:
        raise ValueError("horizon must be a positive number of days")
    step = float(step_days if step_days is not None else horizon_days)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown forecast model(s) {', '.join(unknown)} (known: {', '.join(MODELS)})")
    if not models:
        raise ValueError("no model to evaluate")
    params = params or {}
    cats = list(categories or [])
    zone = ZoneInfo(timezone)
    when = origins(start, end, step, timezone=timezone)
    if not when:
        raise ValueError("no origin between start and end")
    if not len(events):
        raise NotEnoughData("backtest: no events")

    proj = projection or LocalProjection.centred_on(events.lat, events.lon)
    base = SquareGrid.covering(events, cell_m, projection=proj)
    flat = base.flat_of(*events.project(proj))
    first_seen = np.full(base.n_cells, np.inf)
    np.minimum.at(first_seen, flat[flat >= 0], events.t[flat >= 0])

    groups: list[tuple[str, Events]] = [(ALL, events)] + [(c, events.of_category(c)) for c in cats]
    result = BacktestResult(
        parameters={
            "start": from_days(when[0]).astimezone(zone).date().isoformat(),
            "end": from_days(_as_days(end, zone)).astimezone(zone).date().isoformat(),
            "horizon_days": horizon_days,
            "step_days": step,
            "cell_m": cell_m,
            "models": list(models),
            "categories": cats,
            "timezone": timezone,
            "origins": len(when),
            "events": len(events),
            "study_area": "cells with at least one event before each origin",
        }
    )
    for i, origin in enumerate(when):
        grid = base.with_mask((first_seen < origin).reshape(base.ny, base.nx))
        label = from_days(origin).astimezone(zone).date().isoformat()
        for cat, group in groups:
            test = group.between(origin, origin + horizon_days)
            counts = grid.counts(test)
            for name in models:
                model = make_model(name, **params.get(name, {}))
                row = WindowRow(label, name, cat, len(test), grid.n_active, 0.0)
                started = time.perf_counter()
                try:
                    scores = model.fit(group, grid, origin).predict(horizon_days)
                except NotEnoughData as exc:
                    row.skipped = str(exc)
                    result.windows.append(row)
                    continue
                row.fit_seconds = time.perf_counter() - started
                for key, fraction in FRACTIONS.items():
                    h = score_ranking(scores, counts, fraction, events=len(test))
                    setattr(row, f"k_{key}", h.k)
                    setattr(row, f"hits_{key}", h.hits)
                    setattr(row, f"max_{key}", h.max_hits)
                result.windows.append(row)
                if cat == ALL:
                    result.model_params[name] = model.describe()
        if progress is not None:
            progress(i + 1, len(when))
    return result
