"""Hotspots: H3 and square counts on real Toronto incidents, kernel density, Gi* with FDR."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import h3
import numpy as np
import pytest

from amane.analytics import hotspots as hs
from amane.analytics.geo import LocalProjection
from amane.analytics.spikes import NotEnoughData


def _toronto(limit: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` geocoded rows of the Toronto Police MCI training file (lat, lon)."""
    spec = importlib.util.find_spec("mci_model")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("mci_model (Toronto data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "train.csv"
    lat: list[float] = []
    lon: list[float] = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            try:
                la, lo = float(row["Lat"]), float(row["Long"])
            except ValueError:
                continue
            if 43.0 < la < 44.5 and -80.0 < lo < -78.5:
                lat.append(la)
                lon.append(lo)
            if len(lat) == limit:
                break
    return np.array(lat), np.array(lon)


def test_h3_counts_on_toronto_sum_to_the_events_and_map_as_geojson() -> None:
    lat, lon = _toronto()
    counts = hs.h3_counts(lat, lon, 9)
    assert sum(counts.values()) == lat.size
    assert all(h3.get_resolution(c) == 9 for c in counts)
    cell = h3.latlng_to_cell(float(lat[0]), float(lon[0]), 9)
    assert counts[cell] == int(
        np.sum([h3.latlng_to_cell(float(a), float(b), 9) == cell for a, b in zip(lat, lon, strict=True)])
    )
    weighted = hs.h3_counts(lat, lon, 8, weights=np.full(lat.size, 0.5))
    assert sum(weighted.values()) == pytest.approx(lat.size / 2)
    fc = hs.h3_geojson(counts, min_value=2, extra={cell: {"label": "first"}})
    json.dumps(fc)
    assert {f["properties"]["count"] for f in fc["features"]} >= {max(counts.values())}
    assert all(f["properties"]["count"] >= 2 for f in fc["features"])
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and -80 < ring[0][0] < -78.5 and 43 < ring[0][1] < 44.5  # lon, lat order


def test_square_counts_and_geojson_round_trip_through_the_projection() -> None:
    lat, lon = _toronto()
    proj = LocalProjection.centred_on(lat, lon)
    x, y = proj.forward(lat, lon)
    counts, grid = hs.square_counts(x, y, 250.0)
    assert counts.sum() == lat.size and counts.shape == grid.shape
    assert grid.x0 % 250 == 0 and grid.y0 % 250 == 0
    fixed, g2 = hs.square_counts(x, y, 250.0, origin=(grid.x0, grid.y0), shape=(10, 10))
    assert g2.shape == (10, 10) and fixed.sum() < lat.size
    fc = hs.square_geojson(counts, grid, proj, threshold=0)
    assert len(fc["features"]) == int(np.count_nonzero(counts))
    feature = max(fc["features"], key=lambda f: f["properties"]["count"])
    ring = np.array(feature["geometry"]["coordinates"][0])
    r, c = feature["properties"]["row"], feature["properties"]["col"]
    inside = (
        (x >= grid.x0 + c * 250)
        & (x < grid.x0 + (c + 1) * 250)
        & (y >= grid.y0 + r * 250)
        & (y < grid.y0 + (r + 1) * 250)
    )
    assert ring[:, 0].min() <= lon[inside].min() and lon[inside].max() <= ring[:, 0].max()
    assert ring[:, 1].min() <= lat[inside].min() and lat[inside].max() <= ring[:, 1].max()


def test_kde_keeps_the_mass_and_peaks_at_the_cluster() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(0, 5000, 500), rng.normal(3000, 100, 300)])
    y = np.concatenate([rng.uniform(0, 5000, 500), rng.normal(1500, 100, 300)])
    kde = hs.kde_surface(x, y, 50.0)
    assert kde.bandwidth_m == 300.0 and kde.bandwidth_rule == "fixed"
    assert kde.density.sum() * kde.grid.cell_area_km2 == pytest.approx(800.0, rel=1e-6)
    row, col = np.unravel_index(np.argmax(kde.density), kde.density.shape)
    assert abs(kde.x_centres()[col] - 3000) < 150 and abs(kde.y_centres()[row] - 1500) < 150
    levels = kde.mass_levels((0.25, 0.5, 0.9))
    assert levels[0.25] > levels[0.5] > levels[0.9] > 0
    frac = kde.mass_fraction()
    assert frac[row, col] == pytest.approx(frac.min()) and frac.max() == pytest.approx(1.0)
    scott = hs.kde_surface(x, y, 100.0, "scott")
    assert scott.bandwidth_rule == "scott" and scott.bandwidth_m > 300
    with pytest.raises(NotEnoughData):
        hs.kde_surface([], [], 50.0)


