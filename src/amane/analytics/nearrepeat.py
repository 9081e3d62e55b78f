"""Near-repeat victimisation: the Knox test, as in Ratcliffe's Near Repeat Calculator.

After a burglary, the houses nearby run a higher risk for a few weeks (Johnson et al. 2007;
Townsley, Homel & Chaseling 2003). The Knox test measures this: it counts the pairs of incidents
that are close in space *and* close in time, and compares that count with what the same places and
the same dates would give if the dates were shuffled at random between the places.

For every pair of events (i, j) the spatial distance falls in a *space band* (0-100 m, 101-200 m,
..., beyond) and the time between them in a *time band* (0-7 days, 8-14 days, ..., beyond). The
table gives, for each (space band x time band) cell:

* ``observed``: the number of pairs in the cell;
* ``expected``: the mean count over ``n_perm`` Monte Carlo permutations of the event times among
  the events (places fixed, dates shuffled), which keeps both the spatial pattern and the seasonal
  and trend profile of the dates and breaks only their link;
* ``ratio``: the Knox ratio observed / expected. 1.2 in the 0-100 m x 0-7 days cell reads "20% more
  pairs of incidents within 100 m and a week of each other than if timing were unrelated to place";
* ``p_value``: ``(1 + number of permutations with a count >= observed) / (1 + n_perm)``, the
  one-sided Monte Carlo p-value of an excess. With 99 permutations the smallest possible value is
  0.01, with 999 it is 0.001.

Only pairs within the largest space band are enumerated (``scipy.spatial.cKDTree.query_pairs``);
they are found once and re-used by every permutation, which only re-draws their time gaps. The
"beyond" space band is obtained without enumerating far pairs: permuting times does not change the
multiset of all pairwise time gaps, so its counts are the per-time-band totals over all pairs
(computed from the sorted times) minus the near bands.

Times are in days and compared as given: pass whole days (``floor(t)``) to reproduce the Near
Repeat Calculator's integer day differences. Bands include their upper limit: with space bands
(100, 200) a pair 100 m apart is in the first band and one 150 m apart in the second. A first limit
of 0 gives a "same location" band (repeat, rather than near-repeat, victimisation).

References: Knox (1964) Applied Statistics 13:25-29; Johnson, Bernasco, Bowers, Elffers, Ratcliffe,
Rengert & Townsley (2007) Journal of Quantitative Criminology 23:201-219; Ratcliffe (2009) Near
Repeat Calculator v1.3, Temple University.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from amane.analytics.spikes import NotEnoughData

__all__ = ["KnoxTable", "NotEnoughData", "knox_test"]

MIN_EVENTS = 10


def _edges(values: Sequence[float], name: str) -> NDArray[np.float64]:
    e = np.asarray(list(values), dtype=float)
    if e.size == 0:
        raise ValueError(f"{name}: at least one band is needed")
    if not np.all(np.isfinite(e)) or e[0] < 0 or np.any(np.diff(e) <= 0):
        raise ValueError(f"{name}: band limits must be finite, non-negative and strictly increasing")
    return e


def _labels(edges: NDArray[np.float64], unit: str) -> list[str]:
    integral = bool(np.all(edges == np.round(edges)))
    out: list[str] = []
    lo: float | None = None
    for hi in edges:
        if lo is None:
            out.append(f"same {'location' if unit == 'm' else 'day'}" if hi == 0 else f"0 to {_num(hi)} {unit}")
        elif integral:
            out.append(f"{_num(lo + 1)} to {_num(hi)} {unit}")
        else:
            out.append(f"over {_num(lo)} to {_num(hi)} {unit}")
        lo = float(hi)
    out.append(f"more than {_num(edges[-1])} {unit}")
    return out


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


@dataclass(frozen=True)
class KnoxTable:
    """Result of :func:`knox_test`: arrays of shape (space bands + 1, time bands + 1), the last row
    and column being the "beyond" bands. See the module docstring for how to read each one."""

    space_edges: NDArray[np.float64]
    time_edges: NDArray[np.float64]
    space_labels: list[str]
    time_labels: list[str]
    observed: NDArray[np.int64]
    expected: NDArray[np.float64]
    ratio: NDArray[np.float64]
    p_value: NDArray[np.float64]
    n_events: int
    n_perm: int
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (NaN ratios, where nothing was expected, become null)."""

        def clean(a: NDArray[np.float64], nd: int) -> list[list[float | None]]:
            return [[round(float(v), nd) if math.isfinite(v) else None for v in row] for row in a]

        return {
            "n_events": self.n_events,
            "n_perm": self.n_perm,
            "seed": self.seed,
            "space_bands": [
                {"label": lab, "upper_m": float(e) if k < self.space_edges.size else None}
                for k, (lab, e) in enumerate(zip(self.space_labels, [*self.space_edges, math.inf], strict=True))
            ],
            "time_bands": [
                {"label": lab, "upper_days": float(e) if k < self.time_edges.size else None}
                for k, (lab, e) in enumerate(zip(self.time_labels, [*self.time_edges, math.inf], strict=True))
            ],
            "observed": self.observed.astype(int).tolist(),
            "expected": clean(self.expected, 3),
            "ratio": clean(self.ratio, 3),
            "p_value": clean(self.p_value, 4),
        }

    def to_text(self, *, significance: float = 0.05) -> str:
        """Plain-text tables: Knox ratios (``*`` marks p <= ``significance``), then observed pairs
        with the expected count in brackets."""
        ratios = [
            [
                "-" if not math.isfinite(r) else f"{r:.2f}" + ("*" if p <= significance else " ")
                for r, p in zip(self.ratio[i], self.p_value[i], strict=True)
            ]
            for i in range(len(self.space_labels))
        ]
        counts = [
            [f"{o} ({e:.1f})" for o, e in zip(self.observed[i], self.expected[i], strict=True)]
            for i in range(len(self.space_labels))
        ]
        head = f"Knox test: {self.n_events} events, {self.n_perm} permutations"
        if self.seed is not None:
            head += f" (seed {self.seed})"
        lines = [head]
        for title, body in (
            (f"Knox ratio observed/expected (* p <= {significance:g})", ratios),
            ("Observed pairs (expected)", counts),
        ):
            first = max(len(s) for s in [*self.space_labels, title]) + 2
            widths = [
                max(len(self.time_labels[j]), *(len(row[j]) for row in body)) + 2 for j in range(len(self.time_labels))
            ]
            lines.append("")
            lines.append(
                title.ljust(first) + "".join(t.rjust(w) for t, w in zip(self.time_labels, widths, strict=True))
            )
            for lab, row in zip(self.space_labels, body, strict=True):
                lines.append(lab.ljust(first) + "".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _pairs_within_time(sorted_t: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Number of pairs with time gap <= each edge, over all pairs, from the sorted times."""
    n = sorted_t.size
    idx = np.arange(n)
    out = np.empty(edges.size, dtype=np.int64)
    for k, e in enumerate(edges):
        out[k] = int(np.sum(np.searchsorted(sorted_t, sorted_t + e, side="right") - idx - 1))
    return out


def knox_test(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    space_bands: Sequence[float] = (100, 200, 300, 400, 500),
    time_bands: Sequence[float] = (7, 14, 21, 28),
    n_perm: int = 99,
    seed: int | None = 0,
    max_pairs: int = 20_000_000,
) -> KnoxTable:
    """Knox test of space-time interaction for events at ``(x, y)`` metres and times ``t`` days.

    ``space_bands`` and ``time_bands`` are the upper limits of the bands (a "beyond" band is added
    after the last); ``n_perm`` permutations of the times, drawn from ``numpy.random.default_rng(seed)``,
    give the expected counts and p-values. Raises :class:`NotEnoughData` with fewer than 10 events,
    and ``ValueError`` when more than ``max_pairs`` pairs lie within the largest space band (choose
    smaller bands or fewer events: memory grows with the number of pairs).
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    ta = np.asarray(t, dtype=float).ravel()
    if not xa.size == ya.size == ta.size:
        raise ValueError(f"x, y, t: lengths differ ({xa.size}, {ya.size}, {ta.size})")
    bad = ~(np.isfinite(xa) & np.isfinite(ya) & np.isfinite(ta))
    if np.any(bad):
        raise ValueError(f"x, y, t: {int(bad.sum())} events have missing or non-finite values")
    n = xa.size
    if n < MIN_EVENTS:
        raise NotEnoughData(f"the Knox test needs at least {MIN_EVENTS} events, got {n}")
    if n_perm < 1:
        raise ValueError(f"n_perm: must be at least 1, got {n_perm}")
    s_edges = _edges(space_bands, "space_bands")
    t_edges = _edges(time_bands, "time_bands")
    ns, nt = s_edges.size + 1, t_edges.size + 1

    xy = np.column_stack([xa, ya])
    tree = cKDTree(xy)
    r = float(s_edges[-1])
    n_near = (int(tree.count_neighbors(tree, r)) - n) // 2
    if n_near > max_pairs:
        raise ValueError(
            f"space_bands: {n_near} pairs of events lie within {r:g} m, more than max_pairs={max_pairs}; "
            "use a smaller largest band or fewer events"
        )
    pairs = tree.query_pairs(r, output_type="ndarray")
    i_idx = pairs[:, 0].astype(np.intp)
    j_idx = pairs[:, 1].astype(np.intp)
    dist = np.hypot(xa[i_idx] - xa[j_idx], ya[i_idx] - ya[j_idx])
    s_band = np.searchsorted(s_edges, dist, side="left").astype(np.int64)
    s_band = np.minimum(s_band, ns - 2)  # rounding at the largest limit: query_pairs said within r
    base = s_band * nt

    # all-pairs totals per time band (invariant under permutation of the times)
    within = _pairs_within_time(np.sort(ta), t_edges)
    total_pairs = n * (n - 1) // 2
    time_totals = np.diff(np.concatenate([[0], within, [total_pairs]]))

    def table(times: NDArray[np.float64]) -> NDArray[np.int64]:
        gap = np.abs(times[i_idx] - times[j_idx])
        t_band = np.searchsorted(t_edges, gap, side="left")
        near = np.bincount(base + t_band, minlength=(ns - 1) * nt).reshape(ns - 1, nt)
        out = np.empty((ns, nt), dtype=np.int64)
        out[:-1] = near
        out[-1] = time_totals - near.sum(axis=0)
        return out

    observed = table(ta)
    rng = np.random.default_rng(seed)
    sims = np.empty((n_perm, ns, nt), dtype=np.int64)
    for k in range(n_perm):
        sims[k] = table(ta[rng.permutation(n)])
    expected = sims.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)
    p_value = (1.0 + np.sum(sims >= observed[None, :, :], axis=0)) / (1.0 + n_perm)
    return KnoxTable(
        space_edges=s_edges,
        time_edges=t_edges,
        space_labels=_labels(s_edges, "m"),
        time_labels=_labels(t_edges, "days"),
        observed=observed,
        expected=expected,
        ratio=ratio,
        p_value=p_value,
        n_events=n,
        n_perm=n_perm,
        seed=seed,
    )
