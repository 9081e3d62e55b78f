"""Spike alerts: is this period's count unusually high against the series' own history?

A unit chief wants to hear about the week when burglaries jumped, not about every week that
is a little above average. Each method below turns the history of one series (weekly counts for
a unit x offence category, typically) into an *expected* count and an *upper bound* for the
period under test, chosen so that a series that behaves as it always has raises an alarm in at
most a fraction ``alpha`` of periods (the false-alarm rate).

Methods
-------
``"farrington"`` (default)
    The Farrington flexible algorithm with the improvements of Noufaily et al. (2013):

    * reference values are all periods from up to ``years_back`` years before the current one,
      except the most recent ``exclude_recent`` periods (26 weeks), which may hold the start of
      the very outbreak we are looking for;
    * seasonality is a factor with ``n_seasons`` (10) levels: level 0 is the window of +-``window``
      (3) periods around the current date in each past year (the "comparable weeks"), the rest of
      the year is cut into 9 equal arcs;
    * a log-linear quasi-Poisson model (fitted here by iteratively reweighted least squares) with a
      linear time trend when at least three years of history exist, the trend is significant at
      5% and it does not extrapolate beyond the largest reference count (Farrington et al. 1996);
    * past outbreaks are down-weighted: reference periods whose Anscombe residual exceeds 2.58 get
      weight ``residual**-2`` and the model is refitted, so last year's spike does not raise this
      year's bound;
    * the bound is the ``1 - alpha`` quantile of a negative binomial with the fitted mean and a
      variance ``phi * mu + Var(mu_hat)`` (over-dispersion plus the uncertainty of the estimate),
      Noufaily's "NB plug-in" threshold with the estimation variance added.

    With less than a year of history (so no comparable weeks of a past year) it falls back to the
    ``"poisson"`` method and says so in :attr:`PeriodResult.method`.
``"poisson"``
    The mean of the previous ``baseline_periods`` (default 8) periods, with the same quasi-Poisson
    dispersion and negative-binomial bound. No seasonality: right for short series only.
``"cusum"``
    A CUSUM of standardised counts ``z = (y - mu) / sqrt(phi * mu)`` where ``mu`` and ``phi`` come
    from the Farrington (or fallback) baseline of each period: ``S_t = max(0, S_{t-1} + z_t - k)``,
    alarm when ``S_t > h``, then ``S`` restarts at 0. ``k = 0.5`` tunes it to a shift of one
    standard deviation; ``h`` is set from Siegmund's approximation of the in-control average run
    length so that ``ARL0 = 1 / alpha`` periods. CUSUM accumulates evidence, so it catches a
    moderate rise that lasts several weeks, which a one-period test misses.

A rule from Farrington et al. (1996) guards against alarms on sparse series: no alarm unless the
current and previous three periods hold at least ``min_recent_total`` (5) events together.

References: Farrington, Andrews, Beale & Catchpole (1996), JRSS A 159:547-563; Noufaily, Enki,
Farrington, Garthwaite, Andrews & Charlett (2013), Statistics in Medicine 32:1206-1222; Lucas
(1985) Technometrics 27:129-144; Siegmund (1985) Sequential Analysis, Springer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

__all__ = [
    "NotEnoughData",
    "PeriodResult",
    "SpikeResult",
    "WeeklySeries",
    "cusum_threshold",
    "detect",
    "weekly_series",
]

Method = Literal["farrington", "poisson", "cusum"]

_EPOCH = dt.date(1970, 1, 1)
_YEAR_DAYS = 365.25


class NotEnoughData(ValueError):
    """The data cannot support an answer; the message says why (never a fake result)."""


# --------------------------------------------------------------------------------------------
# Weekly series
# --------------------------------------------------------------------------------------------


class WeeklySeries(NamedTuple):
    """Counts per week: ``periods[i]`` is the first day of week ``i`` (datetime64[D])."""

    periods: NDArray[np.datetime64]
    counts: NDArray[np.int64]


def _as_date(value: dt.date | np.datetime64 | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(np.asarray(value, dtype="datetime64[D]")))


def weekly_series(
    t_days: ArrayLike,
    start: dt.date | np.datetime64 | str,
    end: dt.date | np.datetime64 | str,
    *,
    week_start: int = 0,
) -> WeeklySeries:
    """Count events per week from ``start`` to ``end`` (inclusive), zero weeks included.

    ``t_days`` are event times in days since 1970-01-01 (fractions allowed; local dates are the
    caller's choice). Weeks begin on ``week_start`` (0 = Monday ... 6 = Sunday): the first week is
    the one containing ``start``, the last the one containing ``end``. Events outside those weeks
    are ignored.
    """
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start: must be 0 (Monday) to 6 (Sunday), got {week_start}")
    d0 = _as_date(start)
    d1 = _as_date(end)
    if d1 < d0:
        raise ValueError(f"end: {d1} is before start {d0}")
    first = d0 - dt.timedelta(days=(d0.weekday() - week_start) % 7)
    n_weeks = (d1 - first).days // 7 + 1
    t = np.asarray(t_days, dtype=float).ravel()
    t = t[np.isfinite(t)]
    offset = (first - _EPOCH).days
    idx = np.floor((t - offset) / 7.0).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n_weeks)]
    counts = np.bincount(idx, minlength=n_weeks).astype(np.int64)
    periods = np.datetime64(first.isoformat()) + np.arange(n_weeks) * np.timedelta64(7, "D")
    return WeeklySeries(np.asarray(periods, dtype="datetime64[D]"), counts)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodResult:
    """The test of one period.

    ``expected`` is the baseline mean, ``threshold`` the largest count that does not alarm (an
    alarm needs ``observed > threshold``), ``p_value`` the probability of a count at least as high
    as ``observed`` under the baseline (for CUSUM: of this period's count alone), ``score`` is
    ``(observed - expected) / (threshold - expected)``, above 1 exactly when the count alone
    exceeds the bound. ``method`` is the method actually used (the fallback shows here).
    """

    period: dt.date
    observed: int
    expected: float
    threshold: float
    p_value: float
    score: float
    alert: bool
    method: str
    reason: str
    cusum: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.isoformat(),
            "observed": self.observed,
            "expected": _json_float(self.expected),
            "threshold": _json_float(self.threshold),
            "p_value": _json_float(self.p_value),
            "score": _json_float(self.score),
            "alert": self.alert,
            "method": self.method,
            "reason": self.reason,
            "cusum": _json_float(self.cusum) if self.cusum is not None else None,
        }


@dataclass(frozen=True)
class SpikeResult:
    """Outcome of :func:`detect` for one series.

    ``evaluated`` holds one :class:`PeriodResult` per tested period (the last period by default).
    ``periods``, ``counts``, ``baseline`` and ``threshold`` are aligned arrays over the whole series,
    ready for the explanatory chart: baseline and threshold are NaN where no test was made.
    """

    method: str
    alpha: float
    label: str
    periods: NDArray[np.datetime64]
    counts: NDArray[np.int64]
    baseline: NDArray[np.float64]
    threshold: NDArray[np.float64]
    evaluated: list[PeriodResult] = field(default_factory=list)

    @property
    def last(self) -> PeriodResult:
        return self.evaluated[-1]

    @property
    def alert(self) -> bool:
        return self.last.alert

    @property
    def reason(self) -> str:
        return self.last.reason

    @property
    def alerts(self) -> list[PeriodResult]:
        return [r for r in self.evaluated if r.alert]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, including the chart series (NaN becomes null)."""
        return {
            "method": self.method,
            "alpha": self.alpha,
            "label": self.label,
            "alert": self.alert,
            "reason": self.reason,
            "last": self.last.to_dict(),
            "evaluated": [r.to_dict() for r in self.evaluated],
            "chart": {
                "periods": [str(p) for p in self.periods],
                "counts": [int(c) for c in self.counts],
                "baseline": [_json_float(v) for v in self.baseline],
                "threshold": [_json_float(v) for v in self.threshold],
            },
        }


def _json_float(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), 4)


# --------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------


def _bound_and_p(mu: float, var: float, observed: int, alpha: float) -> tuple[float, float]:
    """Upper ``1 - alpha`` quantile and ``P(Y >= observed)`` for a count with mean ``mu`` and variance
    ``var``: negative binomial, or Poisson when ``var <= mu``. ``mu`` is floored so that an all-zero
    history still has a usable law."""
    mu = max(mu, 1e-6)
    if var <= mu * (1 + 1e-9):
        threshold = float(stats.poisson.ppf(1.0 - alpha, mu))
        p = float(stats.poisson.sf(observed - 1, mu)) if observed > 0 else 1.0
    else:
        size = mu * mu / (var - mu)
        prob = size / (size + mu)
        threshold = float(stats.nbinom.ppf(1.0 - alpha, size, prob))
        p = float(stats.nbinom.sf(observed - 1, size, prob)) if observed > 0 else 1.0
    return threshold, p


# --------------------------------------------------------------------------------------------
# Quasi-Poisson GLM (IRLS)
# --------------------------------------------------------------------------------------------


@dataclass
class _Fit:
    beta: NDArray[np.float64]
    cov_unscaled: NDArray[np.float64]  # (X' W X)^-1 with W = prior weight * mu
    mu: NDArray[np.float64]
    phi: float
    hat: NDArray[np.float64]


def _glm_poisson(
    x: NDArray[np.float64], y: NDArray[np.float64], prior: NDArray[np.float64], *, iterations: int = 30
) -> _Fit:
    """Log-link Poisson regression with prior weights; dispersion estimated quasi-Poisson style."""
    n, p = x.shape
    beta = np.zeros(p)
    eta = np.log(y + 0.5)  # the usual starting point: the data themselves, kept off log(0)
    for _ in range(iterations):
        mu = np.exp(np.clip(eta, -30.0, 30.0))
        z = eta + (y - mu) / mu
        xw = x * (prior * mu)[:, None]
        try:
            new_beta = np.linalg.solve(xw.T @ x, xw.T @ z)
        except np.linalg.LinAlgError:
            new_beta = np.linalg.lstsq(xw.T @ x, xw.T @ z, rcond=None)[0]
        done = np.max(np.abs(new_beta - beta)) < 1e-7
        beta = new_beta
        eta = x @ beta
        if done:
            break
    mu = np.exp(np.clip(eta, -30.0, 30.0))
    w = prior * mu
    cov = np.linalg.pinv((x * w[:, None]).T @ x)
    hat = np.einsum("ij,jk,ik->i", x, cov, x) * w
    dof = max(n - p, 1)
    pearson = float(np.sum(prior * (y - mu) ** 2 / mu)) / dof
    return _Fit(beta, cov, mu, max(1.0, pearson), hat)


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Baseline:
    mu: float
    var: float  # predictive variance: phi * mu + Var(mu_hat)
    phi: float
    method: str


@dataclass(frozen=True)
class _Options:
    years_back: int
    window: int
    n_seasons: int
    exclude_recent: int
    reweight_threshold: float
    trend_p: float
    baseline_periods: int
    min_history: int


def _poisson_baseline(counts: NDArray[np.float64], i: int, opts: _Options, note: str) -> _Baseline:
    lo = max(0, i - opts.baseline_periods)
    ref = counts[lo:i]
    n = ref.size
    mu = float(ref.mean())
    phi = max(1.0, float(ref.var(ddof=1)) / mu) if n > 1 and mu > 0 else 1.0
    # Var(mean of n quasi-Poisson counts) = phi * mu / n
    var = phi * mu + phi * max(mu, 0.5 / n) / n
    return _Baseline(mu, var, phi, note)


def _farrington_baseline(counts: NDArray[np.float64], days: NDArray[np.float64], i: int, opts: _Options) -> _Baseline:
    step = float(np.median(np.diff(days))) if days.size > 1 else 7.0
    lag = days[i] - days[:i]
    keep = (lag > opts.exclude_recent * step - 1e-9) & (
        lag <= opts.years_back * _YEAR_DAYS + (opts.window + 0.5) * step
    )
    idx = np.nonzero(keep)[0]
    # phase distance to the current date within the year, in periods
    year = _YEAR_DAYS / step
    phase = np.mod(lag[idx] / step, year)
    dist = np.minimum(phase, year - phase)
    level = np.zeros(idx.size, dtype=np.int64)
    outside = dist > opts.window + 0.5
    if opts.n_seasons > 1:
        arc = (phase[outside] - (opts.window + 0.5)) / (year - 2 * (opts.window + 0.5))
        level[outside] = 1 + np.clip(np.floor(arc * (opts.n_seasons - 1)), 0, opts.n_seasons - 2).astype(np.int64)
    else:
        level[outside] = 0
    y = counts[idx]
    years_span = float(lag[idx].max()) / _YEAR_DAYS if idx.size else 0.0

    present = [lv for lv in range(1, opts.n_seasons) if np.any(level == lv)]
    season_cols = [(level == lv).astype(float) for lv in present]
    t_rel = (days[idx] - days[i]) / _YEAR_DAYS  # trend in years, 0 at the current period

    def design(with_trend: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        cols = [np.ones(idx.size)]
        x0 = [1.0]
        if with_trend:
            cols.append(t_rel)
            x0.append(0.0)
        cols.extend(season_cols)
        x0.extend([0.0] * len(season_cols))  # the current period is season level 0
        return np.column_stack(cols), np.asarray(x0)

    def fit(with_trend: bool) -> tuple[_Fit, NDArray[np.float64]]:
        x, x0 = design(with_trend)
        first = _glm_poisson(x, y, np.ones(idx.size))
        # Anscombe residuals; down-weight reference periods that look like past outbreaks
        mu = first.mu
        denom = np.sqrt(first.phi) * mu ** (1 / 6) * np.sqrt(np.clip(1 - first.hat, 1e-6, None))
        resid = 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / denom
        high = resid > opts.reweight_threshold
        gamma = np.ones(idx.size)
        gamma[high] = resid[high] ** -2.0
        gamma = gamma * (idx.size / gamma.sum())
        return _glm_poisson(x, y, gamma), x0

    use_trend = years_span >= 3.0 - 1e-9
    model, x0 = fit(use_trend)
    if use_trend:
        se = math.sqrt(max(model.phi * model.cov_unscaled[1, 1], 1e-300))
        dof = max(idx.size - model.beta.size, 1)
        p_trend = 2 * float(stats.t.sf(abs(model.beta[1]) / se, dof))
        mu0 = math.exp(float(x0 @ model.beta))
        if p_trend >= opts.trend_p or mu0 > y.max():
            use_trend = False
            model, x0 = fit(False)
    eta0 = float(x0 @ model.beta)
    mu0 = math.exp(min(eta0, 30.0))
    var_eta = model.phi * float(x0 @ model.cov_unscaled @ x0)
    var = model.phi * mu0 + mu0 * mu0 * var_eta
    return _Baseline(mu0, var, model.phi, "farrington" + ("+trend" if use_trend else ""))


def _baseline(
    counts: NDArray[np.float64], days: NDArray[np.float64], i: int, method: Method, opts: _Options
) -> _Baseline:
    if i < opts.min_history:
        when = dt.date.fromordinal(_EPOCH.toordinal() + int(days[i]))
        raise NotEnoughData(
            f"only {i} periods of history before {when.isoformat()}; at least {opts.min_history} are needed"
        )
    if method == "poisson":
        return _poisson_baseline(counts, i, opts, "poisson")
    step = float(np.median(np.diff(days)))
    history_days = days[i] - days[0]
    if history_days + 1e-9 < _YEAR_DAYS + opts.window * step:
        return _poisson_baseline(counts, i, opts, "poisson (fallback: less than one year of history)")
    return _farrington_baseline(counts, days, i, opts)


# --------------------------------------------------------------------------------------------
# CUSUM
# --------------------------------------------------------------------------------------------


def cusum_threshold(alpha: float, *, k: float = 0.5) -> float:
    """Decision limit ``h`` giving an in-control average run length of ``1 / alpha`` periods.

    Siegmund's approximation for a CUSUM of unit-variance normal increments with reference value
    ``k``: ``ARL0 = (exp(2 k b) - 2 k b - 1) / (2 k^2)`` with ``b = h + 1.166``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: must be between 0 and 1, got {alpha}")
    if k <= 0:
        raise ValueError(f"k: must be positive, got {k}")
    target = 1.0 / alpha

    def arl(h: float) -> float:
        b = h + 1.166
        return (math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k) - target

    return float(optimize.brentq(arl, 1e-6, 200.0)) if arl(1e-6) < 0 else 0.0


# --------------------------------------------------------------------------------------------
# detect
# --------------------------------------------------------------------------------------------


def _reason(
    label: str, period: dt.date, observed: int, expected: float, threshold: float, alpha: float, alert: bool
) -> str:
    verdict = "alert" if alert else "no alert"
    return (
        f"{observed} {label} in the period starting {period.isoformat()} against {expected:.1f} expected "
        f"(upper bound {threshold:g}, alpha {alpha * 100:g}%): {verdict}"
    )


def detect(
    counts: ArrayLike,
    periods: Sequence[dt.date] | ArrayLike,
    *,
    alpha: float = 0.01,
    method: Method = "farrington",
    evaluate: int = 1,
    min_history: int = 8,
    label: str = "incidents",
    years_back: int = 5,
    window: int = 3,
    n_seasons: int = 10,
    exclude_recent: int = 26,
    reweight_threshold: float = 2.58,
    trend_p: float = 0.05,
    baseline_periods: int = 8,
    min_recent_total: int = 5,
    cusum_k: float = 0.5,
) -> SpikeResult:
    """Test the last ``evaluate`` periods of a count series against its own history.

    ``counts[i]`` is the number of events in the period starting ``periods[i]`` (regular spacing,
    weekly typically: see :func:`weekly_series`). Each tested period is compared only with the
    periods before it, so ``evaluate > 1`` is an honest backtest. ``alpha`` is the target
    false-alarm rate per period. Raises :class:`NotEnoughData` when a tested period has fewer than
    ``min_history`` periods before it. See the module docstring for the methods and options.
    """
    y = np.asarray(counts, dtype=float).ravel()
    per = np.asarray(periods, dtype="datetime64[D]").ravel()
    if y.size != per.size:
        raise ValueError(f"counts and periods: lengths differ ({y.size} and {per.size})")
    if y.size == 0:
        raise NotEnoughData("the series is empty")
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("counts: must be non-negative whole numbers")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha: must be between 0 and 0.5, got {alpha}")
    if method not in ("farrington", "poisson", "cusum"):
        raise ValueError(f"method: must be 'farrington', 'poisson' or 'cusum', got {method!r}")
    if evaluate < 1 or evaluate > y.size:
        raise ValueError(f"evaluate: must be between 1 and the series length {y.size}, got {evaluate}")
    if min_history < 2:
        raise ValueError(f"min_history: must be at least 2, got {min_history}")
    days = (per - np.datetime64(_EPOCH, "D")).astype(np.int64).astype(float)
    if y.size > 1 and np.any(np.diff(days) <= 0):
        raise ValueError("periods: must be strictly increasing")
    opts = _Options(
        years_back=years_back,
        window=window,
        n_seasons=n_seasons,
        exclude_recent=exclude_recent,
        reweight_threshold=reweight_threshold,
        trend_p=trend_p,
        baseline_periods=baseline_periods,
        min_history=min_history,
    )
    first = y.size - evaluate
    baseline = np.full(y.size, np.nan)
    bound = np.full(y.size, np.nan)
    results: list[PeriodResult] = []
    h = cusum_threshold(alpha, k=cusum_k) if method == "cusum" else 0.0
    s_prev = 0.0
    base_method: Method = "poisson" if method == "poisson" else "farrington"
    for i in range(first, y.size):
        base = _baseline(y, days, i, base_method, opts)
        obs = int(y[i])
        period = dt.date.fromordinal(_EPOCH.toordinal() + int(days[i]))
        thr_single, p = _bound_and_p(base.mu, base.var, obs, alpha)
        recent_ok = float(y[max(0, i - 3) : i + 1].sum()) >= min_recent_total
        s_value: float | None = None
        if method == "cusum":
            sd = math.sqrt(max(base.var, 1e-9))
            s_value = max(0.0, s_prev + (obs - base.mu) / sd - cusum_k)
            threshold = base.mu + sd * (h + cusum_k - s_prev)
            alert = s_value > h and recent_ok
            s_prev = 0.0 if s_value > h else s_value
            used = f"cusum on {base.method}"
        else:
            threshold = thr_single
            alert = obs > threshold and recent_ok
            used = base.method
        span = threshold - base.mu
        score = (obs - base.mu) / span if span > 0 else (math.inf if obs > base.mu else 0.0)
        baseline[i] = base.mu
        bound[i] = threshold
        results.append(
            PeriodResult(
                period=period,
                observed=obs,
                expected=base.mu,
                threshold=threshold,
                p_value=p,
                score=score,
                alert=bool(alert),
                method=used,
                reason=_reason(label, period, obs, base.mu, round(threshold, 1), alpha, bool(alert)),
                cusum=s_value,
            )
        )
    return SpikeResult(
        method=method,
        alpha=alpha,
        label=label,
        periods=per,
        counts=y.astype(np.int64),
        baseline=baseline,
        threshold=bound,
        evaluated=results,
    )
