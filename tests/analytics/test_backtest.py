"""Accuracy metrics on hand-made cases, and the rolling-origin backtest on a real Toronto slice."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest

from amane.analytics.backtest import backtest, cells_for_fraction, origins, score_ranking, top_cells
from amane.analytics.events import Events, to_days
from amane.analytics.mapping import load_mapping, read_events
from tests.analytics.test_mapping import toronto_file


def test_oracle_and_known_answers() -> None:
    counts = np.zeros(100)
    counts[[7, 3, 50]] = [5, 3, 2]  # 10 events in the window
    oracle = score_ranking(counts, counts, 0.01)
    assert (oracle.k, oracle.hits, oracle.max_hits) == (1, 5.0, 5.0)
    assert oracle.hit_rate == 0.5
    assert oracle.pai == pytest.approx(50.0)  # 50% of the events in 1% of the area
    assert oracle.pei == 1.0
    # a model that puts the 3-event cell first
    scores = np.zeros(100)
    scores[3] = 1.0
    h = score_ranking(scores, counts, 0.01)
    assert (h.hit_rate, h.pei) == (0.3, 0.6)
    assert h.pai == pytest.approx(30.0)
    # at 5% (5 cells) the model's top five hold cell 3 and then the lowest indices 0, 1, 2, 4
    h5 = score_ranking(scores, counts, 0.05)
    assert (h5.k, h5.hits, h5.max_hits) == (5, 3.0, 10.0)
    assert h5.pai == pytest.approx(0.3 / 0.05)
    # two more events fell outside the study area: they are misses
    assert score_ranking(counts, counts, 0.01, events=12).hit_rate == pytest.approx(5 / 12)
    # a uniform random ranking has PAI about 1 on average
    rng = np.random.default_rng(0)
    obs = rng.poisson(0.5, 2000).astype(float)
    pais = [score_ranking(rng.random(2000), obs, 0.05).pai for _ in range(200)]
    assert np.mean(pais) == pytest.approx(1.0, abs=0.05)
    # empty window: undefined, not zero
    empty = score_ranking(scores, np.zeros(100), 0.01)
    assert math.isnan(empty.hit_rate) and math.isnan(empty.pei)


def test_cells_for_fraction_and_ties() -> None:
    assert cells_for_fraction(100, 0.01) == 1
    assert cells_for_fraction(150, 0.01) == 2
    assert cells_for_fraction(10, 0.01) == 1
    assert cells_for_fraction(9179, 0.05) == 459
    assert top_cells([1.0, 3.0, 3.0, 2.0], 2).tolist() == [1, 2]


def test_origins_are_local_midnights() -> None:
    when = origins(date(2019, 3, 4), date(2019, 3, 19), 7, timezone="America/Toronto")
    # clocks went forward on 10 March 2019: midnight of 4 March is EST (05:00 UTC), of 11 and 18 March EDT
    assert [round((t % 1) * 24, 6) for t in when] == [5.0, 4.0, 4.0]


@pytest.fixture(scope="module")
def toronto_test_set() -> Events:
    events, errors = read_events(toronto_file("test.csv"), load_mapping("toronto-mci"))
    assert errors == [] and len(events) == 30_000
    return events


def test_backtest_on_toronto_slice(toronto_test_set: Events) -> None:
    calls: list[tuple[int, int]] = []
    result = backtest(
        toronto_test_set,
        start=date(2019, 6, 3),
        end=date(2019, 7, 1),
        horizon_days=7,
        cell_m=250,
        models=["last_period", "ewma", "kde", "etas"],
        categories=["burglary"],
        timezone="America/Toronto",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    out = result.to_dict()
    json.dumps(out)  # JSON-able
    assert out["parameters"]["origins"] == 4 and out["parameters"]["start"] == "2019-06-03"
    for name in ("last_period", "ewma", "kde", "etas"):
        s = out["models"][name]
        assert s["windows"] == 4 and s["skipped"] == 0
        assert set(s) >= {"hit_rate_1", "hit_rate_5", "pai_1", "pai_5", "pei_1", "pei_5", "fit_seconds", "windows"}
        assert 0 < s["hit_rate_1"] <= s["hit_rate_5"] <= 1
        assert 0 < s["pei_1"] <= 1 and s["pai_1"] > 1  # crime concentrates: better than chance
        assert s["pooled"]["hit_rate_1"] is not None
    assert out["models"]["etas"]["params"]["fitted"]["theta"] >= 0
    assert set(out["categories"]) == {"burglary"}
    assert out["categories"]["burglary"]["kde"]["windows"] == 4
    rows = [w for w in out["windows"] if w["model"] == "kde" and w["category"] == "all"]
    assert [w["origin"] for w in rows] == ["2019-06-03", "2019-06-10", "2019-06-17", "2019-06-24"]
    assert all(w["events"] > 0 and w["k_1"] == math.ceil(0.01 * w["active_cells"]) for w in rows)


def test_backtest_refuses_honestly(toronto_test_set: Events) -> None:
    # a unit whose records start on 1 January 2014: three weeks later, too little history for ETAS
    first_month = toronto_test_set.between(to_days(date(2014, 1, 1)), to_days(date(2014, 2, 1)))
    result = backtest(first_month, start=date(2014, 1, 13), end=date(2014, 1, 30), horizon_days=7, models=["etas"])
    s = result.summary("etas")
    assert s["windows"] == 0 and s["skipped"] == 3 and s["pai_1"] is None
    assert "etas:" in s["skipped_reasons"][0]
    with pytest.raises(ValueError, match="unknown forecast model"):
        backtest(first_month, start=date(2014, 1, 13), end=date(2014, 1, 30), horizon_days=7, models=["crystal_ball"])
