"""Spike alerts: weekly series, false-alarm control on simulated in-control data, planted spikes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from amane.analytics.spikes import NotEnoughData, cusum_threshold, detect, weekly_series

N_WEEKS = 6 * 52
PERIODS = np.datetime64("2018-01-01") + 7 * np.arange(N_WEEKS)


def _seasonal_mean(base: float) -> np.ndarray:
    """A yearly cycle of +-35% around ``base`` (summer peak, as for burglary and assault)."""
    return np.asarray(base * np.exp(0.35 * np.sin(2 * np.pi * np.arange(N_WEEKS) / 52.18)))


def test_weekly_series_counts_every_week_including_empty_ones() -> None:
    epoch = dt.date(1970, 1, 1)
    days = [
        (dt.date(2024, 3, 4) - epoch).days + 0.5,
        (dt.date(2024, 3, 10) - epoch).days,
        (dt.date(2024, 3, 25) - epoch).days,
    ]
    periods, counts = weekly_series(days, "2024-03-06", dt.date(2024, 3, 31))
    assert [str(p) for p in periods] == ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]
    assert counts.tolist() == [2, 0, 0, 1]
    # weeks starting on Sunday move the Sunday 10 March event into the next week
    periods, counts = weekly_series(days, "2024-03-03", "2024-03-30", week_start=6)
    assert str(periods[0]) == "2024-03-03" and counts.tolist() == [1, 1, 0, 1]


def test_false_alarm_rate_is_controlled_and_planted_spikes_are_found() -> None:
    rng = np.random.default_rng(20240501)
    alpha = 0.01
    alarms = tested = found = 0
    n_series, per_series = 30, 20
    for _ in range(n_series):
        mu = _seasonal_mean(10.0)
        y = rng.poisson(mu)
        result = detect(y, PERIODS, alpha=alpha, evaluate=per_series)
        alarms += len(result.alerts)
        tested += per_series
        spiked = y.copy()
        spiked[-1] = rng.poisson(3 * mu[-1])
        found += detect(spiked, PERIODS, alpha=alpha).alert
    assert alarms / tested < 2 * alpha
    assert found / n_series >= 0.9


def test_farrington_ignores_last_years_outbreak_and_reports_a_readable_reason() -> None:
    rng = np.random.default_rng(7)
    mu = _seasonal_mean(14.0)
    y = rng.poisson(mu)
    y[-52 - 1 : -52 + 2] *= 4  # an outbreak at the same time last year
    y[-1] = 40
    result = detect(y, PERIODS, alpha=0.01, label="burglaries")
    last = result.last
    assert last.alert and last.method.startswith("farrington")
    assert last.expected < 25  # the past outbreak was down-weighted
    assert last.reason.startswith("40 burglaries in the period starting")
    assert "alpha 1%" in last.reason
    doc = result.to_dict()
    json.dumps(doc)
    assert len(doc["chart"]["counts"]) == N_WEEKS
    assert doc["chart"]["baseline"][-2] is None and doc["chart"]["threshold"][-1] == pytest.approx(last.threshold)


def test_short_history_falls_back_and_too_short_history_says_why() -> None:
    rng = np.random.default_rng(3)
    y = rng.poisson(6.0, 20)
    result = detect(y, PERIODS[:20])
    assert result.last.method.startswith("poisson (fallback")
    with pytest.raises(NotEnoughData, match="only 5 periods of history"):
        detect(y[:6], PERIODS[:6])
    with pytest.raises(NotEnoughData, match="empty"):
        detect([], [])


def test_sparse_series_need_five_recent_events_to_alarm() -> None:
    y = np.zeros(60, dtype=int)
    y[-1] = 3
    result = detect(y, PERIODS[:60])
    assert result.last.observed > result.last.threshold and not result.alert


def test_cusum_catches_a_sustained_moderate_rise() -> None:
    rng = np.random.default_rng(11)
    mu = _seasonal_mean(10.0)
    y = rng.poisson(mu)
    y[-6:] = rng.poisson(1.6 * mu[-6:])
    cusum = detect(y, PERIODS, method="cusum", evaluate=12, alpha=0.01)
    assert any(r.alert for r in cusum.evaluated[-6:])
    assert not any(r.alert for r in cusum.evaluated[:6])
    assert cusum.last.cusum is not None
    # one-sided CUSUM, k = 0.5: h = 4 gives an in-control run length of about 336 periods
    assert cusum_threshold(1 / 336) == pytest.approx(4.0, abs=0.02)
    assert cusum_threshold(0.01) < cusum_threshold(0.001)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="counts"):
        detect([1, -2, 3], PERIODS[:3])
    with pytest.raises(ValueError, match="lengths differ"):
        detect([1, 2, 3], PERIODS[:4])
    with pytest.raises(ValueError, match="method"):
        detect(np.ones(20), PERIODS[:20], method="magic")  # type: ignore[arg-type]
