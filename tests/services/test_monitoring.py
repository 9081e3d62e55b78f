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


def _bulk(world: World, unit: str, category: str, days: list[date], *, lat: float = 33.58, lon: float = -7.60,
          spread: float = 0.02, tag: str = "") -> None:
    import random

    rng = random.Random(f"{unit}{category}{tag}")
    rows = []
    for i, d in enumerate(days):
        y, x = lat + rng.uniform(-spread, spread), lon + rng.uniform(-spread, spread)
        rows.append(Row(i + 2, {"offence_category": category, "occurred_from": _at(d, rng.randrange(0, 24)),
                                "coordinates": f"{y:.5f}, {x:.5f}", "external_id": f"{tag}{unit}{category}{i}"}))
    report = world.svc.imports.import_rows(Actor.system(), "Incident", rows, unit=unit)
    assert not report.errors, report.errors[:3]


def test_spike_alert_reaches_the_chief_with_its_chart(world: World) -> None:
    import random

    svc = world.svc
    as_of = today_local() - timedelta(days=1)
    rng = random.Random(5)
    # two years of about 4 burglaries a week at station A, then 30 in the last week
    history = [as_of - timedelta(days=d) for d in range(7, 730) if rng.random() < 4 / 7]
    last_week = [as_of - timedelta(days=rng.randrange(0, 7)) for _ in range(30)]
    _bulk(world, "STA", "burglary", history + last_week)
    # a steady series at station B: no alert
    _bulk(world, "STB", "theft", [as_of - timedelta(days=d) for d in range(0, 730) if rng.random() < 4 / 7],
          lat=34.02, lon=-6.84)
    created = svc.monitoring.scan_alerts(Actor.system(), as_of=as_of)
    where = {(a["unit"]["code"], a["category"]) for a in created}
    assert ("STA", "group:property") in where  # and its ancestors PROVA, REGA
    assert not any(code == "STB" for code, _ in where)
    again = svc.monitoring.scan_alerts(Actor.system(), as_of=as_of)
    assert again == []  # one alert per unit, group and week
    chief = world.actor("REGA", "unit_chief")
    seen = svc.monitoring.alerts(chief)
    assert {a["unit"]["code"] for a in seen} <= {"REGA", "PROVA", "STA"} and seen
    one = svc.monitoring.alert(chief, seen[0]["id"])
    assert one["observed"] >= 30 and one["threshold"] < one["observed"]
    assert len(one["chart"]["weeks"]) == 52 and one["chart"]["observed"][-1] == one["observed"]
    # the inbox of the region's chief holds it; region B's chief neither sees it nor can open it
    items, unread = svc.inbox.list(chief, limit=20)
    kinds = [n.params["unit"] for n in items if n.kind == "crime_alert"]
    assert {"REGA", "PROVA", "STA"} <= set(kinds) and len(kinds) == len(set(kinds))  # its units and below
    hq_items, _ = svc.inbox.list(world.actor("HQ", "unit_chief"), limit=20)
    assert not any(n.kind == "crime_alert" for n in hq_items)  # national units are not flooded
    other = world.actor("REGB", "unit_chief")
    assert svc.monitoring.alerts(other) == []
    with pytest.raises(NotFound):
        svc.monitoring.alert(other, seen[0]["id"])
    with pytest.raises(ValidationFailed):
        svc.monitoring.scan_alerts(Actor.system(), as_of=today_local())


def test_hotspots_find_the_planted_cluster(world: World) -> None:
    svc = world.svc
    end = today_local() - timedelta(days=1)
    days = [end - timedelta(days=d % 60) for d in range(400)]
    _bulk(world, "STA", "theft", days, lat=33.58, lon=-7.60, spread=0.08, tag="bg")
    _bulk(world, "STA", "theft", days[:150], lat=33.595, lon=-7.615, spread=0.0015, tag="hot")
    hq = world.actor("HQ", "analyst")
    for method in ("h3", "square"):
        fc = svc.monitoring.hotspots(hq, unit=None, start=end - timedelta(days=90), end=end, method=method)
        assert fc["meta"]["events"] == 550
        top = max(fc["features"], key=lambda f: f["properties"]["count"])
        assert top["properties"]["hot"] == "hot99", method
        assert sum(f["properties"]["count"] for f in fc["features"]) == 550
    empty = svc.monitoring.hotspots(world.actor("REGB", "analyst"), unit=None, start=end - timedelta(days=90),
                                    end=end)
    assert empty["features"] == [] and empty["meta"]["events"] == 0
    with pytest.raises(ValidationFailed) as e:
        svc.monitoring.hotspots(hq, unit=None, start=None, end=None, method="hexbin")
    assert e.value.errors[0].field == "method"


