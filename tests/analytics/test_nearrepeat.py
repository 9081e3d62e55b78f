"""Knox test: planted near-repeats show up, independent times do not, counts are exact."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from amane.analytics.geo import LocalProjection
from amane.analytics.nearrepeat import knox_test
from amane.analytics.spikes import NotEnoughData


def _toronto_burglaries(limit: int = 1500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, day) of the first ``limit`` geocoded Break and Enter rows of the Toronto MCI file."""
    spec = importlib.util.find_spec("mci_model")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("mci_model (Toronto data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "train.csv"
    lat: list[float] = []
    lon: list[float] = []
    day: list[float] = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["MCI"] != "Break and Enter":
                continue
            try:
                la, lo = float(row["Lat"]), float(row["Long"])
            except ValueError:
                continue
            when = dt.date.fromisoformat(row["occurrencedate"][:10].replace("/", "-"))
            if 43.0 < la < 44.5 and -80.0 < lo < -78.5 and when.year >= 2014:
                lat.append(la)
                lon.append(lo)
                day.append(float((when - dt.date(1970, 1, 1)).days))
            if len(lat) == limit:
                break
    return np.array(lat), np.array(lon), np.array(day)


def _background(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0, 5000, n), rng.uniform(0, 5000, n), np.floor(rng.uniform(0, 730, n))


def test_planted_near_repeats_give_a_high_ratio_in_the_nearest_band() -> None:
    rng = np.random.default_rng(2007)
    x, y, t = _background(rng, 600)
    # each of 150 events gets a follower within 50 m and 3 days
    src = rng.choice(600, 150, replace=False)
    ang = rng.uniform(0, 2 * np.pi, 150)
    rad = rng.uniform(0, 50, 150)
    x = np.concatenate([x, x[src] + rad * np.cos(ang)])
    y = np.concatenate([y, y[src] + rad * np.sin(ang)])
    t = np.concatenate([t, t[src] + rng.integers(0, 4, 150)])
    table = knox_test(x, y, t, space_bands=(100, 200, 300), time_bands=(7, 14, 21), n_perm=99, seed=1)
    assert table.ratio[0, 0] > 3
    assert table.p_value[0, 0] == pytest.approx(0.01)  # no permutation reached the observed count
    assert table.observed[0, 0] >= 150
    # far apart or long after: nothing special
    assert 0.8 < table.ratio[-1, -1] < 1.2
    assert table.observed.sum() == len(x) * (len(x) - 1) // 2


def test_independent_times_give_ratios_near_one() -> None:
    rng = np.random.default_rng(99)
    x, y, t = _background(rng, 1500)
    table = knox_test(x, y, t, space_bands=(200, 400, 600), time_bands=(14, 28, 42), n_perm=99, seed=3)
    near = table.ratio[:-1, :-1]
    assert np.all(np.abs(near - 1) < 0.3)
    assert np.sum(table.p_value[:-1, :-1] <= 0.01) <= 1
    # same seed, same answer
    again = knox_test(x, y, t, space_bands=(200, 400, 600), time_bands=(14, 28, 42), n_perm=99, seed=3)
    assert np.array_equal(again.expected, table.expected)


def test_counts_match_brute_force_and_bands_include_their_upper_limit() -> None:
    x = np.array([0.0, 100.0, 250.0, 0.0, 1000.0, 0.0, 30.0, 60.0, 2000.0, 5.0])
    y = np.zeros(10)
    t = np.array([0.0, 7.0, 8.0, 30.0, 1.0, 0.0, 14.0, 15.0, 3.0, 100.0])
    s_edges, t_edges = (0, 100, 200), (7, 14)
    table = knox_test(x, y, t, space_bands=s_edges, time_bands=t_edges, n_perm=9, seed=0)
    brute = np.zeros((4, 3), dtype=int)
    for i, j in combinations(range(10), 2):
        d, g = abs(x[i] - x[j]), abs(t[i] - t[j])
        brute[np.searchsorted(s_edges, d, side="left"), np.searchsorted(t_edges, g, side="left")] += 1
    assert np.array_equal(table.observed, brute)
    assert table.space_labels == ["same location", "1 to 100 m", "101 to 200 m", "more than 200 m"]
    assert table.time_labels == ["0 to 7 days", "8 to 14 days", "more than 14 days"]


def test_toronto_burglaries_table_renders_and_serialises() -> None:
    lat, lon, day = _toronto_burglaries()
    x, y = LocalProjection.centred_on(lat, lon).forward(lat, lon)
    table = knox_test(x, y, day, n_perm=19, seed=0)
    assert table.n_events == lat.size
    doc = table.to_dict()
    json.dumps(doc)
    assert len(doc["observed"]) == 6 and len(doc["observed"][0]) == 5
    assert doc["space_bands"][-1] == {"label": "more than 500 m", "upper_m": None}
    text = table.to_text()
    assert "Knox test: 1500 events, 19 permutations" in text and "0 to 100 m" in text


def test_too_few_events_and_bad_input() -> None:
    with pytest.raises(NotEnoughData, match="at least 10 events"):
        knox_test([0, 1], [0, 1], [0, 1])
    with pytest.raises(ValueError, match="lengths differ"):
        knox_test(np.zeros(20), np.zeros(20), np.zeros(19))
    with pytest.raises(ValueError, match="space_bands"):
        knox_test(np.arange(20.0), np.zeros(20), np.zeros(20), space_bands=(200, 100))
    with pytest.raises(ValueError, match="max_pairs"):
        knox_test(np.zeros(50), np.zeros(50), np.arange(50.0), max_pairs=100)
