"""Columnar incident events: the input of every forecast model and of the backtest harness.

An :class:`Events` holds one row per incident as parallel NumPy arrays, sorted by time:

* ``t``: the time of occurrence in days (float64) since 1970-01-01 00:00 UTC, so that durations,
  decays and windows are plain arithmetic;
* ``lat`` / ``lon``: WGS 84 degrees;
* ``category``: offence codes (``amane/data/offences.yaml``);
* ``ids``: optional external ids, for tracing a forecast back to the records.

It is immutable: ``select``, ``between`` and ``of_category`` return new objects. Projected
coordinates are cached per projection and sliced along with the rows, so that a backtest that
selects the history before each origin projects the whole data set only once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from amane.analytics.geo import LocalProjection

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECONDS_PER_DAY = 86_400.0

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def to_days(moment: datetime | date) -> float:
    """Days since 1970-01-01 UTC of an aware datetime (a bare date means midnight UTC).

    Naive datetimes are refused: a local time without its zone is an hour-sized error waiting to happen.
    """
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0), tzinfo=UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} (give a timezone)")
    return (moment - EPOCH).total_seconds() / SECONDS_PER_DAY


def from_days(days: float) -> datetime:
    """The aware UTC datetime of a time in days since the epoch (inverse of :func:`to_days`)."""
    from datetime import timedelta

    return EPOCH + timedelta(days=float(days))


class Events:
    """Immutable, time-sorted columns of incidents (see the module docstring)."""

    __slots__ = ("t", "lat", "lon", "category", "ids", "_xy")

    t: FloatArray
    lat: FloatArray
    lon: FloatArray
    category: NDArray[np.str_]
    ids: NDArray[np.str_] | None
    _xy: dict[LocalProjection, tuple[FloatArray, FloatArray]]

    def __init__(
        self,
        t: ArrayLike,
        lat: ArrayLike,
        lon: ArrayLike,
        category: ArrayLike,
        ids: ArrayLike | None = None,
        *,
        _sorted: bool = False,
        _xy: dict[LocalProjection, tuple[FloatArray, FloatArray]] | None = None,
    ) -> None:
        t_a = np.asarray(t, dtype=np.float64).reshape(-1)
        lat_a = np.asarray(lat, dtype=np.float64).reshape(-1)
        lon_a = np.asarray(lon, dtype=np.float64).reshape(-1)
        cat_a = np.asarray(category, dtype=str).reshape(-1) if len(t_a) else np.zeros(0, dtype="<U1")
        ids_a = None if ids is None else np.asarray(ids, dtype=str).reshape(-1)
        n = len(t_a)
        for name, arr in (("lat", lat_a), ("lon", lon_a), ("category", cat_a), ("ids", ids_a)):
            if arr is not None and len(arr) != n:
                raise ValueError(f"events: {name} has {len(arr)} values for {n} times")
        if n and not (np.isfinite(t_a).all() and np.isfinite(lat_a).all() and np.isfinite(lon_a).all()):
            raise ValueError("events: times and coordinates must be finite numbers")
        xy = dict(_xy or {})
        if not _sorted and n > 1 and np.any(np.diff(t_a) < 0):
            order = np.argsort(t_a, kind="stable")
            t_a, lat_a, lon_a, cat_a = t_a[order], lat_a[order], lon_a[order], cat_a[order]
            ids_a = None if ids_a is None else ids_a[order]
            xy = {p: (x[order], y[order]) for p, (x, y) in xy.items()}
        for arr in (t_a, lat_a, lon_a, cat_a, ids_a):
            if arr is not None:
                arr.flags.writeable = False
        self.t, self.lat, self.lon, self.category, self.ids = t_a, lat_a, lon_a, cat_a, ids_a
        self._xy = xy

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Events:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype="<U1"))

    @classmethod
    def from_datetimes(
        cls,
        times: Sequence[datetime],
        lat: ArrayLike,
        lon: ArrayLike,
        category: ArrayLike,
        ids: ArrayLike | None = None,
    ) -> Events:
        """Events from aware datetimes (naive ones are refused, see :func:`to_days`)."""
        return cls([to_days(m) for m in times], lat, lon, category, ids)

    @classmethod
    def from_records(cls, records: Iterable[tuple[datetime, float, float, str]]) -> Events:
        """Events from ``(occurred_at, lat, lon, category)`` tuples."""
        rows = list(records)
        if not rows:
            return cls.empty()
        times, lat, lon, cat = zip(*rows, strict=True)
        return cls.from_datetimes(list(times), lat, lon, cat)

    @classmethod
    def concat(cls, parts: Sequence[Events]) -> Events:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        with_ids = all(p.ids is not None for p in parts)
        return cls(
            np.concatenate([p.t for p in parts]),
            np.concatenate([p.lat for p in parts]),
            np.concatenate([p.lon for p in parts]),
            np.concatenate([p.category.astype(object) for p in parts]).astype(str),
            np.concatenate([p.ids for p in parts if p.ids is not None]) if with_ids else None,
        )

    # -- access -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.t)

    def __repr__(self) -> str:
        if not len(self):
            return "Events(0)"
        return f"Events({len(self)}, {from_days(self.t[0]).date()} .. {from_days(self.t[-1]).date()})"

    @property
    def start(self) -> float:
        """Time of the first event (days); NaN when empty."""
        return float(self.t[0]) if len(self) else float("nan")

    @property
    def end(self) -> float:
        """Time of the last event (days); NaN when empty."""
        return float(self.t[-1]) if len(self) else float("nan")

    def categories(self) -> list[str]:
        return sorted(set(self.category.tolist()))

    # -- selection ----------------------------------------------------------------------------

    def select(self, mask: ArrayLike) -> Events:
        """The events where ``mask`` is true (or at the given integer indices), keeping time order."""
        m = np.asarray(mask)
        if m.dtype == np.bool_:
            if m.shape != self.t.shape:
                raise ValueError(f"events: mask of shape {m.shape} for {len(self)} events")
            idx: Any = m
        else:
            idx = np.sort(m.astype(np.intp))
        return self._take(idx)

    def _take(self, idx: Any) -> Events:
        return Events(
            self.t[idx],
            self.lat[idx],
            self.lon[idx],
            self.category[idx],
            None if self.ids is None else self.ids[idx],
            _sorted=True,
            _xy={p: (x[idx], y[idx]) for p, (x, y) in self._xy.items()},
        )

    def between(self, t0: float, t1: float) -> Events:
        """Events with ``t0 <= t < t1`` (a half-open window, in days)."""
        i0, i1 = np.searchsorted(self.t, [t0, t1], side="left")
        return self._take(slice(int(i0), int(i1)))

    def before(self, t: float) -> Events:
        """Events strictly before ``t``: the history a forecast made at ``t`` may use."""
        return self._take(slice(0, int(np.searchsorted(self.t, t, side="left"))))

    def of_category(self, codes: str | Iterable[str]) -> Events:
        wanted = [codes] if isinstance(codes, str) else list(codes)
        return self.select(np.isin(self.category, wanted))

    # -- geometry -----------------------------------------------------------------------------

    def project(self, projection: LocalProjection) -> tuple[FloatArray, FloatArray]:
        """Planar (x, y) metres of every event in ``projection`` (cached per projection)."""
        cached = self._xy.get(projection)
        if cached is None:
            cached = projection.forward(self.lat, self.lon)
            for arr in cached:
                arr.flags.writeable = False
            self._xy[projection] = cached
        return cached