def test_gi_star_finds_a_planted_cluster_and_little_in_uniform_noise() -> None:
    rng = np.random.default_rng(42)
    counts = rng.poisson(2.0, size=(120, 150)).astype(float)
    counts[60:63, 80:83] += rng.poisson(12.0, size=(3, 3))
    gi = hs.getis_ord_gi_star(counts, distance_cells=1.5)
    top = np.unravel_index(np.nanargmax(gi.z), gi.z.shape)
    assert 60 <= top[0] < 63 and 80 <= top[1] < 83
    assert gi.bins[61, 81] == 3 and gi.q[61, 81] < 0.01
    assert np.all(gi.bins[:40, :40] == 0)

    uniform = rng.poisson(2.0, size=(120, 150)).astype(float)
    noise = hs.getis_ord_gi_star(uniform, distance_cells=2)
    assert np.count_nonzero(noise.bins) <= 0.001 * uniform.size
    raw = hs.getis_ord_gi_star(uniform, distance_cells=2, fdr=False)
    assert np.count_nonzero(raw.bins) > np.count_nonzero(noise.bins)  # uncorrected: ~10% "significant"


def test_gi_star_study_area_mask_excludes_cells() -> None:
    counts = np.zeros((30, 30))
    counts[10:20, 10:20] = np.random.default_rng(1).poisson(3.0, size=(10, 10))
    mask = hs.near_events_mask(counts, 2)
    gi = hs.getis_ord_gi_star(counts, distance_cells=2, mask=mask)
    assert np.isnan(gi.z[0, 0]) and gi.bins[0, 0] == 0
    assert int(mask.sum()) == sum(gi.summary().values())
    with pytest.raises(NotEnoughData):
        hs.getis_ord_gi_star(np.zeros((1, 2)))


def test_gi_star_formula_matches_a_hand_computation() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 10.0, 6.0], [7.0, 8.0, 9.0]])
    gi = hs.getis_ord_gi_star(x, distance_cells=1)
    n, xbar = 9, x.mean()
    s = np.sqrt((x**2).mean() - xbar**2)
    local, w = 2 + 4 + 10 + 6 + 8, 5  # centre and its four edge neighbours
    expected = (local - xbar * w) / (s * np.sqrt((n * w - w * w) / (n - 1)))
    assert gi.z[1, 1] == pytest.approx(expected)


def test_gi_star_over_h3_cells_flags_a_planted_cluster() -> None:
    lat, lon = _toronto(2000)
    rng = np.random.default_rng(9)
    centre = (float(np.median(lat)), float(np.median(lon)))  # in the middle of the slice's area
    lat = np.concatenate([lat, centre[0] + rng.normal(0, 0.0005, 300)])
    lon = np.concatenate([lon, centre[1] + rng.normal(0, 0.0005, 300)])
    counts = hs.h3_counts(lat, lon, 9)
    gi = hs.getis_ord_gi_star_h3(counts, k=1)
    assert set(counts) <= set(gi.cells)  # zero cells around events are in the study area
    assert len(gi.cells) > len(counts)
    best = gi.cells[int(np.argmax(gi.z))]
    assert h3.grid_distance(best, h3.latlng_to_cell(*centre, 9)) <= 1
    assert gi.bins[int(np.argmax(gi.z))] == 3
    fc = gi.geojson(significant_only=True)
    assert fc["features"] and all(f["properties"]["bin"] != 0 for f in fc["features"])
    json.dumps(fc)
    area = {best, *h3.grid_ring(best, 1), *h3.grid_ring(best, 2)}
    given = hs.getis_ord_gi_star_h3(counts, k=1, cells=area)
    assert sorted(given.cells) == sorted(area)


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    q = hs.benjamini_hochberg(p)
    assert q[3] == pytest.approx(0.02) and q[0] == pytest.approx(0.02)
    assert q[2] == pytest.approx(0.04) and q[1] == pytest.approx(0.04)
    assert np.isnan(q[4])
    assert hs.confidence_bins([2.0, -3.0, 1.0], [0.04, 0.001, 0.5]).tolist() == [2, -3, 0]
