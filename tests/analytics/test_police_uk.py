"""The police-uk mapping on real data.police.uk files (West Yorkshire Police, July 2016-2018, as
shipped in the crime-sim-toolkit package): non-offences skipped and counted, rows without a
location rejected with their line, the rest mapped to the taxonomy; and a hotspot map of them."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np

from amane.analytics.hotspots import getis_ord_gi_star_h3, h3_counts
from amane.analytics.mapping import load_mapping, read_events, read_incidents


def _files() -> list[Path]:
    spec = importlib.util.find_spec("crime_sim_toolkit")
    assert spec is not None and spec.submodule_search_locations, "make install brings crime-sim-toolkit"
    base = Path(next(iter(spec.submodule_search_locations))) / "tests" / "testing_data" / "test_policedata"
    files = sorted(base.glob("*/*-west-yorkshire-street.csv"))
    assert len(files) == 3
    return files


def test_police_uk_mapping_on_west_yorkshire() -> None:
    mapping = load_mapping("police-uk")
    result = read_incidents(_files()[-1], mapping)  # July 2018
    assert result.lines == 31_635
    assert result.ignored == 5_442 + 667  # anti-social behaviour and "other crime"
    assert len(result.rows) + len(result.errors) // 2 + result.ignored == result.lines
    assert {(e.field, e.rule) for e in result.errors} == {("latitude", "missing"), ("longitude", "missing")}
    cats = Counter(r.category for r in result.rows)
    assert cats.most_common(1)[0][0] == "assault" and cats["burglary"] > 1_500
    first = result.rows[0]
    assert first.external_id.startswith("170c4194") and first.occurred_at.isoformat() == "2018-06-30T23:00:00+00:00"
    assert first.extra["LSOA name"] == "Barnsley 003A"


def test_hotspots_of_a_real_month() -> None:
    events, errors = read_events(_files(), load_mapping("police-uk"))
    assert len(events) > 60_000 and errors
    july_2018 = events.between(events.t.max() - 1, events.t.max() + 1)
    counts = h3_counts(july_2018.lat, july_2018.lon, 8)
    assert sum(counts.values()) == len(july_2018)
    gi = getis_ord_gi_star_h3(counts, k=1)
    hot = [c for c, b in zip(gi.cells, gi.bins, strict=True) if b == 3]
    # the hottest cells hold a far larger share of the month's crimes than of the area
    share = sum(counts.get(c, 0) for c in hot) / len(july_2018)
    assert hot and share > 5 * len(hot) / len(gi.cells)
    assert np.isfinite(gi.z).all()


def test_ignore_must_not_overlap_categories() -> None:
    import pytest

    from amane.analytics.mapping import MappingError, parse_mapping

    raw = {"name": "x", "description": "d", "source": "s", "timezone": "Europe/London",
           "columns": {"date": "Month", "latitude": "Lat", "longitude": "Lon", "category": "Type"},
           "categories": {"Burglary": "burglary"}, "ignore": ["Burglary"]}
    with pytest.raises(MappingError, match="ignore: Burglary is also in categories"):
        parse_mapping(raw)
    raw["ignore"] = "Burglary"
    with pytest.raises(MappingError, match="ignore must be a list"):
        parse_mapping(raw)
