"""Forecast models, events and grids on synthetic data whose answer is known by construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from amane.analytics.events import Events, from_days, to_days
from amane.analytics.forecast import MODELS, NotEnoughData, make_model
from amane.analytics.geo import LocalProjection
from amane.analytics.grid import SquareGrid

PROJ = LocalProjection(33.57, -7.59)  # Casablanca
DAY0 = to_days(datetime(2023, 1, 1, tzinfo=UTC))
CELL = 200.0


def events_xy(t: np.ndarray, x: np.ndarray, y: np.ndarray, category: str = "theft") -> Events:
    lat, lon = PROJ.inverse(x, y)
    return Events(DAY0 + np.asarray(t), lat, lon, [category] * len(t))


def grid_over(size_m: float = 4000.0) -> SquareGrid:
    n = int(size_m / CELL)
    return SquareGrid(PROJ, CELL, -size_m / 2, -size_m / 2, n, n, np.ones((n, n), dtype=bool))


def cell_of_point(grid: SquareGrid, x: float, y: float) -> int:
    return int(grid.cell_of(np.array([x]), np.array([y]))[0])


# -- events and grid ---------------------------------------------------------------------------


def test_events_sorted_immutable_and_windowed() -> None:
    ev = Events([3.0, 1.0, 2.0], [1, 2, 3], [4, 5, 6], ["a", "b", "c"], ids=["x", "y", "z"])
    assert ev.t.tolist() == [1.0, 2.0, 3.0] and ev.category.tolist() == ["b", "c", "a"]
    assert ev.ids is not None and ev.ids.tolist() == ["y", "z", "x"]
    with pytest.raises(ValueError):
        ev.t[0] = 5.0
    assert ev.between(1.0, 3.0).t.tolist() == [1.0, 2.0]  # half-open
    assert ev.before(2.0).t.tolist() == [1.0]
    assert ev.select(ev.category != "c").category.tolist() == ["b", "a"]
    assert len(ev.of_category("a")) == 1


def test_events_from_datetimes() -> None:
    moment = datetime(2020, 3, 1, 12, tzinfo=UTC)
    ev = Events.from_datetimes([moment], [33.5], [-7.6], ["theft"])
    assert from_days(ev.t[0]) == moment
    with pytest.raises(ValueError, match="naive"):
        Events.from_datetimes([datetime(2020, 3, 1)], [33.5], [-7.6], ["theft"])
    with pytest.raises(ValueError, match="lat has 2 values"):
        Events([1.0], [1.0, 2.0], [1.0], ["a"])


def test_grid_cells_and_study_area() -> None:
    grid = grid_over()
    assert grid.n_active == 400
    c = cell_of_point(grid, 10.0, 10.0)
    cx, cy = grid.centres()
    assert (cx[c], cy[c]) == (100.0, 100.0)
    assert grid.cell_of(np.array([99_999.0]), np.array([0.0]))[0] == -1
    ev = events_xy(np.array([1.0, 2.0]), np.array([10.0, -1500.0]), np.array([10.0, 1500.0]))
    hist = grid.with_history(ev)
    assert hist.n_active == 2
    assert hist.counts(ev).tolist() == [1.0, 1.0]
    # polygon: a 1.1 km square around the centre holds the centres of 6 x 6 cells
    lat, lon = PROJ.inverse(np.array([-550, 550, 550, -550]), np.array([-550, -550, 550, 550]))
    square = list(zip(lon.tolist(), lat.tolist(), strict=True))
    assert grid.with_polygons([square]).n_active == 36


# -- models ----------------------------------------------------------------------------------------


def planted(seed: int = 7) -> tuple[Events, float, tuple[float, float]]:
    """A year of uniform background over 4 km x 4 km plus a hotspot of 2 events a day."""
    rng = np.random.default_rng(seed)
    n_bg = 3000
    t_bg = rng.uniform(0, 365, n_bg)
    x_bg, y_bg = rng.uniform(-2000, 2000, n_bg), rng.uniform(-2000, 2000, n_bg)
    spot = (610.0, -390.0)
    t_hot = rng.uniform(0, 365, 730)
    x_hot, y_hot = spot[0] + rng.normal(0, 25, 730), spot[1] + rng.normal(0, 25, 730)
    ev = events_xy(np.r_[t_bg, t_hot], np.r_[x_bg, x_hot], np.r_[y_bg, y_hot])
    return ev, DAY0 + 365.0, spot


@pytest.mark.parametrize("name", sorted(MODELS))
def test_planted_hotspot_ranks_first(name: str) -> None:
    ev, origin, spot = planted()
    grid = grid_over().with_history(ev)
    scores = make_model(name).fit(ev, grid, origin).predict(7)
    assert scores.shape == (grid.n_active,)
    assert int(np.argmax(scores)) == cell_of_point(grid, *spot)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fit_never_sees_the_future(name: str) -> None:
    ev, origin, _ = planted()
    grid = grid_over().with_history(ev)
    cut = origin - 30
    with_future = make_model(name).fit(ev, grid, cut).predict(7)
    past_only = make_model(name).fit(ev.before(cut), grid, cut).predict(7)
    np.testing.assert_allclose(with_future, past_only)


def test_decay_prefers_recent_hotspot() -> None:
    rng = np.random.default_rng(3)
    old = (-1010.0, -1010.0)  # busy in the first half-year only
    new = (1010.0, 1010.0)  # less in total, but all recent
    t_old, t_new = rng.uniform(0, 180, 400), rng.uniform(300, 365, 150)
    t_bg = rng.uniform(0, 365, 1000)
    ev = events_xy(
        np.r_[t_old, t_new, t_bg],
        np.r_[np.full(400, old[0]), np.full(150, new[0]), rng.uniform(-2000, 2000, 1000)],
        np.r_[np.full(400, old[1]), np.full(150, new[1]), rng.uniform(-2000, 2000, 1000)],
    )
    grid = grid_over().with_history(ev)
    origin = DAY0 + 365
    plain = make_model("kde", bandwidth_m=100).fit(ev, grid, origin).predict(7)
    decayed = make_model("kde_decay", bandwidth_m=100, half_life_days=30).fit(ev, grid, origin).predict(7)
    assert int(np.argmax(plain)) == cell_of_point(grid, *old)
    assert int(np.argmax(decayed)) == cell_of_point(grid, *new)


def test_last_period_breaks_ties_by_history() -> None:
    # two cells with one event each last week; the one with the longer record ranks first
    t = np.array([1.0, 2.0, 3.0, 360.0, 361.0] + list(np.linspace(5, 300, 30)))
    x = np.array([-900.0, -900.0, -900.0, -900.0, 900.0] + [0.0] * 30)
    y = np.array([-900.0, -900.0, -900.0, -900.0, 900.0] + [0.0] * 30)
    ev = events_xy(t, x, y)
    grid = grid_over().with_history(ev)
    scores = make_model("last_period").fit(ev, grid, DAY0 + 365).predict(7)
    a, b, c = (cell_of_point(grid, *p) for p in ((-900.0, -900.0), (900.0, 900.0), (0.0, 0.0)))
    assert scores[a] > scores[b] > scores[c]


def simulate_hawkes(
    mu: np.ndarray, theta: float, omega: float, horizon: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Per-cell Hawkes process by its branching structure: Poisson background, each event has
    Poisson(theta) children after Exp(omega) delays."""
    out = []
    for rate in mu:
        gen = rng.uniform(0, horizon, rng.poisson(rate * horizon))
        times = [gen]
        while len(gen):
            kids = np.repeat(gen, rng.poisson(theta, len(gen)))
            kids = kids + rng.exponential(1 / omega, len(kids))
            gen = kids[kids < horizon]
            times.append(gen)
        out.append(np.sort(np.concatenate(times)))
    return out