def test_forecast_carries_its_measured_accuracy_or_says_not_enough_data(world: World) -> None:
    import random

    svc = world.svc
    end = today_local() - timedelta(days=1)
    rng = random.Random(9)
    spread_days = [end - timedelta(days=rng.randrange(0, 200)) for _ in range(500)]
    _bulk(world, "STA", "burglary", spread_days, lat=33.58, lon=-7.60, spread=0.05, tag="bg")
    _bulk(world, "STA", "burglary", spread_days[:300], lat=33.60, lon=-7.62, spread=0.002, tag="hot")
    chief = world.actor("REGA", "unit_chief")
    fc = svc.monitoring.forecast(chief, unit="STA", model="auto", windows=6)
    meta = fc["meta"]
    assert meta["not_enough_data"] is None, meta
    acc = meta["accuracy"]
    assert acc["windows"] == 6 and acc["pai_1"] > 1 and acc["baseline"]["model"] in ("last_period", "ewma", "kde")
    assert {m["model"] for m in meta["models_compared"]} >= {"last_period", "ewma", "kde"}
    assert fc["features"] and fc["features"][0]["properties"]["rank"] == 1
    assert sum(f["properties"]["selected_1pct"] for f in fc["features"]) == meta["cells_1pct"]
    # the top cell is where the planted cluster is
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    lat = sum(p[1] for p in ring[:4]) / 4
    lon = sum(p[0] for p in ring[:4]) / 4
    assert abs(lat - 33.60) < 0.01 and abs(lon + 7.62) < 0.01
    # station B has no history: an explicit answer, no cells
    other = svc.monitoring.forecast(world.actor("REGB", "unit_chief"), unit=None)
    assert other["features"] == [] and "at least" in other["meta"]["not_enough_data"]
    with pytest.raises(ValidationFailed) as e:
        svc.monitoring.forecast(chief, unit="STA", model="crystal_ball")
    assert e.value.errors[0].field == "model"


def test_density_map_and_near_repeat_table(world: World) -> None:
    svc = world.svc
    end = today_local() - timedelta(days=1)
    days = [end - timedelta(days=d % 300) for d in range(300)]
    _bulk(world, "STA", "burglary", days, lat=33.58, lon=-7.60, spread=0.05, tag="bg")
    # a dense spot, and near repeats: 25 places each burgled twice, 2 days apart
    _bulk(world, "STA", "burglary", days[:40], lat=33.60, lon=-7.63, spread=0.001, tag="spot")
    for k in range(5):
        first = end - timedelta(days=11 * k + 3)
        _bulk(world, "STA", "burglary", [first, first - timedelta(days=2)], lat=33.54 + 0.011 * k,
              lon=-7.66 + 0.013 * k, spread=0.0002, tag=f"nr{k}")
    hq = world.actor("HQ", "analyst")
    kde = svc.monitoring.hotspots(hq, unit=None, start=end - timedelta(days=364), end=end, method="kde")
    densest = max(kde["features"], key=lambda f: f["properties"]["density"])
    ring = densest["geometry"]["coordinates"][0]
    assert abs(sum(p[1] for p in ring[:4]) / 4 - 33.60) < 0.01 and kde["meta"]["bandwidth_m"] == 500.0
    res = svc.monitoring.near_repeat(hq, unit=None, start=end - timedelta(days=364), end=end, category="burglary")
    table = res["table"]
    assert res["meta"]["events"] == 350 and table["n_events"] == 350
    assert table["ratio"][0][0] > 2 and table["p_value"][0][0] <= 0.05
    empty = svc.monitoring.near_repeat(world.actor("REGB", "analyst"), unit=None, start=None, end=None)
    assert empty["table"] is None and "at least" in empty["meta"]["not_enough_data"]
    with pytest.raises(ValidationFailed) as e:
        svc.monitoring.near_repeat(hq, unit=None, start=None, end=None, permutations=7)
    assert e.value.errors[0].field == "permutations"


def test_reimport_with_changes_replaces_the_facts(world: World) -> None:
    svc = world.svc
    day = today_local() - timedelta(days=2)
    rows = [Row(2 + i, {"offence_category": "theft", "occurred_from": _at(day), "external_id": f"R{i}"})
            for i in range(3)]
    assert svc.imports.import_rows(Actor.system(), "Incident", rows, unit="STA").created == 3
    rows[1] = Row(3, {"offence_category": "robbery", "occurred_from": _at(day), "external_id": "R1"})
    report = svc.imports.import_rows(Actor.system(), "Incident", rows, unit="STA")
    assert (report.updated, report.unchanged) == (1, 2)
    with svc.db.read() as s:
        cats = sorted(s.scalars(select(IncidentFact.category)))
    assert cats == ["robbery", "theft", "theft"]
