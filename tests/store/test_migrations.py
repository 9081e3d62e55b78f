"""Migrations upgrade and downgrade on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from amane.store import migrate
from amane.store.db import Database
from amane.store.tables import Base


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    db = Database(db_url)
    migrate.upgrade(db)
    tables = migrate.current_tables(db)
    assert {"units", "users", "entities", "entity_versions", "entity_keys", "audit_log", "audit_head"} <= tables
    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    migrate.downgrade(db, "base")
    assert migrate.current_tables(db) <= {"alembic_version"}
    migrate.upgrade(db)
    assert "entities" in migrate.current_tables(db)
    db.dispose()


def test_sqlite_runs_wal_full_with_foreign_keys(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.db")
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_group_commit_flushes_the_log_after_handing_on_the_write_lock(tmp_path: object,
                                                                      monkeypatch: object) -> None:
    """The audit writer's batches commit without the flush, then flush the write-ahead log once the
    write lock is free again, before the caller is told the batch is durable."""
    import os

    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    db = Database(f"sqlite:///{tmp_path}/g.db")
    with db.write_connection() as c:
        c.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        lock = db._write_lock
        assert lock is not None
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), lock._thread_lock.locked()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    with db.group_write_connection() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: the flush comes after
        c.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert synced == []
    assert synced == [(f"{tmp_path}/g.db-wal", False)]  # flushed, with the lock already released
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # every other connection: FULL
        assert c.exec_driver_sql("SELECT x FROM t").scalar() == 1
    db.dispose()


def test_group_cursor_commits_flushes_after_the_lock_and_rolls_back_on_error(tmp_path: object,
                                                                            monkeypatch: object) -> None:
    """The DBAPI cursor of the audit writer keeps the guarantees of ``group_write_connection``: the
    batch is flushed once the write lock is free, before the block returns; an error rolls it back
    and the next batch gets a working connection."""
    import os

    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    db = Database(f"sqlite:///{tmp_path}/c.db")
    assert db.has_group_cursor
    with db.write_connection() as c:
        c.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        lock = db._write_lock
        assert lock is not None
        synced.append(lock._thread_lock.locked())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    with db.group_write_cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
        assert synced == []
    assert synced == [False]
    with pytest.raises(RuntimeError), db.group_write_cursor() as cur:
        cur.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("crash in the middle of a batch")
    with db.group_write_cursor() as cur:
        cur.execute("INSERT INTO t VALUES (3)")
    with db.engine.connect() as c:
        assert [r[0] for r in c.exec_driver_sql("SELECT x FROM t ORDER BY x")] == [1, 3]
    db.dispose()
