"""Rebuilding the key index (``amane db rekey``): records whose keys were lost, stale or foreign get
exactly the keys a write computes (with the owner's path and the classification); the others are
not touched; a second run changes nothing; bad schema names are refused; the CLI prints the counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from amane.services.context import Actor
from amane.services.errors import ValidationFailed
from amane.services.rekey import rekey
from amane.services.search import record_keys
from amane.store.tables import Entity, EntityKey, Unit
from tests.cli.test_cli import amane


def _keys(svc: Any) -> dict[str, set[tuple[Any, ...]]]:
    out: dict[str, set[tuple[Any, ...]]] = {}
    with svc.db.read() as s:
        for row in s.execute(select(EntityKey.entity_id, EntityKey.kind, EntityKey.value, EntityKey.unit_path,
                                    EntityKey.classification)):
            out.setdefault(row[0], set()).add(tuple(row[1:]))
    return out


def test_rekey_repairs_only_what_differs(world: Any) -> None:
    svc = world.svc
    system = Actor.system()
    ids = [svc.entities.create(system, "Person", {"given_name": g, "family_name": f, "phone": p},
                               owner_unit="REGA").id
           for g, f, p in (("Mohamed", "El Alaoui", "0661234567"), ("Fatima Zahra", "Bennani", "0662345678"),
                           ("Youssef", "Idrissi", "0663456789"))]
    car = svc.entities.create(system, "Vehicle", {"plate": "12345-A-6"}, owner_unit="REGA").id
    good = _keys(svc)
    assert all(good[i] for i in [*ids, car])
    with svc.db.write() as s:
        s.execute(delete(EntityKey).where(EntityKey.entity_id == ids[0]))  # lost
        s.execute(insert(EntityKey).values(entity_id=ids[1], kind="np", value="STALE", unit_path="/x/",
                                           classification=0))  # a key no rule gives any more
        s.execute(update(EntityKey).where(EntityKey.entity_id == car).values(unit_path="/elsewhere/"))
    report = rekey(svc.db, svc.registry, system, batch=2)  # batches smaller than the records
    assert report.records == 4 and report.changed == 3
    assert _keys(svc) == good
    with svc.db.read() as s:
        data = s.scalar(select(Entity.data).where(Entity.id == ids[2]))
        path = s.scalar(select(Unit.path).join(Entity, Entity.owner_unit_id == Unit.id).where(Entity.id == ids[2]))
    assert {(k, v) for k, v, *_ in good[ids[2]]} == set(record_keys(svc.registry.get("Person"), data))
    assert {p for _, _, p, _ in good[ids[2]]} == {path}
    again = rekey(svc.db, svc.registry, system)
    assert again.changed == 0 and again.keys_before == again.keys_after == report.keys_after
    only = rekey(svc.db, svc.registry, system, schemas=["Vehicle"])
    assert only.records == 1
    with pytest.raises(ValidationFailed) as exc:
        rekey(svc.db, svc.registry, system, schemas=["Spaceship"])
    assert exc.value.errors[0].field == "schema"
    rows, _ = svc.audit_log.search(system, _q(action="keys.rebuild"))
    assert len(rows) == 3 and rows[-1]["details"]["changed"] == 3


def _q(**kw: Any) -> Any:
    from amane.services.audit_log import AuditQuery

    return AuditQuery(**kw)


def test_rekey_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    amane(["db", "upgrade"], url)
    out = amane(["db", "rekey", "--json"], url)
    assert json.loads(out.stdout) == {"records": 0, "changed": 0, "keys_before": 0, "keys_after": 0}
    bad = amane(["db", "rekey", "--schema", "Spaceship"], url, check=False)
    assert bad.returncode != 0 and "schema" in bad.stderr


def test_keys_version_is_kept_and_a_stale_index_is_reported(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``store_meta`` keeps the names keys version the index was built with; when the code computes
    another one, ``keys_status`` says so (and what to run) until a rekey over the persons."""
    from amane.services import rekey as rekey_module
    from amane.services.rekey import keys_status
    from amane.store.tables import StoreMeta

    svc = world.svc
    status = keys_status(svc.db)
    assert not status.stale and status.stored == status.current
    svc.entities.create(Actor.system(), "Person", {"given_name": "Hamid", "family_name": "Tazi"}, owner_unit="REGA")
    newer = str(int(status.current) + 1)
    monkeypatch.setattr(rekey_module, "KEYS_VERSION", int(newer))  # the code upgraded, the index not yet
    stale = keys_status(svc.db)
    assert stale.stale and (stale.stored, stale.current) == (status.current, newer)
    assert "amane db rekey" in stale.message()
    rekey(svc.db, svc.registry, Actor.system(), schemas=["Vehicle"])  # not the persons: still stale
    assert keys_status(svc.db).stale
    rekey(svc.db, svc.registry, Actor.system())
    assert not keys_status(svc.db).stale
    with svc.db.read() as s:
        assert s.scalar(select(StoreMeta.value).where(StoreMeta.name == "keys_version")) == newer


def test_upgrade_warns_about_a_stale_index(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'stale.db'}"

    def set_version(v: str) -> None:
        eng = create_engine(url)
        with eng.begin() as c:
            c.exec_driver_sql(f"UPDATE store_meta SET value = '{v}' WHERE name = 'keys_version'")
        eng.dispose()

    amane(["db", "upgrade"], url)
    set_version("0")
    assert "amane db rekey" not in amane(["db", "upgrade"], url).stderr  # no records: nothing is stale
    amane(["units", "seed"], url)
    csv = tmp_path / "p.csv"
    csv.write_text("external_id,given_name,family_name\nx1,Hamid,Tazi\n", encoding="utf-8")
    amane(["import", "persons", str(csv), "--unit", "DGSN"], url)
    set_version("0")
    out = amane(["db", "upgrade"], url)
    assert "version 0" in out.stderr and "amane db rekey" in out.stderr
    amane(["db", "rekey"], url)
    assert "amane db rekey" not in amane(["db", "upgrade"], url).stderr
