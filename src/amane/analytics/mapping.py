"""Import mappings: how the columns of a foreign incident CSV become Amane incidents.

A mapping is a small YAML file. Packaged ones live in ``amane/analytics/mappings/<name>.yaml`` and
are named by their bare name (``toronto-mci``); any other file is given by its path. The format::

    name: toronto-mci                 # lower-case letters, digits, - and _
    description: ...                  # what the data is
    source: ...                       # where it comes from (publisher, URL, licence)
    timezone: America/Toronto         # IANA zone of the local dates and hours in the file
    delimiter: ","                    # optional, default ","
    columns:
      external_id: id                 # optional: the source's incident id (else derived, see below)
      date: {column: occurred, format: "%Y/%m/%d", first_chars: 10}
                                      # strptime format, or "iso" (the default when only a column
                                      # name is given); first_chars keeps only a prefix of the value;
                                      # a value with its own UTC offset is taken as is, a naive one is
                                      # local time in ``timezone``
      hour: occurrencehour            # optional: local hour 0-23, replaces the time of day
      latitude: Lat
      longitude: Long
      category: MCI
      title: summary                  # optional
    categories:                       # every foreign value -> an offence code of offences.yaml
      Assault: assault
    ignore: [Anti-social behaviour]   # optional: foreign values that are not offences; such rows are
                                      # skipped and counted, never imported nor reported as errors
    bounds: [min_lon, min_lat, max_lon, max_lat]   # optional, default: Morocco, southern provinces included
    keep: [premises_type, Neighbourhood]            # optional: extra columns kept as text

Reading never guesses: every rejected row comes back as a :class:`RowError` naming the line, the
field, the rule and the value (missing or non-numeric coordinates, coordinates outside the bounds,
zero coordinates, which are what geocoders write when they failed, unparseable dates, dates after
``now``, unknown categories). A mapping that is itself wrong, or a file whose header lacks a mapped
column, raises :class:`MappingError` before any row is read.

Derived ids. When the source has no incident id (the Toronto MCI data has none), each row gets
``<mapping name>:<16 hex digits>``: a BLAKE2b hash of the row's raw fields, followed by ``-2``,
``-3``... for the second, third identical row of the same file. The id is thus stable when the file is
re-read, re-sorted or extended with other rows (so importing it twice creates nothing new), and two
identical rows, which in these data sets are two offences of one event, stay two records.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import yaml

from amane.analytics.events import SECONDS_PER_DAY, Events
from amane.model.errors import AmaneError

#: Morocco with its southern provinces, (min_lon, min_lat, max_lon, max_lat)
MOROCCO_BOUNDS = (-17.2, 20.7, -0.9, 36.0)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TOP_KEYS = {"name", "description", "source", "timezone", "delimiter", "columns", "categories", "ignore", "bounds",
             "keep"}
_COLUMN_KEYS = {"external_id", "date", "hour", "latitude", "longitude", "category", "title"}
_REQUIRED_COLUMNS = ("date", "latitude", "longitude", "category")
_DATE_KEYS = {"column", "format", "first_chars"}


class MappingError(AmaneError):
    """The mapping file is invalid, or the CSV does not have the columns it names."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class DateColumn:
    column: str
    #: strptime format, or "iso" for :meth:`datetime.fromisoformat`
    format: str = "iso"
    #: keep only the first N characters of the value (e.g. the date part of a timestamp)
    first_chars: int | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    source: str
    timezone: str
    date: DateColumn
    latitude: str
    longitude: str
    category: str
    categories: dict[str, str]
    bounds: tuple[float, float, float, float] = MOROCCO_BOUNDS
    hour: str | None = None
    external_id: str | None = None
    title: str | None = None
    keep: tuple[str, ...] = ()
    delimiter: str = ","
    path: str | None = None
    #: Foreign category values that are not offences (skipped, counted in ``ReadResult.ignored``).
    ignore: frozenset[str] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def columns_used(self) -> dict[str, str]:
        """Mapping field (or ``keep``) -> CSV column, for the header check."""
        out = {"date": self.date.column, "latitude": self.latitude, "longitude": self.longitude}
        out["category"] = self.category
        for key in ("hour", "external_id", "title"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for col in self.keep:
            out[f"keep {col}"] = col
        return out


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: file ``line`` (the header is line 1), mapping ``field``, short ``rule``, message."""

    line: int
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class MappedIncident:
    line: int
    external_id: str
    occurred_at: datetime  # aware, UTC
    latitude: float
    longitude: float
    category: str  # offence code
    title: str | None
    extra: dict[str, str]


@dataclass
class ReadResult:
    mapping: Mapping
    rows: list[MappedIncident] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: data rows read (accepted + rejected + ignored)
    lines: int = 0
    #: rows skipped because their category is in the mapping's ``ignore`` list
    ignored: int = 0

    def events(self) -> Events:
        """The accepted rows as columnar :class:`Events`."""
        if not self.rows:
            return Events.empty()
        return Events.from_datetimes(
            [r.occurred_at for r in self.rows],
            [r.latitude for r in self.rows],
            [r.longitude for r in self.rows],
            [r.category for r in self.rows],
            [r.external_id for r in self.rows],
        )


# -- loading ---------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last)."""


def _mapping_constructor(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return dict(loader.construct_pairs(node))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_constructor)


def _packaged() -> Traversable:
    return resources.files("amane.analytics").joinpath("mappings")


def packaged_mappings() -> list[str]:
    """Names of the mappings shipped with Amane."""
    return sorted(p.name[: -len(".yaml")] for p in _packaged().iterdir() if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A packaged mapping by bare name (``toronto-mci``) or a user mapping by path (``x.yaml``)."""
    text_name = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text_name or "\\" in text_name or text_name.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise MappingError(f"mapping file {path} does not exist")
        source: Traversable = path
        where = str(path)
        expected_name = None
    else:
        source = _packaged().joinpath(f"{text_name}.yaml")
        if not _NAME.match(text_name) or not source.is_file():
            raise MappingError(f"unknown mapping {text_name!r} (packaged: {', '.join(packaged_mappings())})")
        where = f"mapping {text_name}"
        expected_name = text_name
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise MappingError(f"{where}: not valid YAML: {exc}") from None
    mapping = parse_mapping(raw, where=where)
    if expected_name is not None and mapping.name != expected_name:
        raise MappingError(f"{where}: name is {mapping.name!r}, expected the file name {expected_name!r}")
    if isinstance(source, Path):
        mapping = replace(mapping, path=str(source))
    return mapping


def _offence_codes() -> set[str]:
    from amane.model.schema import load_vocabulary

    return set(load_vocabulary("offences").values)


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = True, default: str = "") -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise MappingError(f"{where}: {key} is required")
        return default
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where}: {key} must be non-empty text")
    return value.strip()


def _column(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where}: columns.{key} must be a column name (non-empty text)")
    return value


def parse_mapping(raw: Any, *, where: str = "mapping") -> Mapping:
    """Validate a mapping read from YAML; every problem names the key and the rule."""
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected a YAML mapping at the top level")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (allowed: {', '.join(sorted(_TOP_KEYS))})"
        )
    name = _text(raw, "name", where)
    if not _NAME.match(name):
        raise MappingError(f"{where}: name {name!r} must be lower-case letters, digits, '-' or '_'")
    where = f"{where} ({name})" if name not in where else where
    description = _text(raw, "description", where)
    source = _text(raw, "source", where)
    tz = _text(raw, "timezone", where)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: timezone {tz!r} is not an IANA time zone (e.g. Africa/Casablanca)") from None
    delimiter = _text(raw, "delimiter", where, required=False, default=",") if "delimiter" in raw else ","
    if len(delimiter) != 1:
        raise MappingError(f"{where}: delimiter must be one character")

    cols = raw.get("columns")
    if not isinstance(cols, dict):
        raise MappingError(f"{where}: columns is required and must be a mapping of field: column")
    unknown = set(cols) - _COLUMN_KEYS
    if unknown:
        raise MappingError(
            f"{where}: unknown field(s) in columns: {', '.join(sorted(map(str, unknown)))} "
            f"(allowed: {', '.join(sorted(_COLUMN_KEYS))})"
        )
    for key in _REQUIRED_COLUMNS:
        if cols.get(key) is None:
            raise MappingError(f"{where}: columns.{key} is required")
    date = _date_column(cols["date"], where)
    optional = {
        k: _column(cols[k], where, k) if cols.get(k) is not None else None for k in ("hour", "external_id", "title")
    }

    cats = raw.get("categories")
    if not isinstance(cats, dict) or not cats:
        raise MappingError(f"{where}: categories is required: a mapping of foreign value: offence code")
    codes = _offence_codes()
    categories: dict[str, str] = {}
    for foreign, code in cats.items():
        if not isinstance(foreign, str | int) or str(foreign).strip() == "":
            raise MappingError(f"{where}: categories: {foreign!r} is not a foreign category value")
        if not isinstance(code, str) or code not in codes:
            raise MappingError(
                f"{where}: categories.{foreign}: {code!r} is not an offence code of offences.yaml "
                f"(e.g. {', '.join(sorted(codes)[:5])}...)"
            )
        categories[str(foreign).strip()] = code

    ignore_raw = raw.get("ignore") or []
    if not isinstance(ignore_raw, list) or not all(isinstance(v, str) and v.strip() for v in ignore_raw):
        raise MappingError(f"{where}: ignore must be a list of foreign category values")
    ignore = frozenset(v.strip() for v in ignore_raw)
    both = sorted(ignore & set(categories))
    if both:
        raise MappingError(f"{where}: ignore: {', '.join(both)} is also in categories (a value is one or the other)")

    bounds = MOROCCO_BOUNDS
    if raw.get("bounds") is not None:
        b = raw["bounds"]
        if (
            not isinstance(b, list)
            or len(b) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in b)
        ):
            raise MappingError(f"{where}: bounds must be [min_lon, min_lat, max_lon, max_lat] in degrees")
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in b)
        if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
            raise MappingError(
                f"{where}: bounds must satisfy -180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90"
            )
        bounds = (min_lon, min_lat, max_lon, max_lat)

    keep_raw = raw.get("keep") or []
    if not isinstance(keep_raw, list) or not all(isinstance(k, str) and k.strip() for k in keep_raw):
        raise MappingError(f"{where}: keep must be a list of column names")

    return Mapping(
        name=name,
        description=description,
        source=source,
        timezone=tz,
        date=date,
        latitude=_column(cols["latitude"], where, "latitude"),
        longitude=_column(cols["longitude"], where, "longitude"),
        category=_column(cols["category"], where, "category"),
        categories=categories,
        bounds=bounds,
        hour=optional["hour"],
        external_id=optional["external_id"],
        title=optional["title"],
        keep=tuple(keep_raw),
        delimiter=delimiter,
        ignore=ignore,
    )


def _date_column(value: Any, where: str) -> DateColumn:
    if isinstance(value, str):
        return DateColumn(_column(value, where, "date"))
    if not isinstance(value, dict):
        raise MappingError(f"{where}: columns.date must be a column name or {{column, format, first_chars}}")
    unknown = set(value) - _DATE_KEYS
    if unknown:
        raise MappingError(f"{where}: columns.date: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    column = _column(value.get("column"), where, "date.column")
    fmt = value.get("format", "iso")
    if not isinstance(fmt, str) or not fmt:
        raise MappingError(f"{where}: columns.date.format must be a strptime format or 'iso'")
    if fmt != "iso" and "%" not in fmt:
        raise MappingError(f"{where}: columns.date.format {fmt!r} has no strptime directive (e.g. %Y-%m-%d)")
    first = value.get("first_chars")
    if first is not None and (not isinstance(first, int) or isinstance(first, bool) or first < 1):
        raise MappingError(f"{where}: columns.date.first_chars must be a positive whole number")
    return DateColumn(column, fmt, first)


# -- reading -----------------------------------------------------------------------------------------


class _Columns:
    """Accepted rows as growing columns (the fast path) and optionally as objects."""

    def __init__(self, want_rows: bool) -> None:
        self.want_rows = want_rows
        self.t: list[float] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.cat: list[str] = []
        self.ids: list[str] = []
        self.rows: list[MappedIncident] = []
        self.ignored = 0


def _read(
    path: str | Path, mapping: Mapping, now: datetime | None, want_rows: bool
) -> tuple[_Columns, list[RowError], int]:
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now_days = now.timestamp() / SECONDS_PER_DAY
    zone = mapping.zone
    min_lon, min_lat, max_lon, max_lat = mapping.bounds
    codes = mapping.categories
    out = _Columns(want_rows)
    errors: list[RowError] = []
    lines = 0
    date_cache: dict[str, datetime | RowError] = {}
    when_cache: dict[tuple[str, str], tuple[float, datetime] | RowError] = {}
    seen_ids: dict[str, int] = {}
    fmt = mapping.date.format
    first = mapping.date.first_chars

    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        header = next(reader, None)
        if header is None:
            raise MappingError(f"{path}: the file is empty (no header line)")
        header = [h.strip() for h in header]
        pos = {name: i for i, name in enumerate(header)}
        for fieldname, col in mapping.columns_used().items():
            if col not in pos:
                raise MappingError(
                    f"{path}: column {col!r} ({'columns.' + fieldname if not fieldname.startswith('keep') else 'keep'} "
                    f"of mapping {mapping.name}) is not in the header"
                )
        i_date, i_lat, i_lon, i_cat = (
            pos[mapping.date.column],
            pos[mapping.latitude],
            pos[mapping.longitude],
            pos[mapping.category],
        )
        i_hour = pos[mapping.hour] if mapping.hour else None
        i_id = pos[mapping.external_id] if mapping.external_id else None
        i_title = pos[mapping.title] if mapping.title else None
        keep = [(c, pos[c]) for c in mapping.keep]
        width = len(header)

        for row in reader:
            line = reader.line_num
            if len(row) != width:
                if not any(v.strip() for v in row):
                    continue  # blank line
                lines += 1
                errors.append(
                    RowError(
                        line, "row", "column count", f"line {line}: {len(row)} fields where the header has {width}"
                    )
                )
                continue
            lines += 1
            before = len(errors)

            # category
            raw_cat = row[i_cat].strip()
            if raw_cat in mapping.ignore:
                out.ignored += 1
                continue
            code = codes.get(raw_cat)
            if code is None:
                if raw_cat:
                    errors.append(
                        RowError(
                            line,
                            "category",
                            "unknown category",
                            f"line {line}: unknown category {raw_cat!r} (not in mapping {mapping.name})",
                        )
                    )
                else:
                    errors.append(
                        RowError(
                            line, "category", "missing", f"line {line}: category (column {mapping.category}) is empty"
                        )
                    )

            # coordinates
            lat = _coordinate(row[i_lat], line, "latitude", mapping.latitude, errors)
            lon = _coordinate(row[i_lon], line, "longitude", mapping.longitude, errors)
            if lat is not None and lon is not None:
                if lat == 0.0 and lon == 0.0:
                    errors.append(
                        RowError(
                            line, "latitude", "missing", f"line {line}: coordinates are 0, 0 (no location recorded)"
                        )
                    )
                elif not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
                    errors.append(
                        RowError(
                            line,
                            "latitude" if not min_lat <= lat <= max_lat else "longitude",
                            "outside bounds",
                            f"line {line}: ({lat}, {lon}) is outside the bounds {list(mapping.bounds)} "
                            f"of mapping {mapping.name}",
                        )
                    )

            # date and hour
            raw_date = row[i_date].strip()
            if first is not None:
                raw_date = raw_date[:first]
            raw_hour = row[i_hour].strip() if i_hour is not None else ""
            key = (raw_date, raw_hour)
            parsed = when_cache.get(key)
            if parsed is None:
                day = date_cache.get(raw_date)
                if day is None:
                    day = date_cache[raw_date] = _parse_date(raw_date, fmt, mapping)
                parsed = when_cache[key] = _localise(day, raw_hour, zone, mapping)
            days = 0.0
            when: datetime | None = None
            if isinstance(parsed, RowError):
                errors.append(RowError(line, parsed.field, parsed.rule, f"line {line}: {parsed.message}"))
            else:
                days, when = parsed
                if days > now_days:
                    errors.append(
                        RowError(
                            line,
                            "date",
                            "in the future",
                            f"line {line}: {when.isoformat()} is after now ({now.isoformat()})",
                        )
                    )

            # id
            if i_id is not None:
                ext = row[i_id].strip()
                if not ext:
                    errors.append(
                        RowError(
                            line,
                            "external_id",
                            "missing",
                            f"line {line}: external id (column {mapping.external_id}) is empty",
                        )
                    )
            else:
                digest = hashlib.blake2b("\x1f".join(row).encode("utf-8"), digest_size=8).hexdigest()
                n = seen_ids.get(digest, 0) + 1
                seen_ids[digest] = n
                ext = f"{mapping.name}:{digest}" if n == 1 else f"{mapping.name}:{digest}-{n}"

            if len(errors) != before:
                continue
            assert lat is not None and lon is not None and code is not None and when is not None
            out.t.append(days)
            out.lat.append(lat)
            out.lon.append(lon)
            out.cat.append(code)
            out.ids.append(ext)
            if want_rows:
                title = row[i_title].strip() or None if i_title is not None else None
                out.rows.append(
                    MappedIncident(line, ext, when, lat, lon, code, title, {c: row[i].strip() for c, i in keep})
                )
    return out, errors, lines


def _coordinate(raw: str, line: int, fieldname: str, column: str, errors: list[RowError]) -> float | None:
    text = raw.strip()
    if not text:
        errors.append(RowError(line, fieldname, "missing", f"line {line}: {fieldname} (column {column}) is empty"))
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors.append(
            RowError(
                line, fieldname, "not a number", f"line {line}: {fieldname} (column {column}) is not a number: {text!r}"
            )
        )
        return None
    return value


def _parse_date(raw_date: str, fmt: str, mapping: Mapping) -> datetime | RowError:
    if not raw_date:
        return RowError(0, "date", "missing", f"date (column {mapping.date.column}) is empty")
    try:
        return datetime.fromisoformat(raw_date) if fmt == "iso" else datetime.strptime(raw_date, fmt)
    except ValueError:
        expected = "an ISO 8601 date" if fmt == "iso" else f"format {fmt}"
        return RowError(
            0, "date", "unparseable", f"date {raw_date!r} (column {mapping.date.column}) does not match {expected}"
        )


def _localise(
    moment: datetime | RowError, raw_hour: str, zone: ZoneInfo, mapping: Mapping
) -> tuple[float, datetime] | RowError:
    """UTC days and datetime of a parsed date with the row's local hour (naive values are local)."""
    if isinstance(moment, RowError):
        return moment
    if mapping.hour is not None:
        if not raw_hour:
            return RowError(0, "hour", "missing", f"hour (column {mapping.hour}) is empty")
        try:
            hour_f = float(raw_hour)
        except ValueError:
            hour_f = math.nan
        if not (hour_f.is_integer() and 0 <= hour_f <= 23):
            return RowError(
                0, "hour", "not an hour", f"hour {raw_hour!r} (column {mapping.hour}) is not a whole hour 0-23"
            )
        moment = moment.replace(hour=int(hour_f), minute=0, second=0, microsecond=0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    utc = moment.astimezone(UTC)
    return utc.timestamp() / SECONDS_PER_DAY, utc


def read_incidents(path: str | Path, mapping: Mapping, *, now: datetime | None = None) -> ReadResult:
    """Read a CSV with ``mapping``: accepted rows as :class:`MappedIncident`, rejected ones as errors."""
    cols, errors, lines = _read(path, mapping, now, want_rows=True)
    return ReadResult(mapping=mapping, rows=cols.rows, errors=errors, lines=lines, ignored=cols.ignored)


def read_events(
    path: str | Path | Sequence[str | Path], mapping: Mapping, *, now: datetime | None = None
) -> tuple[Events, list[RowError]]:
    """The fast, columnar read for analytics: accepted rows as :class:`Events` (ids included).

    Several paths (e.g. a data set split in train and test files) are read in order and concatenated;
    the errors then carry the line numbers of their own file.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    parts: list[Events] = []
    errors: list[RowError] = []
    for p in paths:
        cols, errs, _ = _read(p, mapping, now, want_rows=False)
        errors.extend(errs)
        parts.append(
            Events(
                np.asarray(cols.t),
                np.asarray(cols.lat),
                np.asarray(cols.lon),
                np.asarray(cols.cat, dtype=str),
                np.asarray(cols.ids, dtype=str),
            )
        )
    return (parts[0] if len(parts) == 1 else Events.concat(parts)), errors


def iter_error_summary(errors: Sequence[RowError]) -> Iterator[tuple[str, str, int]]:
    """(field, rule, count) of the errors, most frequent first: what an import report shows."""
    counts: dict[tuple[str, str], int] = {}
    for e in errors:
        counts[(e.field, e.rule)] = counts.get((e.field, e.rule), 0) + 1
    for (fieldname, rule), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        yield fieldname, rule, n