def test_etas_em_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2011)
    theta, omega, horizon = 0.5, 0.3, 1500.0
    mu = rng.uniform(0.02, 0.1, 16)
    per_cell = simulate_hawkes(mu, theta, omega, horizon, rng)
    t, x, y = [], [], []
    for n, times in enumerate(per_cell):
        t.append(times)
        x.append(np.full(len(times), (n % 4) * CELL + 100.0))
        y.append(np.full(len(times), (n // 4) * CELL + 100.0))
    ev = events_xy(np.concatenate(t), np.concatenate(x), np.concatenate(y))
    grid = grid_over().with_history(ev)
    model = make_model("etas", bandwidth_m=0, history_days=None).fit(ev, grid, DAY0 + horizon)
    fitted = model.describe()["fitted"]
    assert fitted["converged"]
    assert fitted["theta"] == pytest.approx(theta, abs=0.08)
    assert fitted["omega_per_day"] == pytest.approx(omega, rel=0.25)
    assert fitted["mu_total_per_day"] == pytest.approx(mu.sum(), rel=0.2)
    assert model.predict(7).sum() > 0


def test_not_enough_data() -> None:
    ev, origin, _ = planted()
    grid = grid_over().with_history(ev)
    few = ev.select(np.arange(10))
    with pytest.raises(NotEnoughData, match="kde: 10 incident\\(s\\).*at least 20"):
        make_model("kde").fit(few, grid, origin)
    with pytest.raises(NotEnoughData, match="etas: .*at least 100"):
        make_model("etas").fit(ev.select(np.arange(50)), grid, origin)
    recent = ev.between(origin - 10, origin)
    with pytest.raises(NotEnoughData, match="day\\(s\\) of history"):
        make_model("ewma").fit(recent, grid, origin)
    # the history starts after the origin: nothing to learn from
    with pytest.raises(NotEnoughData):
        make_model("last_period").fit(ev, grid, ev.start)
    # last_period cannot repeat a 30-day period from 20 days of history
    model = make_model("last_period").fit(ev.between(origin - 20, origin), grid, origin)
    with pytest.raises(NotEnoughData, match="shorter than the 30-day period"):
        model.predict(30)


def test_registry_refuses_unknowns() -> None:
    with pytest.raises(ValueError, match="unknown forecast model 'oracle'"):
        make_model("oracle")
    with pytest.raises(ValueError, match="unknown parameter"):
        make_model("kde", half_life_days=3)
    with pytest.raises(ValueError, match="non-negative"):
        make_model("ewma", half_life_days=-1)
    assert from_days(DAY0) == datetime(2023, 1, 1, tzinfo=UTC)
    assert from_days(DAY0 + 1.5) == datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=1.5)


# -- the learned model (gbm) -------------------------------------------------------------------------


def neighbour_echoes(seed: int = 11, weeks: int = 60) -> tuple[Events, SquareGrid, list[float], np.ndarray]:
    """A uniform background on 20 x 20 cells plus a spatial branching process at weekly scale: each
    incident of week w gives, with probability 0.08, one incident in each of its 8 neighbouring cells in
    week w + 1. Next week's expected count of a cell is thus known by construction: background plus
    0.08 x its neighbours' count this week. A cell's own history says little about it."""
    rng = np.random.default_rng(seed)
    n, bg, q = 20, 0.2, 0.08  # cells per side, background per cell-week, echo probability
    counts = np.zeros((weeks, n, n))
    counts[0] = rng.poisson(bg, (n, n))
    for w in range(1, weeks):
        prev = np.pad(counts[w - 1], 1)
        ring = sum(prev[1 + di : 1 + di + n, 1 + dj : 1 + dj + n] for di in (-1, 0, 1) for dj in (-1, 0, 1))
        ring = ring - counts[w - 1]
        counts[w] = rng.poisson(bg, (n, n)) + rng.binomial(ring.astype(int), q)
    w_idx, r_idx, c_idx = np.nonzero(counts)
    reps = counts[w_idx, r_idx, c_idx].astype(int)
    w_idx, r_idx, c_idx = np.repeat(w_idx, reps), np.repeat(r_idx, reps), np.repeat(c_idx, reps)
    t = w_idx * 7.0 + rng.uniform(0, 7, len(w_idx))
    x = -2000.0 + (c_idx + 0.5) * CELL + rng.uniform(-80, 80, len(t))
    y = -2000.0 + (r_idx + 0.5) * CELL + rng.uniform(-80, 80, len(t))
    ev = events_xy(t, x, y)
    grid = grid_over().with_history(ev)
    origins = [DAY0 + 7.0 * w for w in range(weeks - 4, weeks)]
    return ev, grid, origins, counts


def test_gbm_learns_neighbour_pattern_better_than_ewma() -> None:
    ev, grid, origins, counts = neighbour_echoes()
    n = counts.shape[1]
    cx, cy = grid.centres()
    rows = ((cy + 2000.0) // CELL).astype(int)
    cols = ((cx + 2000.0) // CELL).astype(int)
    corr: dict[str, list[float]] = {"gbm": [], "ewma": []}
    for origin in origins:
        w = int(round(origin - DAY0)) // 7
        prev = np.pad(counts[w - 1], 1)
        ring = sum(prev[1 + di : 1 + di + n, 1 + dj : 1 + dj + n] for di in (-1, 0, 1) for dj in (-1, 0, 1))
        expected = (0.2 + 0.08 * (ring - counts[w - 1]))[rows, cols]  # known by construction
        for name in corr:
            scores = make_model(name).fit(ev, grid, origin).predict(7)
            corr[name].append(float(np.corrcoef(scores, expected)[0, 1]))
    gbm, ewma = float(np.mean(corr["gbm"])), float(np.mean(corr["ewma"]))
    assert gbm > 0.6, corr
    assert gbm > ewma + 0.3, corr


def test_gbm_ignores_events_at_or_after_the_origin() -> None:
    ev, grid, origins, _ = neighbour_echoes(weeks=50)
    origin = origins[0]  # week 42: 294 days of history, room for 26 weekly training origins
    past = ev.before(origin)
    base = make_model("gbm").fit(past, grid, origin).predict(7)
    # future events, some exactly at the origin, in the busiest cells and elsewhere
    rng = np.random.default_rng(5)
    t = np.r_[np.zeros(50), rng.uniform(0, 30, 200)] + (origin - DAY0)
    x, y = rng.uniform(-2000, 2000, 250), rng.uniform(-2000, 2000, 250)
    future = events_xy(t, x, y)
    both = Events(
        np.r_[past.t, future.t],
        np.r_[past.lat, future.lat],
        np.r_[past.lon, future.lon],
        np.r_[past.category, future.category],
    )
    again = make_model("gbm").fit(both, grid, origin).predict(7)
    np.testing.assert_array_equal(base, again)
    fitted = make_model("gbm").fit(past, grid, origin)
    fitted.predict(7)
    info = fitted.describe()["fitted"]
    assert info["training_origins"] == 26 and info["features"] > 20


def test_gbm_not_enough_data() -> None:
    ev, grid, _, _ = neighbour_echoes(weeks=45)
    # 150 days of history: the first training origin needs 91 days before it, so fewer than 2 fit
    model = make_model("gbm").fit(ev, grid, DAY0 + 150)
    with pytest.raises(NotEnoughData, match="gbm: .*training origin"):
        model.predict(60)
    with pytest.raises(NotEnoughData, match="gbm: .*day\\(s\\) of history"):
        make_model("gbm").fit(ev, grid, DAY0 + 100)
