"""Statistics and CompStat over incidents: facts kept in step with records on every write path,
need-to-know applied to every count, roll-up through the unit tree, CompStat windows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from amane.model.errors import ValidationFailed
from amane.model.types import LOCAL_TZ
from amane.services.context import Actor
from amane.services.errors import Forbidden, NotFound
from amane.services.facts import rebuild_facts
from amane.services.imports import Row
from amane.services.monitoring import today_local
from amane.store.tables import IncidentFact
from tests.conftest import World


def _at(d: date, hour: int = 12) -> str:
    return datetime(d.year, d.month, d.day, hour, tzinfo=LOCAL_TZ).isoformat()


def _incident(world: World, unit: str, category: str, when: date, *, hour: int = 12, classification: str = "",
              coords: str | None = "33.58, -7.60") -> str:
    data = {"title": f"{category} {when}", "offence_category": category, "occurred_from": _at(when, hour)}
    if coords:
        data["coordinates"] = coords
    view = world.svc.entities.create(Actor.system(), "Incident", data, owner_unit=unit,
                                     classification=classification or None)
    return view.id


def _facts(world: World) -> int:
    with world.svc.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(IncidentFact)) or 0)


def test_facts_follow_create_update_delete_and_import(world: World) -> None:
    svc = world.svc
    today = today_local()
    eid = _incident(world, "STA", "burglary", today - timedelta(days=2))
    assert _facts(world) == 1
    view = svc.entities.get(Actor.system(), eid)
    svc.entities.update(Actor.system(), eid, {"offence_category": "robbery"}, expected_version=view.version,
                        partial=True)
    with svc.db.read() as s:
        assert s.scalar(select(IncidentFact.category).where(IncidentFact.entity_id == eid)) == "robbery"
        assert s.scalar(select(IncidentFact.region).where(IncidentFact.entity_id == eid)) == "04"  # unit's region
    svc.entities.delete(Actor.system(), eid, expected_version=view.version + 1, reason="entered twice")
    assert _facts(world) == 0
    rows = [Row(i + 2, {"offence_category": "theft", "occurred_from": _at(today - timedelta(days=i + 1)),
                        "coordinates": "34.02, -6.84", "external_id": f"X{i}"}) for i in range(5)]
    report = svc.imports.import_rows(Actor.system(), "Incident", rows, unit="STB")
    assert report.created == 5 and not report.errors
    assert _facts(world) == 5
    with svc.db.write() as s:
        assert rebuild_facts(s) == 5
    assert _facts(world) == 5


def test_stats_count_only_what_the_user_may_see(world: World) -> None:
    svc = world.svc
    day = today_local() - timedelta(days=3)
    for _ in range(3):
        _incident(world, "STA", "burglary", day)
    _incident(world, "STB", "burglary", day)
    _incident(world, "STA", "homicide", day, classification="secret")
    national = svc.monitoring.stats(world.actor("HQ", "analyst"), by=["category"])
    assert national.total == 5
    region_a = svc.monitoring.stats(world.actor("REGA", "analyst"), by=["category"])
    assert region_a.total == 4
    low = svc.monitoring.stats(world.actor("REGA", "analyst", "restricted"), by=["category"])
    assert low.total == 3 and {r["category"] for r in low.rows} == {"burglary"}
    # a unit outside the scope answers like an unknown unit
    with pytest.raises(NotFound):
        svc.monitoring.stats(world.actor("REGA", "analyst"), by=["category"], unit="STB")
    with pytest.raises(NotFound):
        svc.monitoring.stats(world.actor("REGA", "analyst"), by=["category"], unit="NOPE")
    with pytest.raises(Forbidden):
        svc.monitoring.stats(world.actor("REGA", "officer"), by=["category"])
    # CompStat and arrays obey the same rule
    comp = svc.monitoring.compstat(world.actor("REGA", "analyst", "restricted"), unit=None)
    assert comp.total.values["d7"] == 3
    assert len(svc.monitoring.events(world.actor("REGB", "unit_chief"), unit=None)) == 1


def test_stats_roll_up_rates_and_time_dimensions(world: World) -> None:
    svc = world.svc
    day = today_local() - timedelta(days=1)
    _incident(world, "STA", "theft", day, hour=23)
    _incident(world, "PROVA", "theft", day, hour=23)
    _incident(world, "STB", "assault", day, hour=8)
    _incident(world, "STB", "assault", day, hour=8, coords=None)
    hq = world.actor("HQ", "analyst")
    by_unit = svc.monitoring.stats(hq, by=["unit"])
    assert {r["unit"]: r["count"] for r in by_unit.rows} == {"REGA": 2, "REGB": 2}
    inside = svc.monitoring.stats(hq, by=["unit"], unit="REGA")
    assert {r["unit"]: r["count"] for r in inside.rows} == {"PROVA": 2}
    by_region = svc.monitoring.stats(hq, by=["region"])
    row = next(r for r in by_region.rows if r["region"] == "06")
    assert row["count"] == 2 and row["population"] > 1_000_000
    assert row["rate_per_100k"] == pytest.approx(2 * 100_000 / row["population"], abs=0.01)
    hours = svc.monitoring.stats(hq, by=["hour", "category"])
    assert {(r["hour"], r["category"]): r["count"] for r in hours.rows} == {(23, "theft"): 2, (8, "assault"): 2}
    arrays = svc.monitoring.events(hq, unit=None)
    assert len(arrays) == 3 and arrays.without_coordinates == 1


def test_compstat_windows_and_changes(world: World) -> None:
    svc = world.svc
    as_of = date(2026, 3, 31)
    last_year = date(2025, 3, 31)
    for _ in range(4):
        _incident(world, "STA", "burglary", as_of - timedelta(days=1))
    for _ in range(2):
        _incident(world, "STA", "burglary", last_year - timedelta(days=2))
    _incident(world, "STA", "burglary", as_of - timedelta(days=20))  # in 28 days, not in 7
    _incident(world, "STA", "burglary", date(2026, 1, 2))  # year to date only
    _incident(world, "STA", "burglary", as_of + timedelta(days=1))  # after as_of: not counted
    comp = svc.monitoring.compstat(world.actor("REGA", "unit_chief"), unit="REGA", as_of=as_of)
    row = next(r for r in comp.categories if r.key == "burglary").as_dict()
    assert (row["d7"], row["d7_prev"], row["d7_change_pct"]) == (4, 2, 100.0)
    assert (row["d28"], row["ytd"], row["ytd_prev"]) == (5, 6, 2)
    group = next(r for r in comp.groups if r.key == "property")
    assert group.values["d28"] == 5
    assert comp.total.values["d7"] == 4


def test_bad_input_names_the_field(world: World) -> None:
    hq = world.actor("HQ", "analyst")
    with pytest.raises(ValidationFailed) as e:
        world.svc.monitoring.stats(hq, by=["colour"])
    assert e.value.errors[0].field == "by"
    with pytest.raises(ValidationFailed) as e:
        world.svc.monitoring.stats(hq, by=["category"], category="arson-ish")
    assert e.value.errors[0].field == "category"
    with pytest.raises(ValidationFailed) as e:
        world.svc.monitoring.stats(hq, by=["category"], start=date(2026, 5, 2), end=date(2026, 5, 1))
    assert e.value.errors[0].rule == "period.order"
    with pytest.raises(ValidationFailed) as e:
        world.svc.monitoring.compstat(hq, unit=None, as_of=today_local() + timedelta(days=3))
    assert e.value.errors[0].field == "as_of"
