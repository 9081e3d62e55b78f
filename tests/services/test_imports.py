"""Imports: validate every row first, write all or nothing, idempotent on external_id; a kill -9
in the middle of a large import leaves no partial batch."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from amane.services.context import Actor
from amane.services.imports import read_rows
from amane.store.tables import Entity, EntityVersion

HEADER = ["external_id", "given_name", "family_name", "given_name_ar", "family_name_ar", "father_name",
          "mother_name", "birth_date", "birth_place", "sex", "national_id", "phone"]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def person_rows(n: int, *, start: int = 0) -> list[dict[str, str]]:
    return [
        {"external_id": f"P{i:06d}", "given_name": "Mohamed", "family_name": f"Alaoui{i}",
         "given_name_ar": "محمد", "family_name_ar": "العلوي", "father_name": "Ahmed", "mother_name": "Fatima",
         "birth_date": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 9}", "birth_place": "Fès", "sex": "M",
         "national_id": f"C{100000 + i}", "phone": f"06{10000000 + i}"}
        for i in range(start, start + n)
    ]


def count(svc: Any, schema: str = "Person") -> int:
    with svc.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Entity).where(Entity.schema == schema)) or 0)


def test_import_is_idempotent(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    path = write_csv(tmp_path / "p.csv", person_rows(300))
    rows, digest = read_rows(path)
    r1 = svc.imports.import_rows(Actor.system(), "Person", rows, unit="STA", digest=digest)
    assert (r1.created, r1.updated, r1.unchanged, r1.errors) == (300, 0, 0, [])
    r2 = svc.imports.import_rows(Actor.system(), "Person", rows, unit="STA", digest=digest)
    assert (r2.created, r2.updated, r2.unchanged) == (0, 0, 300)
    assert count(svc) == 300
    # the values were normalised on the way in and indexed
    page = svc.entities.list(world.actor("REGA", "investigator"),
                             __import__("amane.services.entities", fromlist=["ListQuery"]).ListQuery(
                                 schema="Person", q="0610000007"))
    assert page.total == 1 and page.items[0].data["phone"] == "+212610000007"
    # one changed row -> one new version, nothing else
    rows[5].values["birth_place"] = "Meknès"
    r3 = svc.imports.import_rows(Actor.system(), "Person", rows, unit="STA", digest=digest)
    assert (r3.created, r3.updated, r3.unchanged) == (0, 1, 299)
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(EntityVersion)) == 301


def test_one_bad_row_writes_nothing(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    rows = person_rows(50)
    rows[10]["phone"] = "0612"  # too short
    rows[20]["birth_date"] = "2999-01-01"  # in the future
    rows[30]["national_id"] = "12345678"  # not a CIN
    rows[40]["external_id"] = rows[41]["external_id"]  # duplicate in file
    data, _ = read_rows(write_csv(tmp_path / "bad.csv", rows))
    report = svc.imports.import_rows(Actor.system(), "Person", data, unit="STA")
    fields = {(e.field, e.rule.split(".")[0]) for e in report.errors}
    assert ("row 12.phone", "phone") in fields
    assert ("row 22.birth_date", "date") in fields
    assert ("row 32.national_id", "cin") in fields
    assert any(e.field == "row 43.external_id" and e.rule == "external_id.duplicate" for e in report.errors)
    assert report.created == 0 and count(svc) == 0


def test_unknown_column_and_unit_are_refused(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    p = tmp_path / "x.csv"
    p.write_text("external_id,given_name,shoe_size\n1,Ali,44\n", encoding="utf-8")
    report = svc.imports.import_rows(Actor.system(), "Person", read_rows(p)[0], unit="STA")
    assert [(e.field, e.rule) for e in report.errors] == [("row 2.shoe_size", "property.unknown")]
    import pytest

    from amane.model.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        svc.imports.import_rows(Actor.system(), "Person", read_rows(p)[0], unit="NOPE")
    assert exc.value.errors[0].field == "unit"


def test_jsonl_import(world: Any, tmp_path: Path) -> None:
    import json

    svc = world.svc
    p = tmp_path / "inc.jsonl"
    cat = sorted(svc.registry.get("Incident").properties["offence_category"].values)[0]
    p.write_text("\n".join(json.dumps({"external_id": f"I{i}", "title": "Vol à l'arraché",
                                       "offence_category": cat, "occurred_from": "2025-06-01T22:10:00Z",
                                       "region": "06", "coordinates": {"lat": 33.58, "lon": -7.6}})
                           for i in range(20)), encoding="utf-8")
    report = svc.imports.import_rows(Actor.system(), "Incident", read_rows(p)[0], unit="STB")
    assert report.created == 20 and not report.errors
    assert count(svc, "Incident") == 20


def test_kill_during_large_import_leaves_nothing(world: Any, tmp_path: Path, db_url: str) -> None:
    """Start `amane import persons` on a large file in a subprocess, kill -9 it mid-write,
    and check that the database holds none of the batch."""
    svc = world.svc
    path = write_csv(tmp_path / "big.csv", person_rows(60000))
    env = {**os.environ, "AMANE_DATABASE_URL": db_url, "AMANE_ENVIRONMENT": "development"}
    proc = subprocess.Popen([sys.executable, "-m", "amane.cli.main", "import", "persons", str(path),
                             "--unit", "STA"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait until the writing phase has begun (the progress bar moves), then kill -9
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        with svc.db.read() as s:
            active = _writer_active(svc, s)
        if active:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed, "the import finished before it could be killed; make the file bigger"
    assert count(svc) == 0
    # and the database is healthy: the same import now completes fully
    rows, digest = read_rows(path)
    report = svc.imports.import_rows(Actor.system(), "Person", rows[:1000], unit="STA", digest=digest)
    assert report.created == 1000 and count(svc) == 1000


def _writer_active(svc: Any, s: Any) -> bool:
    from sqlalchemy import text

    if svc.db.is_sqlite:
        # the importer holds the write lock: a -wal file grows while it writes
        wal = Path(str(svc.db.engine.url.database) + "-wal")
        return wal.exists() and wal.stat().st_size > 2_000_000
    # another backend of this database holds a transaction id: it has started writing
    q = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")
    return bool(s.execute(q).scalar())
