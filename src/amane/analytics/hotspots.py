"""Hotspots: counts on H3 hexagons and square cells, kernel density, and Getis-Ord Gi*.

Three views of the same question, "where do incidents concentrate?", each with its own use:

* **Counts per cell** (:func:`h3_counts`, :func:`square_counts`): the plain map. H3 hexagons
  (Uber's hierarchical grid; resolution 8 is about 0.74 km2, 9 about 0.11 km2, 10 about
  0.015 km2) have equal-ish areas everywhere and six equidistant neighbours; square cells of a
  chosen size in metres (on a :class:`~amane.analytics.geo.LocalProjection`) match the grids the
  forecasts are scored on.
* **Kernel density** (:func:`kde_surface`): a smooth surface in events per km2, less sensitive to
  where cell borders fall. Read it as "how many incidents per km2 around here".
* **Getis-Ord Gi*** (:func:`getis_ord_gi_star`, :func:`getis_ord_gi_star_h3`): is the sum of counts
  in a cell and its neighbours higher (hot) or lower (cold) than chance would give if counts were
  spread at random over the study area? The answer is a z-score per cell, with p-values, an
  optional Benjamini-Hochberg false discovery rate correction and the 90/95/99% confidence bins of
  ArcGIS's Hot Spot Analysis.

The GeoJSON helpers (:func:`h3_geojson`, :func:`square_geojson`) turn any of these into features
for a Leaflet map (coordinates in lon/lat order, as GeoJSON requires).

References: Getis & Ord (1992) Geographical Analysis 24:189-206; Ord & Getis (1995) Geographical
Analysis 27:286-306; Benjamini & Hochberg (1995) JRSS B 57:289-300; Silverman (1986) Density
Estimation for Statistics and Data Analysis, Chapman & Hall; Chainey, Tompson & Uhlig (2008)
Security Journal 21:4-28 (hotspot mapping for crime).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

import h3
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage, signal, sparse, stats

from amane.analytics.geo import LocalProjection
from amane.analytics.spikes import NotEnoughData

__all__ = [
    "GiStar",
    "H3GiStar",
    "KdeSurface",
    "SquareGrid",
    "benjamini_hochberg",
    "confidence_bins",
    "getis_ord_gi_star",
    "getis_ord_gi_star_h3",
    "h3_counts",
    "h3_geojson",
    "h3_study_area",
    "kde_surface",
    "near_events_mask",
    "square_counts",
    "square_geojson",
]

Json = dict[str, Any]


def _xy(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xa = np.asarray(a, dtype=float).ravel()
    ya = np.asarray(b, dtype=float).ravel()
    if xa.size != ya.size:
        raise ValueError(f"{names[0]} and {names[1]}: lengths differ ({xa.size} and {ya.size})")
    bad = ~(np.isfinite(xa) & np.isfinite(ya))
    if np.any(bad):
        raise ValueError(f"{names[0]}, {names[1]}: {int(bad.sum())} points have missing or non-finite coordinates")
    return xa, ya


def _weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise ValueError(f"weights: length {w.size} differs from the number of points {n}")
    return w


# --------------------------------------------------------------------------------------------
# H3 counts
# --------------------------------------------------------------------------------------------


@overload
def h3_counts(lat: ArrayLike, lon: ArrayLike, resolution: int, weights: None = None) -> dict[str, int]: ...


@overload
def h3_counts(lat: ArrayLike, lon: ArrayLike, resolution: int, weights: ArrayLike) -> dict[str, float]: ...


def h3_counts(
    lat: ArrayLike, lon: ArrayLike, resolution: int, weights: ArrayLike | None = None
) -> dict[str, int] | dict[str, float]:
    """Number of points (or sum of ``weights``) per H3 cell at ``resolution`` (0-15).

    h3 has no vectorised indexer, so each *distinct* coordinate pair is indexed once (police data
    repeat coordinates a lot: addresses, intersections, offsets to block centres) and the counts are
    gathered with NumPy. Cells without points are absent from the result.
    """
    la, lo = _xy(lat, lon, ("lat", "lon"))
    if not 0 <= resolution <= 15:
        raise ValueError(f"resolution: must be 0 to 15, got {resolution}")
    if np.any(np.abs(la) > 90) or np.any(np.abs(lo) > 180):
        raise ValueError("lat, lon: coordinates out of range (degrees expected)")
    w = _weights(weights, la.size)
    if la.size == 0:
        return {}
    pts = np.column_stack([la, lo])
    uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
    to_cell = h3.latlng_to_cell
    cell_of_uniq = np.array([to_cell(float(a), float(b), resolution) for a, b in uniq], dtype=object)
    cells, cell_idx = np.unique(cell_of_uniq[inverse.ravel()].astype(str), return_inverse=True)
    if w is None:
        sums_i = np.bincount(cell_idx, minlength=cells.size)
        return {str(c): int(v) for c, v in zip(cells, sums_i, strict=True)}
    sums_f = np.bincount(cell_idx, weights=w, minlength=cells.size)
    return {str(c): float(v) for c, v in zip(cells, sums_f, strict=True)}


def _ring(boundary: Iterable[tuple[float, float]]) -> list[list[float]]:
    ring = [[round(float(lng), 7), round(float(lat_), 7)] for lat_, lng in boundary]
    ring.append(ring[0])
    return ring


def h3_geojson(
    values: Mapping[str, float],
    *,
    name: str = "count",
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    min_value: float | None = None,
) -> Json:
    """A GeoJSON FeatureCollection with one hexagon per cell of ``values``.

    Each feature has the properties ``cell`` (the H3 index), ``name`` (the value: "count" by
    default, "z" for Gi* ...) and, if given, everything in ``extra[cell]``. Cells whose value is
    below ``min_value`` are left out. Boundaries come from ``h3.cell_to_boundary`` and are written
    lon/lat, as GeoJSON requires (Leaflet's ``L.geoJSON`` reads them as they are).
    """
    features: list[Json] = []
    for cell, value in values.items():
        if min_value is not None and value < min_value:
            continue
        props: Json = {"cell": cell, name: _jsonable(value)}
        if extra is not None and cell in extra:
            props.update(extra[cell])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [_ring(h3.cell_to_boundary(cell))]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer | int) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        return round(f, 6) if math.isfinite(f) else None
    return v


# --------------------------------------------------------------------------------------------
# Square grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SquareGrid:
    """A grid of square cells in projected metres.

    Cell ``[row, col]`` of a ``(ny, nx)`` array covers ``x0 + col * cell_m <= x < x0 + (col + 1) *
    cell_m`` and the same for ``y`` with ``row``: row 0 is the *southernmost* row (array origin at
    the lower-left corner, so flip vertically to draw it as an image).
    """

    x0: float
    y0: float
    cell_m: float
    ny: int
    nx: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @property
    def cell_area_km2(self) -> float:
        return (self.cell_m / 1000.0) ** 2

    @property
    def area_km2(self) -> float:
        return self.ny * self.nx * self.cell_area_km2

    def x_centres(self) -> NDArray[np.float64]:
        return np.asarray(self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m, dtype=np.float64)

    def y_centres(self) -> NDArray[np.float64]:
        return np.asarray(self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m, dtype=np.float64)

    def index(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """(row, col, inside) of each point; row and col are only meaningful where ``inside``."""
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        col = np.floor((xa - self.x0) / self.cell_m).astype(np.int64)
        row = np.floor((ya - self.y0) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return row, col, inside

    @classmethod
    def covering(cls, x: ArrayLike, y: ArrayLike, cell_m: float, *, margin_m: float = 0.0) -> SquareGrid:
        """The smallest grid aligned on multiples of ``cell_m`` holding all points plus a margin."""
        xa, ya = _xy(x, y, ("x", "y"))
        if xa.size == 0:
            raise NotEnoughData("no points to build a grid around")
        x0 = math.floor((float(xa.min()) - margin_m) / cell_m) * cell_m
        y0 = math.floor((float(ya.min()) - margin_m) / cell_m) * cell_m
        nx = int(math.floor((float(xa.max()) + margin_m - x0) / cell_m)) + 1
        ny = int(math.floor((float(ya.max()) + margin_m - y0) / cell_m)) + 1
        return cls(x0, y0, float(cell_m), ny, nx)

    def to_dict(self) -> Json:
        return {"x0": self.x0, "y0": self.y0, "cell_m": self.cell_m, "ny": self.ny, "nx": self.nx}


def square_counts(
    x: ArrayLike,
    y: ArrayLike,
    cell_m: float,
    *,
    origin: tuple[float, float] | None = None,
    shape: tuple[int, int] | None = None,
    weights: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], SquareGrid]:
    """Counts (or sums of ``weights``) per square cell of ``cell_m`` metres, and the grid.

    Without ``origin`` the grid is aligned on multiples of ``cell_m`` (so grids built from different
    subsets line up); without ``shape`` it just covers the points. With both given, points outside
    the grid are dropped. The array has shape ``(ny, nx)``; see :class:`SquareGrid` for orientation.
    """
    xa, ya = _xy(x, y, ("x", "y"))
    if not cell_m > 0:
        raise ValueError(f"cell_m: must be positive, got {cell_m}")
    w = _weights(weights, xa.size)
    if origin is None and shape is None:
        grid = SquareGrid.covering(xa, ya, cell_m)
    else:
        if origin is None:
            if xa.size == 0:
                raise NotEnoughData("no points to place a grid on; pass origin")
            origin = (
                math.floor(float(xa.min()) / cell_m) * cell_m,
                math.floor(float(ya.min()) / cell_m) * cell_m,
            )
        if shape is None:
            if xa.size == 0:
                raise NotEnoughData("no points to size a grid on; pass shape")
            shape = (
                max(1, int(math.floor((float(ya.max()) - origin[1]) / cell_m)) + 1),
                max(1, int(math.floor((float(xa.max()) - origin[0]) / cell_m)) + 1),
            )
        grid = SquareGrid(float(origin[0]), float(origin[1]), float(cell_m), int(shape[0]), int(shape[1]))
    row, col, inside = grid.index(xa, ya)
    flat = row[inside] * grid.nx + col[inside]
    counts = np.bincount(flat, weights=None if w is None else w[inside], minlength=grid.ny * grid.nx)
    return counts.astype(float).reshape(grid.shape), grid


def square_geojson(
    values: ArrayLike,
    grid: SquareGrid,
    projection: LocalProjection,
    *,
    name: str = "count",
    threshold: float = 0.0,
    extra: Mapping[str, ArrayLike] | None = None,
) -> Json:
    """GeoJSON squares (lon/lat) for the cells whose value is above ``threshold`` (non-empty cells by
    default). Corners are converted back through ``projection``; each feature carries ``row``,
    ``col``, the value under ``name`` and the same cell of every array in ``extra``."""
    v = np.asarray(values, dtype=float)
    if v.shape != grid.shape:
        raise ValueError(f"values: shape {v.shape} differs from the grid's {grid.shape}")
    extras = {key: np.asarray(a) for key, a in (extra or {}).items()}
    for key, a in extras.items():
        if a.shape != grid.shape:
            raise ValueError(f"extra[{key!r}]: shape {a.shape} differs from the grid's {grid.shape}")
    rows, cols = np.nonzero(np.nan_to_num(v, nan=-np.inf) > threshold)
    c = grid.cell_m
    xs = grid.x0 + cols * c
    ys = grid.y0 + rows * c
    corner_x = np.stack([xs, xs + c, xs + c, xs, xs], axis=1)
    corner_y = np.stack([ys, ys, ys + c, ys + c, ys], axis=1)
    lat, lon = projection.inverse(corner_x, corner_y)
    features: list[Json] = []
    for k in range(rows.size):
        r, cc = int(rows[k]), int(cols[k])
        props: Json = {"row": r, "col": cc, name: _jsonable(v[r, cc])}
        for key, arr in extras.items():
            props[key] = _jsonable(arr[r, cc].item())
        ring = [[round(float(lon[k, j]), 7), round(float(lat[k, j]), 7)] for j in range(5)]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------------------------
# Kernel density
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KdeSurface:
    """A kernel density surface: ``density[row, col]`` in events per km2 at the centre of each cell
    of ``grid``. ``bandwidth_m`` is the standard deviation of the Gaussian kernel."""

    density: NDArray[np.float64]
    grid: SquareGrid
    bandwidth_m: float
    bandwidth_rule: str
    n_events: float

    def x_centres(self) -> NDArray[np.float64]:
        return self.grid.x_centres()

    def y_centres(self) -> NDArray[np.float64]:
        return self.grid.y_centres()

    def mass_levels(self, fractions: Iterable[float] = (0.5, 0.75, 0.9)) -> dict[float, float]:
        """Density level whose contour encloses each fraction of the events (highest-density regions).

        ``levels[0.5]`` is the density such that the cells above it hold half of the events, and are
        the smallest area that does: draw the contour at that level to outline "where half the
        incidents happen". Feed the values to any contouring routine with :meth:`x_centres` and
        :meth:`y_centres`.
        """
        flat = np.sort(self.density.ravel())[::-1]
        cum = np.cumsum(flat)
        total = cum[-1] if cum.size else 0.0
        out: dict[float, float] = {}
        for f in fractions:
            if not 0 < f <= 1:
                raise ValueError(f"fractions: each must be in (0, 1], got {f}")
            if total <= 0:
                out[f] = 0.0
                continue
            k = int(np.searchsorted(cum, f * total))
            out[f] = float(flat[min(k, flat.size - 1)])
        return out

    def mass_fraction(self) -> NDArray[np.float64]:
        """For each cell, the share of events in cells at least as dense: contour it at 0.5, 0.75, ...
        to get the same highest-density regions as :meth:`mass_levels` (values in [0, 1])."""
        flat = self.density.ravel()
        order = np.argsort(-flat, kind="stable")
        cum = np.cumsum(flat[order])
        total = cum[-1] if cum.size and cum[-1] > 0 else 1.0
        out = np.empty_like(flat)
        out[order] = cum / total
        return out.reshape(self.density.shape)


def bandwidth(x: ArrayLike, y: ArrayLike, rule: Literal["scott", "silverman"]) -> float:
    """Data-driven bandwidth in metres.

    ``"scott"``: Scott's rule in two dimensions, ``sigma * n^(-1/6)`` with ``sigma`` the mean of the
    two coordinate standard deviations. ``"silverman"``: the spatial variant used by ArcGIS's Kernel
    Density, ``0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n^(-0.2)`` with ``SD`` the standard distance and
    ``Dm`` the median distance to the mean centre; more robust to outliers. Both assume one blob,
    so over a whole city they give wide kernels (often above 1 km) that smooth hotspots away.
    """
    xa, ya = _xy(x, y, ("x", "y"))
    n = xa.size
    if n < 2:
        raise NotEnoughData(f"a data-driven bandwidth needs at least 2 points, got {n}")
    if rule == "scott":
        sigma = 0.5 * (float(xa.std(ddof=1)) + float(ya.std(ddof=1)))
        return float(sigma * n ** (-1.0 / 6.0))
    if rule == "silverman":
        dx = xa - xa.mean()
        dy = ya - ya.mean()
        sd = math.sqrt(float(np.mean(dx * dx + dy * dy)))
        dm = float(np.median(np.hypot(dx, dy)))
        return float(0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2)
    raise ValueError(f"bandwidth rule: must be 'scott' or 'silverman', got {rule!r}")


def kde_surface(
    x: ArrayLike,
    y: ArrayLike,
    cell_m: float,
    bandwidth_m: float | Literal["scott", "silverman"] = 300.0,
    *,
    grid: SquareGrid | None = None,
    weights: ArrayLike | None = None,
    truncate: float = 4.0,
) -> KdeSurface:
    """Gaussian kernel density of points on a square grid, in events per km2.

    Points are binned on the grid, then the counts are convolved with a Gaussian of standard
    deviation ``bandwidth_m`` (``scipy.ndimage.gaussian_filter``, separable, truncated at
    ``truncate`` standard deviations): the usual "binned KDE", exact up to the binning error of
    about ``cell_m / sqrt(12)``, so keep ``cell_m`` at most half the bandwidth.

    The default bandwidth is a fixed 300 m: hotspots in crime data live at the scale of street
    segments and blocks (Chainey et al. 2008 use 1.5 to 3 times a 100-200 m cell), and a fixed
    distance keeps maps comparable between periods and units. ``"scott"`` or ``"silverman"`` pick a
    data-driven one instead (see :func:`bandwidth`). Without ``grid`` a grid aligned on multiples
    of ``cell_m`` covers the points plus ``truncate`` bandwidths, so no mass is lost at the edges:
    ``density.sum() * cell_area_km2`` equals the number of events.
    """
    xa, ya = _xy(x, y, ("x", "y"))
    if xa.size == 0:
        raise NotEnoughData("no events to estimate a density from")
    rule: str
    if isinstance(bandwidth_m, str):
        rule = bandwidth_m
        h = bandwidth(xa, ya, bandwidth_m)
    else:
        rule = "fixed"
        h = float(bandwidth_m)
    if not h > 0:
        raise ValueError(f"bandwidth_m: must be positive, got {h}")
    if grid is None:
        grid = SquareGrid.covering(xa, ya, cell_m, margin_m=truncate * h)
    counts, _ = square_counts(xa, ya, grid.cell_m, origin=(grid.x0, grid.y0), shape=grid.shape, weights=weights)
    smooth = ndimage.gaussian_filter(counts, sigma=h / grid.cell_m, mode="constant", cval=0.0, truncate=truncate)
    density = np.clip(smooth, 0.0, None) / grid.cell_area_km2
    total = float(counts.sum())
    return KdeSurface(density, grid, h, rule, total)


# --------------------------------------------------------------------------------------------
# Multiple testing
# --------------------------------------------------------------------------------------------


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and are not counted.

    Rejecting every test with ``q <= level`` controls the false discovery rate (the expected share
    of false positives among the cells declared significant) at ``level``, also under the positive
    dependence that overlapping Gi* neighbourhoods create (Benjamini & Yekutieli 2001).
    """
    pa = np.asarray(p, dtype=float)
    out = np.full(pa.shape, np.nan)
    flat = pa.ravel()
    ok = np.nonzero(np.isfinite(flat))[0]
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(flat[ok], kind="stable")]
    ranked = flat[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    res = out.ravel()
    res[order] = np.clip(q, 0.0, 1.0)
    return res.reshape(pa.shape)


def confidence_bins(z: ArrayLike, p: ArrayLike) -> NDArray[np.int8]:
    """ArcGIS-style Gi_Bin: +3/+2/+1 hot spot at 99/95/90% confidence (p below 0.01/0.05/0.10 and
    z > 0), -3/-2/-1 cold spot, 0 not significant (or outside the study area)."""
    za = np.asarray(z, dtype=float)
    pa = np.nan_to_num(np.asarray(p, dtype=float), nan=1.0)
    level = np.where(pa <= 0.01, 3, np.where(pa <= 0.05, 2, np.where(pa <= 0.10, 1, 0)))
    sign = np.sign(np.nan_to_num(za, nan=0.0))
    return np.asarray(level * sign, dtype=np.int8)


def _gi_star(
    x: NDArray[np.float64], local_sum: NDArray[np.float64], w_sum: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    """Gi* z-scores for binary weights (Ord & Getis 1995, eq. 8-9, as in ArcGIS).

    ``G*_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))`` with ``W_i`` the
    number of neighbours of ``i`` in the study area (``i`` itself included), ``xbar`` and ``S`` the
    mean and standard deviation (divisor n) of all ``n`` cells of the study area. The statistic is
    already standardised: under spatial randomness it is approximately N(0, 1).
    """
    xbar = float(x.mean())
    s = math.sqrt(max(float(np.mean(x * x)) - xbar * xbar, 0.0))
    denom_sq = (n * w_sum - w_sum * w_sum) / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (local_sum - xbar * w_sum) / (s * np.sqrt(denom_sq))
    z[~np.isfinite(z)] = 0.0 if s > 0 else np.nan
    return np.asarray(z, dtype=float)


def _p_two_sided(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(2.0 * stats.norm.sf(np.abs(z)), dtype=float)


# --------------------------------------------------------------------------------------------
# Gi* on a square grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiStar:
    """Gi* over a square grid: arrays of the grid's shape, NaN (and bin 0) outside the study area.

    ``z`` > 0 means more events around the cell than average. ``p`` is the two-sided normal p-value,
    ``q`` its Benjamini-Hochberg adjustment over the study area, and ``bins`` the -3..+3 confidence
    class computed from ``q`` when ``fdr`` is true (from ``p`` otherwise).
    """

    z: NDArray[np.float64]
    p: NDArray[np.float64]
    q: NDArray[np.float64]
    bins: NDArray[np.int8]
    mask: NDArray[np.bool_]
    distance_cells: float
    fdr: bool

    def summary(self) -> dict[str, int]:
        """Number of cells in each confidence bin (keys "-3" to "3")."""
        b = self.bins[self.mask]
        return {str(k): int(np.sum(b == k)) for k in range(-3, 4)}


def _disc_kernel(distance_cells: float) -> NDArray[np.float64]:
    r = int(math.floor(distance_cells))
    off = np.arange(-r, r + 1)
    dx, dy = np.meshgrid(off, off)
    return (dx * dx + dy * dy <= distance_cells * distance_cells + 1e-9).astype(float)


def near_events_mask(counts: ArrayLike, distance_cells: float) -> NDArray[np.bool_]:
    """Study area made of the cells within ``distance_cells`` of a non-empty cell.

    Use it as ``mask`` for :func:`getis_ord_gi_star` when the grid's bounding box holds large areas
    where no incident can happen (a lake, a forest): their zeros would make every populated cell look
    hot. Zeros near events stay in, since "nothing happened here" is information.
    """
    c = np.asarray(counts, dtype=float)
    return np.asarray(ndimage.binary_dilation(c > 0, structure=_disc_kernel(distance_cells) > 0), dtype=bool)


def getis_ord_gi_star(
    counts: ArrayLike,
    *,
    distance_cells: float = 1.0,
    mask: ArrayLike | None = None,
    fdr: bool = True,
) -> GiStar:
    """Getis-Ord Gi* for a 2-D array of counts on a square grid.

    Neighbours of a cell are the cells whose centres lie within ``distance_cells`` cell widths (1 =
    the cell and its 4 edge neighbours, 1.5 = the 3x3 block, 2 = a 13-cell disc ...), with binary
    weights, the cell itself included. The study area is ``mask`` (all cells when omitted; see
    :func:`near_events_mask` for a better default over irregular areas): cells outside it neither
    get a score nor count as neighbours, and its mean and variance are the reference. Local sums
    are computed by FFT convolution, so 100k cells take milliseconds.
    """
    x = np.asarray(counts, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"counts: a 2-D array is needed, got {x.ndim} dimensions")
    if not distance_cells >= 1:
        raise ValueError(f"distance_cells: must be at least 1, got {distance_cells}")
    m = np.ones(x.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if m.shape != x.shape:
        raise ValueError(f"mask: shape {m.shape} differs from the counts' {x.shape}")
    if np.any(~np.isfinite(x[m])) or np.any(x[m] < 0):
        raise ValueError("counts: must be finite and non-negative inside the study area")
    n = int(m.sum())
    if n < 3:
        raise NotEnoughData(f"Gi* needs a study area of at least 3 cells, got {n}")
    xm = np.where(m, x, 0.0)
    kernel = _disc_kernel(distance_cells)
    local_sum = signal.fftconvolve(xm, kernel, mode="same")
    w_sum = np.rint(signal.fftconvolve(m.astype(float), kernel, mode="same"))
    z_in = _gi_star(xm[m], local_sum[m], w_sum[m], n)
    z = np.full(x.shape, np.nan)
    z[m] = z_in
    p = np.full(x.shape, np.nan)
    p[m] = _p_two_sided(z_in)
    q = benjamini_hochberg(p)
    bins = confidence_bins(z, q if fdr else p)
    bins[~m] = 0
    return GiStar(z, p, q, bins, m, float(distance_cells), fdr)


# --------------------------------------------------------------------------------------------
# Gi* over H3 cells
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class H3GiStar:
    """Gi* over H3 cells: ``cells[i]`` has count ``counts[i]``, score ``z[i]`` and so on (see
    :class:`GiStar` for the fields)."""

    cells: list[str]
    counts: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    q: NDArray[np.float64]
    bins: NDArray[np.int8]
    k: int
    fdr: bool

    def as_dict(self) -> dict[str, Json]:
        """``{cell: {"count", "z", "p", "q", "bin"}}``, ready as ``extra`` for :func:`h3_geojson`."""
        return {
            c: {
                "count": _jsonable(self.counts[i]),
                "z": _jsonable(self.z[i]),
                "p": _jsonable(self.p[i]),
                "q": _jsonable(self.q[i]),
                "bin": int(self.bins[i]),
            }
            for i, c in enumerate(self.cells)
        }

    def geojson(self, *, significant_only: bool = False) -> Json:
        """Hexagons with the Gi* fields as properties (value property ``z``)."""
        extra = self.as_dict()
        keep = {c: float(self.z[i]) for i, c in enumerate(self.cells) if not significant_only or self.bins[i] != 0}
        return h3_geojson(keep, name="z", extra=extra)

    def summary(self) -> dict[str, int]:
        return {str(k): int(np.sum(self.bins == k)) for k in range(-3, 4)}


def h3_study_area(cells_with_events: Iterable[str], k: int) -> set[str]:
    """All cells within ``k`` rings of a cell holding events: the default study area of
    :func:`getis_ord_gi_star_h3` (zeros near events count; empty countryside far away does not)."""
    area: set[str] = set()
    for c in cells_with_events:
        area.update(h3.grid_disk(c, k))
    return area


def getis_ord_gi_star_h3(
    counts: Mapping[str, float],
    *,
    k: int = 1,
    cells: Iterable[str] | None = None,
    fdr: bool = True,
) -> H3GiStar:
    """Getis-Ord Gi* over H3 cells; neighbours of a cell are ``h3.grid_disk(cell, k)`` (the cell and
    its ``k`` rings: 7 cells for k=1, 19 for k=2), binary weights.

    The study area is ``cells`` when given (cells absent from ``counts`` count as zero; counts outside
    it are ignored), otherwise every cell within ``k`` rings of a cell with a positive count
    (:func:`h3_study_area`). All cells must share one resolution.
    """
    if k < 1:
        raise ValueError(f"k: must be at least 1, got {k}")
    if cells is None:
        area = h3_study_area([c for c, v in counts.items() if v > 0], k)
    else:
        area = set(cells)
    if len(area) < 3:
        raise NotEnoughData(f"Gi* needs a study area of at least 3 cells, got {len(area)}")
    ordered = sorted(area)
    resolutions = {h3.get_resolution(c) for c in ordered}
    if len(resolutions) > 1:
        raise ValueError("cells: all cells must have the same H3 resolution")
    pos = {c: i for i, c in enumerate(ordered)}
    x = np.array([float(counts.get(c, 0.0)) for c in ordered])
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError("counts: must be finite and non-negative")
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(ordered):
        for nb in h3.grid_disk(c, k):
            j = pos.get(nb)
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(ordered)
    w = sparse.csr_matrix((np.ones(len(rows)), (np.array(rows), np.array(cols))), shape=(n, n))
    local_sum = np.asarray(w @ x, dtype=float)
    w_sum = np.asarray(w.sum(axis=1), dtype=float).ravel()
    z = _gi_star(x, local_sum, w_sum, n)
    p = _p_two_sided(z)
    q = benjamini_hochberg(p)
    bins = confidence_bins(z, q if fdr else p)
    return H3GiStar(ordered, x, z, p, q, bins, k, fdr)
