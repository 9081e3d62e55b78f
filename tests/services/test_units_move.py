"""Moving a unit under another parent by seeding the unit file again: the units below it, need-to-know
and the person-search key index follow in the same transaction (no record stays visible to the old
region, none is lost to the new one); a move under one's own descendant is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from amane.services.context import Actor
from amane.services.errors import NotFound, ValidationFailed
from amane.services.search import PersonQuery
from amane.store.tables import EntityKey, Unit
from tests.conftest import TEST_UNITS


def _moved(code: str, parent: str) -> list[dict[str, Any]]:
    specs = copy.deepcopy(TEST_UNITS)
    for spec in specs:
        if spec["code"] == code:
            spec["parent"] = parent
    return specs


def test_moving_a_province_moves_its_stations_records_and_keys(world: Any) -> None:
    svc = world.svc
    pid = svc.entities.create(Actor.system(), "Person", {"given_name": "Zakaria", "family_name": "Ouazzani"},
                              owner_unit="STA", classification="unclassified").id
    region_a, region_b = world.actor("REGA", "investigator"), world.actor("REGB", "investigator")
    assert svc.entities.get(region_a, pid).id == pid
    with pytest.raises(NotFound):
        svc.entities.get(region_b, pid)

    svc.units.seed(_moved("PROVA", "REGB"))

    with svc.db.read() as s:
        paths = {u.code: (u.path, u.depth) for u in s.scalars(select(Unit))}
        keys = {k.unit_path for k in s.scalars(select(EntityKey).where(EntityKey.entity_id == pid))}
    assert paths["PROVA"][0].startswith(paths["REGB"][0]) and paths["STA"][0].startswith(paths["PROVA"][0])
    assert paths["STA"][1] == paths["REGB"][1] + 2
    assert keys == {paths["STA"][0]}
    with pytest.raises(NotFound):  # the old region no longer sees the station's records
        svc.entities.get(region_a, pid)
    assert svc.entities.get(region_b, pid).id == pid
    assert [h.id for h in svc.persons.search(region_b, PersonQuery("Zakaria Ouazzani"))] == [pid]
    assert svc.persons.search(region_a, PersonQuery("Zakaria Ouazzani")) == []


def test_a_unit_cannot_move_under_its_own_descendant(world: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        world.svc.units.seed(_moved("REGA", "STA"))
    assert exc.value.errors[0].rule == "unit.parent_cycle"
    with world.svc.db.read() as s:  # nothing changed
        rega = s.scalar(select(Unit).where(Unit.code == "REGA"))
        hq = s.scalar(select(Unit).where(Unit.code == "HQ"))
        assert rega is not None and hq is not None and rega.parent_id == hq.id
