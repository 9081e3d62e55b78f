"""Square cells over a study area, in projected metres: the unit a forecast ranks.

A :class:`SquareGrid` is a box of ``ny`` rows by ``nx`` columns of ``cell_m``-metre squares whose
lower-left corner is ``(x0, y0)`` in a :class:`~amane.analytics.geo.LocalProjection`. Cells are
numbered row-major (``flat = row * nx + col``). A boolean ``mask`` marks the *active* cells, the
study area: forecasts score active cells only, and the area fractions of the accuracy metrics
(1% and 5% of the area) are fractions of the active cells.

The study area. No city or unit polygon ships with the analytics, so the default study area is
*the cells that hold at least one event of the training history* (:meth:`SquareGrid.with_history`):
a cell where nothing was ever recorded in years is almost always a lake, a park, a rail yard or
outside the unit's territory, and counting it would inflate every model's PAI alike. The backtest
recomputes it at each origin from the history before that origin only, so the test window never
shapes the area it is scored on; test events that fall in cells outside it count as misses.
When the territory is known, :meth:`SquareGrid.with_polygons` activates instead the cells whose
centre lies inside given polygons (rings of (lon, lat)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from amane.analytics.events import Events
from amane.analytics.geo import LocalProjection

IntArray = NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class SquareGrid:
    """A box of square cells with a mask of active cells (see the module docstring)."""

    projection: LocalProjection
    cell_m: float
    x0: float
    y0: float
    nx: int
    ny: int
    mask: NDArray[np.bool_] = field(repr=False)
    #: flat index of each active cell, in increasing order (the order of every score vector)
    active: IntArray = field(init=False, repr=False)
    #: for each flat cell, its position in ``active`` or -1
    _rank: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (self.cell_m > 0 and math.isfinite(self.cell_m)):
            raise ValueError(f"cell size must be a positive number of metres, not {self.cell_m}")
        if self.nx < 1 or self.ny < 1:
            raise ValueError("a grid needs at least one cell")
        mask = np.asarray(self.mask, dtype=bool)
        if mask.shape != (self.ny, self.nx):
            raise ValueError(f"mask of shape {mask.shape} for a {self.ny} x {self.nx} grid")
        mask = mask.copy()
        mask.flags.writeable = False
        active = np.flatnonzero(mask).astype(np.intp)
        rank = np.full(self.nx * self.ny, -1, dtype=np.intp)
        rank[active] = np.arange(len(active))
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "active", active)
        object.__setattr__(self, "_rank", rank)

    # -- construction -----------------------------------------------------------------------------

    @classmethod
    def covering(
        cls, events: Events, cell_m: float, *, projection: LocalProjection | None = None, margin_cells: int = 1
    ) -> SquareGrid:
        """A grid whose box covers every event (plus a margin), all cells active until a mask is set.

        The projection defaults to one centred on the median event, so scale errors stay negligible.
        """
        if not len(events):
            raise ValueError("cannot lay a grid over no events")
        proj = projection or LocalProjection.centred_on(events.lat, events.lon)
        x, y = events.project(proj)
        x0 = math.floor(float(x.min()) / cell_m - margin_cells) * cell_m
        y0 = math.floor(float(y.min()) / cell_m - margin_cells) * cell_m
        nx = int(math.floor((float(x.max()) - x0) / cell_m)) + 1 + margin_cells
        ny = int(math.floor((float(y.max()) - y0) / cell_m)) + 1 + margin_cells
        return cls(proj, float(cell_m), x0, y0, nx, ny, np.ones((ny, nx), dtype=bool))

    def with_mask(self, mask: ArrayLike) -> SquareGrid:
        return SquareGrid(self.projection, self.cell_m, self.x0, self.y0, self.nx, self.ny, np.asarray(mask, bool))

    def with_history(self, events: Events) -> SquareGrid:
        """The same box, active where at least one of ``events`` lies (the default study area)."""
        flat = self.flat_of(*events.project(self.projection))
        mask = np.zeros(self.nx * self.ny, dtype=bool)
        mask[flat[flat >= 0]] = True
        return self.with_mask(mask.reshape(self.ny, self.nx))

    def with_polygons(self, polygons: Sequence[Sequence[tuple[float, float]]]) -> SquareGrid:
        """The same box, active where the cell centre lies inside any of the (lon, lat) rings."""
        cx, cy = self.all_centres()
        mask = np.zeros(self.nx * self.ny, dtype=bool)
        for ring in polygons:
            pts = np.asarray(ring, dtype=float)
            if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
                raise ValueError("a polygon is a ring of at least three (lon, lat) points")
            px, py = self.projection.forward(pts[:, 1], pts[:, 0])
            mask |= _inside(cx, cy, px, py)
        return self.with_mask(mask.reshape(self.ny, self.nx))

    # -- lookup -----------------------------------------------------------------------------------

    @property
    def n_cells(self) -> int:
        return self.nx * self.ny

    @property
    def n_active(self) -> int:
        return len(self.active)

    def flat_of(self, x: ArrayLike, y: ArrayLike) -> IntArray:
        """Flat cell index of each point, -1 outside the box."""
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        col = np.floor((xa - self.x0) / self.cell_m)
        row = np.floor((ya - self.y0) / self.cell_m)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(ok, row * self.nx + col, -1).astype(np.intp)

    def cell_of(self, x: ArrayLike, y: ArrayLike) -> IntArray:
        """Position of each point's cell among the active cells (the index into a score vector), -1 if
        the point is outside the box or in an inactive cell."""
        flat = self.flat_of(x, y)
        return np.where(flat >= 0, self._rank[np.maximum(flat, 0)], -1)

    def cells_of_events(self, events: Events) -> IntArray:
        return self.cell_of(*events.project(self.projection))

    def all_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Centres (x, y) of every cell of the box, flat order."""
        col = np.arange(self.n_cells) % self.nx
        row = np.arange(self.n_cells) // self.nx
        x = (self.x0 + (col + 0.5) * self.cell_m).astype(np.float64)
        y = (self.y0 + (row + 0.5) * self.cell_m).astype(np.float64)
        return x, y

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Centres (x, y) in metres of the active cells, in score-vector order."""
        cx, cy = self.all_centres()
        return cx[self.active], cy[self.active]

    def centres_lonlat(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Centres (lat, lon) in degrees of the active cells, for maps."""
        return self.projection.inverse(*self.centres())

    def counts(self, events: Events, weights: ArrayLike | None = None) -> NDArray[np.float64]:
        """Number (or weighted sum) of events per active cell; events outside the area are dropped."""
        cell = self.cells_of_events(events)
        ok = cell >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        return np.bincount(cell[ok], weights=w, minlength=self.n_active).astype(np.float64)

    def to_raster(self, scores: ArrayLike, fill: float = np.nan) -> NDArray[np.float64]:
        """A (ny, nx) array with the active cells' scores and ``fill`` elsewhere (for maps)."""
        out = np.full(self.n_cells, fill, dtype=float)
        out[self.active] = np.asarray(scores, dtype=float)
        return out.reshape(self.ny, self.nx)


def _inside(
    x: NDArray[np.float64], y: NDArray[np.float64], px: NDArray[np.float64], py: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Even-odd rule point-in-polygon test, vectorised over the points."""
    inside = np.zeros(x.shape, dtype=bool)
    n = len(px)
    j = n - 1
    for i in range(n):
        xi, yi, xj, yj = px[i], py[i], px[j], py[j]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_at)
        j = i
    return inside
