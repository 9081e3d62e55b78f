"""Shared fixtures: a real database per backend (SQLite file and PostgreSQL), a small unit
tree, and users of every role in three units (national, region A, region B).

Every test that takes ``svc`` runs once on SQLite and once on PostgreSQL
(``AMANE_TEST_DATABASE_URL`` overrides the PostgreSQL URL; set it to ``skip`` to run SQLite only).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

# One OpenMP thread for scikit-learn's gradient boosting (the gbm forecast model): on a shared 2-core
# machine, its spinning worker threads slowed one test from 5 s to minutes when another process ran.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from amane.services.container import Services
from amane.services.context import Actor
from amane.settings import Settings
from amane.store import migrate

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct-horse-battery-9"
ROLES = ("officer", "investigator", "analyst", "lab_technician", "unit_chief", "auditor", "administrator")

# A small tree: HQ (national) with a national unit, and two regions each with a province and a station.
TEST_UNITS: list[dict[str, Any]] = [
    {"code": "HQ", "parent": None, "kind": "headquarters", "name_ar": "المديرية العامة",
     "name_fr": "Direction générale", "name_en": "Headquarters"},
    {"code": "NATCYBER", "parent": "HQ", "kind": "national_unit", "name_ar": "وحدة الجرائم الإلكترونية",
     "name_fr": "Unité nationale cybercriminalité", "name_en": "National cybercrime unit"},
    {"code": "REGA", "parent": "HQ", "kind": "regional_service", "name_ar": "الجهة أ", "name_fr": "Région A",
     "name_en": "Region A", "region": "04"},
    {"code": "PROVA", "parent": "REGA", "kind": "provincial_service", "name_ar": "إقليم أ",
     "name_fr": "Province A", "name_en": "Province A", "region": "04"},
    {"code": "STA", "parent": "PROVA", "kind": "station", "name_ar": "مفوضية أ", "name_fr": "Commissariat A",
     "name_en": "Station A", "region": "04"},
    {"code": "REGB", "parent": "HQ", "kind": "regional_service", "name_ar": "الجهة ب", "name_fr": "Région B",
     "name_en": "Region B", "region": "06"},
    {"code": "STB", "parent": "REGB", "kind": "station", "name_ar": "مفوضية ب", "name_fr": "Commissariat B",
     "name_en": "Station B", "region": "06"},
]


def pg_url() -> str | None:
    url = os.environ.get("AMANE_TEST_DATABASE_URL", PG_DEFAULT)
    return None if url == "skip" else url


def _fresh_pg(base: str) -> tuple[str, Any]:
    """A new, empty PostgreSQL schema (search_path) for one test; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{name}"

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()

    return url, drop


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> Iterator[None]:
    """Tests create hundreds of accounts: keep argon2id but with minimal cost parameters."""
    from argon2 import PasswordHasher

    from amane.services import auth

    saved = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    auth._hasher = saved


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'amane.db'}"
        return
    base = pg_url()
    if base is None:
        pytest.skip("PostgreSQL disabled (AMANE_TEST_DATABASE_URL=skip)")
    url, drop = _fresh_pg(base)
    try:
        yield url
    finally:
        drop()


def make_settings(tmp_path: Path, url: str, **kw: Any) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path / "data", _env_file=None, **kw)  # type: ignore[call-arg]


@pytest.fixture
def svc(db_url: str, tmp_path: Path) -> Iterator[Services]:
    services = Services.create(make_settings(tmp_path, db_url))
    migrate.upgrade(services.db)
    try:
        yield services
    finally:
        services.close()


@dataclass
class World:
    """Units and users for access tests: ``world.actor("REGA", "investigator")``."""

    svc: Services
    secrets: dict[str, str] = field(default_factory=dict)
    actors: dict[tuple[str, str, str], Actor] = field(default_factory=dict)

    def username(self, unit: str, role: str, clearance: str = "secret") -> str:
        return f"{role.replace('_', '')}.{unit.lower()}.{clearance[:3]}"

    def actor(self, unit: str, role: str, clearance: str = "secret", *, purpose: str = "test purpose") -> Actor:
        return self.actors[(unit, role, clearance)].with_request(purpose=purpose, source="127.0.0.1")


ACCESS_UNITS = ("HQ", "REGA", "REGB")
CLEARANCE_SET = ("unclassified", "restricted", "secret")


@pytest.fixture
def world(svc: Services) -> World:
    """Users of each role in HQ, REGA and REGB, at three clearances (argon2 hashing kept cheap by
    creating them directly through the service, once per test)."""
    from amane.services.auth import actor_for
    from amane.store.tables import Unit, User

    svc.units.seed(TEST_UNITS)
    w = World(svc)
    system = Actor.system()
    n = 0
    for unit in ACCESS_UNITS:
        for role in ROLES:
            for clearance in CLEARANCE_SET:
                n += 1
                made = svc.users.create(system, username=w.username(unit, role, clearance), password=PASSWORD,
                                        service_number=f"SN{n:05d}", full_name=f"{role} {unit} {clearance}",
                                        unit=unit, roles_=[role], clearance=clearance)
                w.secrets[made.user.username] = made.totp_secret
    with svc.db.read() as s:
        for u in s.query(User).all():
            unit_row = s.get(Unit, u.unit_id)
            assert unit_row is not None
            parts = u.username.split(".")
            role = next(r for r in ROLES if r.replace("_", "") == parts[0])
            clearance = next(c for c in CLEARANCE_SET if c.startswith(parts[2]))
            w.actors[(unit_row.code, role, clearance)] = actor_for(u, unit_row)
    return w
