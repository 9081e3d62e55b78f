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
