"""Features of the learned ranking model ``gbm`` (:class:`amane.analytics.forecast.GBM`).

The other models of :mod:`amane.analytics.forecast` each smooth one cell's own counts in one fixed
way. ``gbm`` instead *learns*, at every origin and from the past only, how the next period's count
of a cell depends on many summaries of the history around it, the approach of the "learned"
predictive-policing models (e.g. Mohler & Porter 2018, Flaxman et al. 2019, the NIJ Real-Time Crime
Forecasting Challenge entries): gradient boosting with a Poisson loss on space-time features.

Features of a cell ``c`` at an origin ``T`` (every one from events strictly before ``T``):

* counts in the cell over the last 7, 28, 91, 182, 365 and 730 days, and over the whole history
  (as a daily rate);
* exponentially weighted counts (half-lives of 30 and 240 days: the ``ewma`` baseline itself);
* the same counts summed over the ring of the 3 x 3 block around the cell (the 8 neighbours) and
  over the ring between the 3 x 3 and the 5 x 5 blocks, for the 7-, 28-, 365- and 730-day windows;
* a Gaussian smoothing of the 365-day counts (sigma of 1 and 3 cells): the long-term KDE;
* counts per offence category over 365 days (the most frequent categories, at most ``MAX_CATEGORIES``);
* distinct incidents over 365 days (rows of one cell at one time are one incident with several
  offences) and the number of distinct days with an incident in the last 91 days;
* days since the last incident in the cell (capped at 730);
* seasonality: the counts of the same weeks one and two years earlier (the horizon widened by a
  week on each side).

Training protocol (``fit`` + ``predict(h)``): training origins are ``T - h - j * step_days`` for
``j = 0 .. train_origins - 1`` (weekly by default), those with at least ``min_train_days`` days of
history before them. At each, the rows are the active cells that already had an incident before
that training origin (the study area as the backtest would have drawn it then), the features are
computed from the events before it, and the target is the cell's count in ``[T_j, T_j + h)``. The
last target window ends at ``T``: nothing at or after the origin is ever read. A
:class:`sklearn.ensemble.HistGradientBoostingRegressor` with ``loss="poisson"`` is fitted on these
rows (fixed seed, no early stopping, so it is deterministic), then scores the features at ``T``.
The score is an expected count for ``[T, T + h)``. Training happens in ``predict``, per horizon.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

FloatArray = NDArray[np.float64]


WINDOWS = (7, 28, 91, 182, 365, 730)
RING_WINDOWS = (7, 28, 365, 730)
HALF_LIVES = (30.0, 240.0)
MAX_CATEGORIES = 8
LAST_CAP = 730.0


class HistoryIndex:
    """The history of one fit, prepared once for features at many origins.

    ``t`` sorted; ``flat`` the flat box cell of each event; ``cat`` an index into ``categories``;
    ``first`` marks the first row of each (cell, time) group, i.e. one per incident.
    """

    def __init__(self, t: FloatArray, flat: NDArray[np.intp], cat: NDArray[np.intp], n_cats: int, ny: int, nx: int):
        self.t, self.flat, self.cat, self.n_cats, self.ny, self.nx = t, flat, cat, n_cats, ny, nx
        self.n_cells = ny * nx
        order = np.lexsort((t, flat))
        same = np.zeros(len(t), dtype=bool)
        same[1:] = (flat[order][1:] == flat[order][:-1]) & (t[order][1:] == t[order][:-1])
        first = np.ones(len(t), dtype=bool)
        first[order[same]] = False
        self.first = first
        self.day = np.floor(t).astype(np.int64)

    def _count(self, t0: float, t1: float, weights: FloatArray | None = None) -> FloatArray:
        i0, i1 = np.searchsorted(self.t, [t0, t1], side="left")
        w = None if weights is None else weights[i0:i1]
        return np.bincount(self.flat[i0:i1], weights=w, minlength=self.n_cells).astype(np.float64)

    def features(self, origin: float, horizon: float, cells: NDArray[np.intp]) -> tuple[FloatArray, list[str]]:
        """Feature matrix (one row per flat cell of ``cells``) at ``origin`` from events before it."""
        cols: list[FloatArray] = []
        names: list[str] = []

        def add(name: str, full: FloatArray) -> None:
            names.append(name)
            cols.append(full[cells])

        def ring(full: FloatArray, inner: int, outer: int) -> FloatArray:
            img = full.reshape(self.ny, self.nx)
            big = ndimage.uniform_filter(img, size=outer, mode="constant") * outer * outer
            small = ndimage.uniform_filter(img, size=inner, mode="constant") * inner * inner if inner > 1 else img
            out: FloatArray = np.maximum(big - small, 0.0).reshape(-1)
            return out

        i_end = int(np.searchsorted(self.t, origin, side="left"))
        by_window: dict[int, FloatArray] = {}
        for w in WINDOWS:
            by_window[w] = self._count(origin - w, origin)
            add(f"n{w}", by_window[w])
        t_first = self.t[0] if i_end > 0 else origin
        span = max(origin - t_first, 1.0)
        total = np.bincount(self.flat[:i_end], minlength=self.n_cells).astype(np.float64)
        add("rate_all", total / span)
        age = origin - self.t[:i_end]
        for hl in HALF_LIVES:
            ew = np.bincount(self.flat[:i_end], weights=np.exp(-age * math.log(2.0) / hl), minlength=self.n_cells)
            add(f"ew{hl:g}", ew.astype(np.float64))
        for w in RING_WINDOWS:
            add(f"ring3_{w}", ring(by_window[w], 1, 3))
            add(f"ring5_{w}", ring(by_window[w], 3, 5))
        img = by_window[365].reshape(self.ny, self.nx)
        for s in (1.0, 3.0):
            add(f"kde{s:g}", ndimage.gaussian_filter(img, sigma=s, mode="constant").reshape(-1))
        i0 = int(np.searchsorted(self.t, origin - 365, side="left"))
        sl = slice(i0, i_end)
        for k in range(self.n_cats):
            m = self.cat[sl] == k
            add(f"cat{k}_365", np.bincount(self.flat[sl][m], minlength=self.n_cells).astype(np.float64))
        add("incidents365", self._count(origin - 365, origin, weights=self.first.astype(np.float64)))
        i91 = int(np.searchsorted(self.t, origin - 91, side="left"))
        key = np.unique(self.flat[i91:i_end] * 100_000 + self.day[i91:i_end])
        add("days91", np.bincount(key // 100_000, minlength=self.n_cells).astype(np.float64))
        i730 = int(np.searchsorted(self.t, origin - LAST_CAP, side="left"))
        last = np.full(self.n_cells, -np.inf)
        np.maximum.at(last, self.flat[i730:i_end], self.t[i730:i_end])
        add("since_last", np.minimum(origin - last, LAST_CAP))
        for years in (1, 2):
            back = origin - 365.0 * years
            add(f"season{years}", self._count(back - 7, back + horizon + 7))
        return np.column_stack(cols), names

    def target(self, origin: float, horizon: float, cells: NDArray[np.intp]) -> FloatArray:
        out: FloatArray = self._count(origin, origin + horizon)[cells]
        return out

    def seen_before(self, origin: float) -> NDArray[np.bool_]:
        """Flat cells with at least one event before ``origin``."""
        i_end = int(np.searchsorted(self.t, origin, side="left"))
        return np.bincount(self.flat[:i_end], minlength=self.n_cells) > 0
