"""The audit chain: every action leaves a record; any alteration or deletion is found at its position."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from amane.services import audit
from amane.services.audit import verify
from amane.services.context import Actor
from amane.services.entities import ListQuery
from amane.services.errors import AuditUnavailable
from amane.store.db import Database


def _fill(svc: Any, n: int = 120) -> None:
    system = Actor.system()
    for i in range(n // 3):
        v = svc.entities.create(system, "Person", {"given_name": "Aicha", "family_name": f"Test{i}"},
                                owner_unit="HQ")
        svc.entities.get(system, v.id)
        svc.entities.list(system, ListQuery(schema="Person", per_page=5))


def test_every_action_is_audited(world: Any) -> None:
    svc = world.svc
    actor = world.actor("REGA", "investigator")
    before = _max_seq(svc)
    v = svc.entities.create(actor, "Person", {"given_name": "Rachid", "family_name": "Amrani"})
    svc.entities.get(actor, v.id)
    svc.entities.update(actor, v.id, {"birth_place": "Fès"}, expected_version=1, partial=True)
    svc.entities.history(actor, v.id)
    svc.entities.list(actor, ListQuery(schema="Person", q="amrani"))
    rows, _ = svc.audit_log.search(Actor.system(), _q(object_id=v.id))
    actions = sorted(r["action"] for r in rows)
    assert actions == ["create", "history", "read", "update"]
    assert all(r["username"] == actor.username and r["unit"] == "REGA" for r in rows)
    search = [r for r in svc.audit_log.search(Actor.system(), _q(action="search"))[0]]
    assert search and search[0]["details"]["terms"]["q"] == "amrani"
    assert search[0]["purpose"] == "test purpose"
    assert _max_seq(svc) > before
    assert verify(svc.db)[1] is None


def _q(**kw: Any) -> Any:
    from amane.services.audit_log import AuditQuery

    return AuditQuery(**kw)


def _max_seq(svc: Any) -> int:
    with svc.db.read() as s:
        return int(s.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_log")).scalar() or 0)


def test_failed_audit_write_rolls_back_the_change(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = world.svc
    actor = world.actor("REGA", "investigator")

    def broken(*_a: Any, **_k: Any) -> list[int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError):
        svc.entities.create(actor, "Person", {"given_name": "Nobody", "family_name": "Written"})
    monkeypatch.undo()
    page = svc.entities.list(Actor.system().with_request(purpose="check"),
                             ListQuery(schema="Person", q="written", per_page=10))
    assert page.total == 0


def test_read_fails_when_audit_cannot_be_written(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = world.svc
    v = svc.entities.create(Actor.system(), "Person", {"given_name": "Hidden", "family_name": "Read"},
                            owner_unit="HQ")

    def broken(*_a: Any, **_k: Any) -> list[int]:
        raise RuntimeError("audit table locked")

    # both ways the writer appends (SQLAlchemy, and the DBAPI cursor it takes for plain reads)
    monkeypatch.setattr(audit, "append", broken)
    monkeypatch.setattr(audit, "_append_cursor", broken)
    with pytest.raises(AuditUnavailable):
        svc.entities.get(world.actor("HQ", "analyst"), v.id)


@pytest.mark.parametrize("trial", range(6))
def test_tampering_is_found_at_the_right_row(svc: Any, trial: int, tmp_path: Path) -> None:
    from tests.conftest import TEST_UNITS

    svc.units.seed(TEST_UNITS)
    _fill(svc, 90)
    n = _max_seq(svc)
    assert verify(svc.db) == (n, None)
    rng = random.Random(trial)
    target = rng.randint(1, n)
    mode = ("alter", "delete", "alter_hash", "delete_tail")[trial % 4]
    if mode == "delete_tail":
        target = n
    url = _copy(svc, tmp_path)
    eng = create_engine(url)
    with eng.begin() as c:
        if mode == "alter":
            c.execute(text("UPDATE audit_log SET username = 'mallory' WHERE seq = :s"), {"s": target})
        elif mode == "alter_hash":
            c.execute(text("UPDATE audit_log SET outcome = 'ok', details = '{}' , hash = :h WHERE seq = :s"),
                      {"s": target, "h": "f" * 64})
        else:
            c.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": target})
    eng.dispose()
    db = Database(url)
    checked, problem = verify(db)
    db.dispose()
    assert problem is not None, f"{mode} at {target} not detected"
    assert problem.seq == target, f"{mode} at {target} reported at {problem.seq}: {problem.problem}"
    assert checked == target - 1


def _copy(svc: Any, tmp_path: Path) -> str:
    """A copy of the database to tamper with (file copy on SQLite, a cloned schema on PostgreSQL)."""
    if svc.db.is_sqlite:
        svc.db.engine.dispose()
        src = Path(svc.db.engine.url.database)
        dst = tmp_path / "copy.db"
        with svc.db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        svc.db.engine.dispose()
        shutil.copyfile(src, dst)
        return f"sqlite:///{dst}"
    # PostgreSQL: the test schema is private to this test, so tamper with it in place.
    return svc.db.url


def test_both_append_paths_write_one_chain(svc: Any) -> None:
    """The writer appends plain reads through a DBAPI cursor and everything else through
    SQLAlchemy; the rows of both read back the same and form one verifiable chain."""
    if not svc.db.has_group_cursor:
        pytest.skip("in-memory SQLite: the writer always takes SQLAlchemy")
    from amane.services import notifications

    actor = Actor.system()
    writer = audit.AuditWriter(svc.db)
    try:
        writer.record(actor, audit.AuditEvent("read", "Person", "a1", details={"q": "عبد الله"}))
        with svc.db.group_write_connection() as c:
            audit.append(c, [(actor, audit.AuditEvent("read", "Person", "a2", details={"q": "x"}))])
        notifications._subs["checked_at"] = float("-inf")  # stale: the writer must take SQLAlchemy
        assert notifications.subscriptions_may_exist()
        writer.record(actor, audit.AuditEvent("read", "Person", "a3"))
        assert not notifications.subscriptions_may_exist()  # looked again: none
        writer.record(actor, audit.AuditEvent("read", "Person", "a4", purpose="enquête"))
    finally:
        writer.close()
    rows = {r["object_id"]: r for r in svc.audit_log.search(Actor.system(), _q(action="read"))[0]}
    assert {"a1", "a2", "a3", "a4"} <= set(rows)
    assert rows["a1"]["details"] == {"q": "عبد الله"} and rows["a4"]["purpose"] == "enquête"
    ats = [rows[k]["at"] for k in ("a1", "a2", "a3", "a4")]
    assert ats == sorted(ats)
    assert verify(svc.db)[1] is None
