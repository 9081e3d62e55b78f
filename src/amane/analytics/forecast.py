"""Forecast models that rank the cells of a grid by their risk over the next period.

Every model answers the same question: given the incidents recorded before an origin ``T``, how
many incidents should each active cell of a :class:`~amane.analytics.grid.SquareGrid` expect in
``[T, T + h)``? The score vector (one value per active cell, higher = riskier) is what the backtest
ranks; for ``ewma``, ``kde``, ``kde_decay`` and ``etas`` it is an estimate of that expected count,
for ``last_period`` it is the count of the last period plus a tie-breaker below one.

    model = make_model("kde_decay", bandwidth_m=200, half_life_days=120)
    scores = model.fit(events, grid, origin).predict(horizon_days=7)

The models (``MODELS``):

``last_period``
    The count of each cell over the last ``h`` days (the "same as last week" forecast). Many cells
    tie at 0 or 1, so ties are broken by the count over the whole history.
``ewma``
    An exponentially weighted moving average of each cell's daily counts: an event ``k`` whole days
    before the origin weighs ``a**k`` with ``a = 2**(-1/half_life_days)``; the daily rate estimate
    is ``(1 - a) * sum(weights)``.
``kde``
    A Gaussian kernel density of all the history (no time decay): the classic hotspot map.
``kde_decay``
    The same density with each event weighted by ``2**(-age/half_life_days)``: recent events
    count more (prospective hotspotting, Bowers et al. 2004, in its Gaussian form).
``etas``
    A self-exciting point process on the grid (Mohler et al. 2011; the grid form of Mohler 2014
    and Mohler et al. 2015): each cell ``n`` has the conditional intensity
    ``lambda_n(t) = mu_n + sum_{t_i < t, i in n} theta * omega * exp(-omega * (t - t_i))``,
    a background rate plus an exponentially decaying boost after each event in the cell. The
    background ``mu`` is a kernel density of the events the EM attributes to the background
    (stochastic declustering, as in Mohler et al. 2011). Fitted by expectation-maximisation, see
    :class:`ETAS` and ``docs/forecasting.md`` for the updates.
``gbm``
    A learned ranking model: a gradient-boosted Poisson regression (scikit-learn) on per-cell
    features of the past (counts over several windows, the neighbours' counts, categories,
    recency, seasonality, a long-term density), trained at each origin on the previous weeks'
    (features, next-period count) pairs, all from before the origin. See :class:`GBM` and
    :mod:`amane.analytics.learned`.

Kernel densities are computed on a sub-grid (each cell split into ``s x s`` pixels with pixels no
wider than half the bandwidth), convolved with a Gaussian by :func:`scipy.ndimage.gaussian_filter`
and summed back per cell, so a cell's score is the kernel mass that falls inside it (the integral
of the density over the cell, not its value at the centre). That is O(pixels), independent of the
number of events, and fits 240,000 events in well under a second.

No model makes up a forecast: with too little history each raises :class:`NotEnoughData`.

Default parameters are the ones ``bench/forecast.py`` chose on Toronto 2018 (200 m cells, weekly
horizon), where incidents sit on snapped intersection points and narrow kernels win; for a sparse
unit (a few hundred incidents a year) a wider bandwidth (200-400 m) is the safer choice.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from amane.analytics import spikes
from amane.analytics.events import Events
from amane.analytics.grid import SquareGrid
from amane.model.errors import AmaneError

FloatArray = NDArray[np.float64]
LN2 = math.log(2.0)


class NotEnoughData(spikes.NotEnoughData, AmaneError):
    """The history is too short or too sparse for the model to say anything honest.

    A subclass of :class:`amane.analytics.spikes.NotEnoughData` (a ``ValueError``), so that one
    ``except`` catches every "not enough data" answer of the analytics.
    """

    def __init__(self, message: str, *, events: int = 0, days: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.events = events
        self.days = days

    def __str__(self) -> str:
        return self.message


class ForecastModel(ABC):
    """One forecasting method: ``fit(events, grid, origin)`` then ``predict(horizon_days)``.

    ``fit`` keeps only the events strictly before ``origin`` (the future is never seen even if it is
    passed in), refuses with :class:`NotEnoughData` below ``min_events`` events in the study area
    or ``min_days`` days of history, and stores what ``predict`` needs.
    """

    name: ClassVar[str]
    #: default parameters; ``make_model(name, **params)`` overrides them
    defaults: ClassVar[dict[str, float | None]] = {}
    min_events: ClassVar[int] = 20
    min_days: ClassVar[float] = 14.0

    def __init__(self, **params: float | None) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(f"{self.name}: unknown parameter(s) {', '.join(sorted(unknown))} (known: {known})")
        self.params: dict[str, float | None] = {**self.defaults, **params}
        for key, value in self.params.items():
            if value is not None and not (isinstance(value, int | float) and value >= 0 and math.isfinite(value)):
                raise ValueError(f"{self.name}: parameter {key} must be a non-negative number, not {value!r}")
        self.grid: SquareGrid | None = None
        self.origin: float = math.nan
        self.history_start: float = math.nan
        self.n_events = 0
        self.fit_seconds = 0.0

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    # -- public -----------------------------------------------------------------------------------

    def fit(self, events: Events, grid: SquareGrid, origin: float) -> ForecastModel:
        """Learn from the events before ``origin`` (days since the epoch) on ``grid``'s active cells."""
        started = time.perf_counter()
        history = events.before(origin)
        cells = grid.cells_of_events(history)
        inside = cells >= 0
        if not inside.all():
            history = history.select(inside)
            cells = cells[inside]
        n = len(history)
        days = origin - history.start if n else 0.0
        if n < self.min_events:
            raise NotEnoughData(
                f"{self.name}: {n} incident(s) in the study area before the origin; the model needs at least "
                f"{self.min_events}",
                events=n,
                days=days,
            )
        if days < self.min_days:
            raise NotEnoughData(
                f"{self.name}: {days:.1f} day(s) of history before the origin; the model needs at least "
                f"{self.min_days:g}",
                events=n,
                days=days,
            )
        self.grid, self.origin, self.history_start, self.n_events = grid, float(origin), history.start, n
        self._fit(history, cells)
        self.fit_seconds = time.perf_counter() - started
        return self

    def predict(self, horizon_days: float) -> FloatArray:
        """Score of every active cell for ``[origin, origin + horizon_days)`` (higher = riskier)."""
        if self.grid is None:
            raise RuntimeError(f"{self.name}: fit the model before predicting")
        if not (horizon_days > 0 and math.isfinite(horizon_days)):
            raise ValueError(f"horizon must be a positive number of days, not {horizon_days}")
        scores = self._predict(float(horizon_days))
        return np.asarray(scores, dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """Name, parameters and, once fitted, what was learnt (JSON-able)."""
        out: dict[str, Any] = {"model": self.name, "params": dict(self.params)}
        if self.grid is not None:
            out["fitted"] = {"events": self.n_events, **self._fitted()}
        return out

    # -- for subclasses ---------------------------------------------------------------------------

    @abstractmethod
    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None: ...

    @abstractmethod
    def _predict(self, horizon_days: float) -> FloatArray: ...

    def _fitted(self) -> dict[str, Any]:
        return {}

    @property
    def _grid(self) -> SquareGrid:
        assert self.grid is not None
        return self.grid

    def _param(self, key: str) -> float:
        value = self.params[key]
        assert value is not None
        return float(value)


# -- kernel density on the grid ------------------------------------------------------------------


class CellSmoother:
    """Gaussian kernel density of weighted points, integrated over each active cell.

    Build once for a set of points (their sub-pixels are computed here), then call with weights:
    ``smoother(w)`` returns, per active cell, ``sum_i w_i * K_i(cell)`` where ``K_i(cell)`` is the
    mass of an isotropic Gaussian of standard deviation ``bandwidth_m`` centred on point ``i`` that
    falls in the cell. Mass that falls outside the active cells is lost (edge effect, the same for
    every model). ``bandwidth_m = 0`` gives plain cell counts.
    """

    def __init__(self, grid: SquareGrid, x: FloatArray, y: FloatArray, bandwidth_m: float) -> None:
        self.grid = grid
        self.bandwidth_m = float(bandwidth_m)
        if self.bandwidth_m <= 0:
            self.sub = 1
            self.index = grid.flat_of(x, y)
        else:
            self.sub = int(min(8, max(1, math.ceil(2.0 * grid.cell_m / self.bandwidth_m))))
            pixel = grid.cell_m / self.sub
            col = np.floor((x - grid.x0) / pixel)
            row = np.floor((y - grid.y0) / pixel)
            w = grid.nx * self.sub
            h = grid.ny * self.sub
            ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
            self.index = np.where(ok, row * w + col, -1).astype(np.intp)
        self.ok = self.index >= 0

    def __call__(self, weights: FloatArray | None = None) -> FloatArray:
        g = self.grid
        s = self.sub
        w = None if weights is None else np.asarray(weights, dtype=float)[self.ok]
        binned = np.bincount(self.index[self.ok], weights=w, minlength=g.n_cells * s * s).astype(np.float64)
        if self.bandwidth_m <= 0:
            return binned[g.active]
        image = binned.reshape(g.ny * s, g.nx * s)
        sigma = self.bandwidth_m / (g.cell_m / s)
        image = ndimage.gaussian_filter(image, sigma=sigma, mode="constant", truncate=4.0)
        cells = image.reshape(g.ny, s, g.nx, s).sum(axis=(1, 3)).reshape(-1)
        out: FloatArray = np.maximum(cells[g.active], 0.0)  # FFT-free filter, but clip round-off
        return out


# -- simple baselines ------------------------------------------------------------------------------


class LastPeriod(ForecastModel):
    """Counts over the last ``horizon`` days; ties broken by the count over the whole history."""

    name = "last_period"
    defaults: ClassVar[dict[str, float | None]] = {}

    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None:
        self._t = history.t
        self._cells = cells
        self._total = np.bincount(cells, minlength=self._grid.n_active).astype(np.float64)

    def _predict(self, horizon_days: float) -> FloatArray:
        if self.origin - self.history_start < horizon_days:
            raise NotEnoughData(
                f"{self.name}: {self.origin - self.history_start:.1f} day(s) of history, shorter than the "
                f"{horizon_days:g}-day period it repeats",
                events=self.n_events,
                days=self.origin - self.history_start,
            )
        recent = self._t >= self.origin - horizon_days
        last = np.bincount(self._cells[recent], minlength=self._grid.n_active).astype(np.float64)
        out: FloatArray = last + self._total / (self._total.max() + 1.0)
        return out


class EWMA(ForecastModel):
    """Exponentially weighted history of daily cell counts (``half_life_days``)."""

    name = "ewma"
    defaults: ClassVar[dict[str, float | None]] = {"half_life_days": 240.0}

    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None:
        hl = self._param("half_life_days")
        if hl <= 0:
            raise ValueError("ewma: half_life_days must be positive")
        a = 2.0 ** (-1.0 / hl)
        days_ago = np.floor(self.origin - history.t)  # whole days before the origin (0 = the last day)
        weights = a**days_ago
        self._rate = (1.0 - a) * np.bincount(cells, weights=weights, minlength=self._grid.n_active)

    def _predict(self, horizon_days: float) -> FloatArray:
        out: FloatArray = self._rate * horizon_days
        return out


class KDE(ForecastModel):
    """Gaussian kernel density of all the history, scaled to the mean rate (``bandwidth_m``)."""

    name = "kde"
    defaults: ClassVar[dict[str, float | None]] = {"bandwidth_m": 50.0}

    def _weights(self, history: Events) -> FloatArray | None:
        return None

    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None:
        x, y = history.project(self._grid.projection)
        density = CellSmoother(self._grid, x, y, self._param("bandwidth_m"))(self._weights(history))
        total = density.sum()
        span = max(self.origin - history.start, 1.0)
        self._rate = density / total * (len(history) / span) if total > 0 else density

    def _predict(self, horizon_days: float) -> FloatArray:
        out: FloatArray = self._rate * horizon_days
        return out


class KDEDecay(KDE):
    """Kernel density with exponential time decay (``bandwidth_m``, ``half_life_days``).

    The rate is scaled to the decayed event mass per day, ``sum(w) * ln 2 / half_life``, which is the
    recent daily rate when the history is much longer than the half-life.
    """

    name = "kde_decay"
    defaults: ClassVar[dict[str, float | None]] = {"bandwidth_m": 50.0, "half_life_days": 240.0}

    def _weights(self, history: Events) -> FloatArray:
        hl = self._param("half_life_days")
        if hl <= 0:
            raise ValueError("kde_decay: half_life_days must be positive")
        return np.exp(-(self.origin - history.t) * LN2 / hl)


# -- ETAS --------------------------------------------------------------------------------------------


class ETAS(ForecastModel):
    """Self-exciting point process on the grid, fitted by EM (Mohler et al. 2011, 2015).

    Model. In each active cell ``n``, ``lambda_n(t) = mu_n + theta * omega * sum_{i in n, t_i < t}
    exp(-omega (t - t_i))``: events arrive at a constant background rate ``mu_n`` and each event
    raises its cell's rate by a decaying boost that produces ``theta`` "offspring" on average after a
    mean delay ``1/omega`` days (repeat victimisation). Events recorded in the same cell at the very
    same time are one incident with several offences, not a cause and its effect: the sum runs over
    strictly earlier times.

    Background. ``mu_n = B * K(n)``, where ``K`` is the Gaussian kernel density (``bandwidth_m``) of
    the events weighted by their probability of being background, normalised over the active cells.
    With ``bandwidth_m = 0`` it is the per-cell maximum-likelihood estimate of Mohler 2015.

    Window. Only the last ``history_days`` days are used, and the sparse leading tail of late reports
    of old incidents is dropped (the window starts no earlier than the 0.5% quantile of the times),
    so that the background rate is not diluted over years without data.

    EM (one iteration; ``A_i = sum_{j<i in cell} e^{-omega dt}``, ``B_i = sum dt e^{-omega dt}``,
    ``dt = t_i - t_j``, computed for all events at once with running log-sum-exps):

    * E-step: ``lambda_i = mu_{n(i)} + theta omega A_i``; background probability ``p_i = mu_{n(i)} /
      lambda_i``; triggered probability ``1 - p_i``; expected delay mass ``theta omega B_i / lambda_i``.
    * M-step: ``omega = sum(1 - p_i) / sum(theta omega B_i / lambda_i)``;
      ``theta = sum(1 - p_i) / sum_j (1 - e^{-omega (T - t_j)})`` (edge-corrected);
      ``mu = sum(p_i) / T_len * K_p`` with ``K_p`` the kernel density of the weights ``p_i``.

    It stops when ``theta`` and ``omega`` change by less than ``tol`` (relative) or after ``max_iter``
    iterations; ``omega`` is kept within ``[1/365, 48]`` per day. ``describe()`` reports ``theta``,
    ``omega``, the mean delay, the background summary, the iterations and whether it converged.
    """

    name = "etas"
    defaults: ClassVar[dict[str, float | None]] = {
        "bandwidth_m": 0.0,
        "history_days": 2 * 365.0,
        "max_iter": 100,
        "tol": 1e-5,
        "theta0": 0.1,
        "omega0": 0.1,
    }
    min_events = 100
    min_days = 60.0
    OMEGA_MIN = 1.0 / 365.0
    OMEGA_MAX = 48.0

    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None:
        g = self._grid
        t_all = history.t
        start = self.origin - self._param("history_days") if self.params["history_days"] else -math.inf
        if len(t_all) > 200:
            start = max(start, float(np.quantile(t_all, 0.005)))
        keep = t_all >= start
        history = history.select(keep)
        cells = cells[keep]
        if len(history) < self.min_events:
            raise NotEnoughData(
                f"{self.name}: {len(history)} incident(s) in the fitting window; the model needs at least "
                f"{self.min_events}",
                events=len(history),
                days=self.origin - start,
            )
        t0 = max(start, history.start) if math.isfinite(start) else history.start
        span = self.origin - t0
        x, y = history.project(g.projection)
        smoother = CellSmoother(g, x, y, self._param("bandwidth_m"))

        # sort by (cell, time); tie groups are events of one cell at one time
        order = np.lexsort((history.t, cells))
        c = cells[order]
        t = history.t[order] - t0
        n = len(t)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
        prev = group_start - 1  # last event strictly earlier in time (maybe of another cell)
        has_prev = prev >= 0
        prev_same_cell = has_prev & (c[np.maximum(prev, 0)] == c)
        t_rel = t + 1.0  # > 0, for the log of the B-sums

        theta = self._param("theta0")
        omega = min(max(self._param("omega0"), self.OMEGA_MIN), self.OMEGA_MAX)
        dens = smoother()
        mu_shape = dens / dens.sum() if dens.sum() > 0 else np.full(g.n_active, 1.0 / g.n_active)
        mu_total = (1.0 - theta) * n / span  # background events per day over the whole area
        mu = mu_total * mu_shape

        iterations = 0
        converged = False
        back = np.ones(n)
        inv_order = np.empty(n, dtype=np.intp)
        inv_order[order] = np.arange(n)
        for iteration in range(1, int(self._param("max_iter")) + 1):
            iterations = iteration
            a_sum, b_sum = _exp_sums(t, t_rel, c, omega, prev, prev_same_cell, span)
            trig = theta * omega * a_sum
            lam = mu[c] + trig
            lam = np.where(lam > 0, lam, 1e-300)
            back = mu[c] / lam
            n_trig = float(np.sum(trig / lam))
            delay_mass = float(np.sum(theta * omega * b_sum / lam))
            new_omega = n_trig / delay_mass if delay_mass > 0 else self.OMEGA_MAX
            new_omega = min(max(new_omega, self.OMEGA_MIN), self.OMEGA_MAX)
            exposure = float(np.sum(1.0 - np.exp(-new_omega * (span - t))))
            new_theta = min(n_trig / exposure, 0.999) if exposure > 0 else 0.0
            dens = smoother(back[inv_order])
            total = dens.sum()
            mu = (float(back.sum()) / span) * (dens / total) if total > 0 else mu
            change = max(abs(new_theta - theta) / max(theta, 1e-6), abs(new_omega - omega) / omega)
            theta, omega = new_theta, new_omega
            if change < self._param("tol"):
                converged = True
                break

        self.theta, self.omega, self.mu = theta, omega, mu
        self.iterations, self.converged = iterations, converged
        self.background_share = float(back.mean())
        self.window_days = span
        # boost carried into the forecast: sum_j e^{-omega (T - t_j)} per cell
        self._carry = np.bincount(c, weights=np.exp(-omega * (span - t)), minlength=g.n_active)

    def _predict(self, horizon_days: float) -> FloatArray:
        boost = self.theta * self._carry * (1.0 - math.exp(-self.omega * horizon_days))
        out: FloatArray = self.mu * horizon_days + boost
        return out

    def _fitted(self) -> dict[str, Any]:
        mu = self.mu
        return {
            "theta": round(self.theta, 6),
            "omega_per_day": round(self.omega, 6),
            "mean_delay_days": round(1.0 / self.omega, 3),
            "background_share": round(self.background_share, 4),
            "mu_total_per_day": round(float(mu.sum()), 4),
            "mu_max_per_day": round(float(mu.max()), 6),
            "mu_median_per_day": round(float(np.median(mu)), 8),
            "window_days": round(self.window_days, 1),
            "iterations": self.iterations,
            "converged": self.converged,
        }


def _exp_sums(
    t: FloatArray,
    t_rel: FloatArray,
    c: NDArray[np.intp],
    omega: float,
    prev: NDArray[np.intp],
    prev_same_cell: NDArray[np.bool_],
    span: float,
) -> tuple[FloatArray, FloatArray]:
    """``A_i = sum_j e^{-omega (t_i - t_j)}`` and ``B_i = sum_j (t_i - t_j) e^{-omega (t_i - t_j)}`` over
    the events ``j`` of the same cell strictly earlier than ``i`` (events sorted by cell, then time).

    Running sums of ``e^{omega t_j}`` overflow, so they are kept as logs (``np.logaddexp.accumulate``);
    each cell is lifted by ``cell * K`` with ``K`` far above ``omega * span``, so that the sums of
    earlier cells vanish below rounding when a new cell starts, without a Python loop over cells.
    """
    lift = omega * (span + 2.0) + 800.0
    base = omega * t + c.astype(np.float64) * lift
    log_a = np.logaddexp.accumulate(base)
    log_b = np.logaddexp.accumulate(base + np.log(t_rel))
    p = np.maximum(prev, 0)
    a_sum = np.where(prev_same_cell, np.exp(log_a[p] - base), 0.0)
    c_sum = np.where(prev_same_cell, np.exp(log_b[p] - base), 0.0)
    # B_i = t_i A_i - sum_j t_j e^{...}; both sums use t_rel = t + 1 > 0 so the shift cancels
    b_sum = np.maximum(t_rel * a_sum - c_sum, 0.0)
    return a_sum, b_sum


# -- learned ranking model -------------------------------------------------------------------------


class GBM(ForecastModel):
    """Gradient-boosted Poisson regression on per-cell history features, learnt at each origin.

    The features (:class:`amane.analytics.learned.HistoryIndex`) summarise each cell's past: its counts
    over 7 days to 2 years, recency-weighted counts, its neighbours' counts (3 x 3 and 5 x 5 rings),
    a long-term smoothed density, counts per category, distinct incidents and days, time since its
    last incident and the same weeks one and two years before. Training rows are (cell, training
    origin) pairs at ``train_origins`` origins ``step_days`` apart, the last one ``h`` days before the
    origin, with the count of ``[T_j, T_j + h)`` as target: nothing at or after the origin is read.
    A :class:`sklearn.ensemble.HistGradientBoostingRegressor` (Poisson loss, fixed seed, no early
    stopping) learns a multiplier of the ``ewma`` forecast (half-life 240 days) as exposure; it is
    trained in ``predict`` (per horizon) and scores the features at the origin.
    scikit-learn is imported only when this model is used.
    """

    name = "gbm"
    defaults: ClassVar[dict[str, float | None]] = {
        "train_origins": 26,
        "step_days": 7.0,
        "min_train_days": 91.0,
        "max_iter": 100,
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 200,
        "l2_regularization": 1.0,
    }
    #: the boosting starts from the ``ewma`` forecast (half-life 240 days, a feature too): the trees learn
    #: a multiplier of it (Poisson loss with that exposure), so that a few very busy cells are not
    #: pooled with ordinary ones when there are too few of them to fill a leaf
    BASE_FEATURE = "ew240"
    BASE_FLOOR = 1e-4
    min_events = 100
    min_days = 120.0

    def _fit(self, history: Events, cells: NDArray[np.intp]) -> None:
        from amane.analytics.learned import MAX_CATEGORIES, HistoryIndex

        g = self._grid
        flat = g.active[cells]
        codes, counts = np.unique(history.category, return_counts=True)
        top = codes[np.argsort(-counts, kind="stable")][:MAX_CATEGORIES]
        lookup = {c: i for i, c in enumerate(top)}
        cat = np.array([lookup.get(c, -1) for c in history.category], dtype=np.intp)
        self._categories = [str(c) for c in top]
        self._index = HistoryIndex(history.t, flat, cat, len(top), g.ny, g.nx)
        self._models: dict[float, Any] = {}
        self._info: dict[str, Any] = {}

    def _train(self, horizon: float) -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor

        idx, g = self._index, self._grid
        step = self._param("step_days")
        if step <= 0:
            raise ValueError("gbm: step_days must be positive")
        n_train = int(self._param("train_origins"))
        xs: list[FloatArray] = []
        ys: list[FloatArray] = []
        used = 0
        for j in range(n_train):
            t_j = self.origin - horizon - j * step
            if t_j - self.history_start < self._param("min_train_days"):
                break
            seen = idx.seen_before(t_j)[g.active]
            rows = g.active[seen]
            x, names = idx.features(t_j, horizon, rows)
            xs.append(x)
            ys.append(idx.target(t_j, horizon, rows))
            used += 1
        if used < 2:
            raise NotEnoughData(
                f"{self.name}: {used} training origin(s) with {self._param('min_train_days'):g} days of history "
                f"before them; the model needs at least 2",
                events=self.n_events,
                days=self.origin - self.history_start,
            )
        x_all, y_all = np.vstack(xs), np.concatenate(ys)
        if y_all.sum() <= 0:
            raise NotEnoughData(
                f"{self.name}: no incident in the training targets",
                events=self.n_events,
                days=self.origin - self.history_start,
            )
        model = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=int(self._param("max_iter")),
            learning_rate=self._param("learning_rate"),
            max_leaf_nodes=int(self._param("max_leaf_nodes")),
            min_samples_leaf=int(self._param("min_samples_leaf")),
            l2_regularization=self._param("l2_regularization"),
            early_stopping=False,
            random_state=0,
        )
        base = self._base(x_all, names, horizon)
        # Poisson deviance of y against base * f equals the base-weighted deviance of y / base against f
        model.fit(x_all, y_all / base, sample_weight=base)
        self._names = names
        self._info = {"training_origins": used, "training_rows": int(len(y_all)), "features": len(names)}
        return model

    def _predict(self, horizon_days: float) -> FloatArray:
        model = self._models.get(horizon_days)
        if model is None:
            model = self._models[horizon_days] = self._train(horizon_days)
        x, names = self._index.features(self.origin, horizon_days, self._grid.active)
        out: FloatArray = model.predict(x) * self._base(x, names, horizon_days)
        return out

    def _base(self, x: FloatArray, names: list[str], horizon: float) -> FloatArray:
        """The ``ewma`` expected count of each row (half-life 240 days), floored above zero."""
        a = 2.0 ** (-1.0 / 240.0)
        out: FloatArray = np.maximum(x[:, names.index(self.BASE_FEATURE)] * (1.0 - a) * horizon, self.BASE_FLOOR)
        return out

    def _fitted(self) -> dict[str, Any]:
        return {**self._info, "categories": self._categories}


# -- registry ----------------------------------------------------------------------------------------

MODELS: dict[str, type[ForecastModel]] = {m.name: m for m in (LastPeriod, EWMA, KDE, KDEDecay, ETAS, GBM)}
BASELINES = ("last_period", "ewma", "kde")


def make_model(name: str, **params: float | None) -> ForecastModel:
    """A fresh model by its registered name (``MODELS``) with parameters over its defaults."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown forecast model {name!r} (known: {', '.join(MODELS)})") from None
    return cls(**params)


def forecast(
    name: str, events: Events, grid: SquareGrid, origin: float, horizon_days: float, **params: float | None
) -> FloatArray:
    """Fit ``name`` on the events before ``origin`` and score every active cell for the horizon."""
    return make_model(name, **params).fit(events, grid, origin).predict(horizon_days)
