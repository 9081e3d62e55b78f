"""The amane command, run as a user would: a real process, a real database file, real CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.services.test_imports import person_rows, write_csv


def amane(args: list[str], db_url: str, *, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMANE_DATABASE_URL": db_url, "AMANE_ENVIRONMENT": "development", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "amane.cli.main", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"amane {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def cli_db(db_url: str) -> str:
    amane(["db", "upgrade"], db_url)
    units = Path(__file__).parent / "units.yaml"
    import yaml

    from tests.conftest import TEST_UNITS

    units.write_text(yaml.safe_dump(TEST_UNITS, allow_unicode=True), encoding="utf-8")
    try:
        amane(["units", "seed", "--path", str(units)], db_url)
    finally:
        units.unlink()
    return db_url


def test_units_users_otp(cli_db: str) -> None:
    units = json.loads(amane(["units", "list", "--json"], cli_db).stdout)
    assert {u["code"] for u in units} >= {"HQ", "REGA", "STB"}
    out = amane(["users", "create", "k.idrissi", "--unit", "REGA", "--roles", "investigator",
                 "--full-name", "Karim Idrissi", "--service-number", "A-1234", "--json"], cli_db,
                stdin="a-long-password-42\n")
    info = json.loads(out.stdout)
    assert info["unit"] == "REGA" and info["roles"] == ["investigator"]
    code = amane(["users", "otp", "k.idrissi"], cli_db).stdout.strip()
    totp = pyotp.TOTP(info["totp_secret"])
    assert code in {totp.now(), totp.at(time.time() - 30)}
    bad = amane(["users", "create", "x", "--unit", "REGA", "--roles", "wizard", "--full-name", "X",
                 "--service-number", "S"], cli_db, stdin="short\n", check=False)
    assert bad.returncode == 2
    assert "password" in bad.stderr and "roles" in bad.stderr and "username" in bad.stderr


def test_import_twice_export_and_verify(cli_db: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "persons.csv", person_rows(500))
    first = json.loads(amane(["import", "persons", str(path), "--unit", "STA", "--json"], cli_db).stdout)
    second = json.loads(amane(["import", "persons", str(path), "--unit", "STA", "--json"], cli_db).stdout)
    assert (first["created"], second["created"], second["unchanged"]) == (500, 0, 500)
    out = tmp_path / "export.jsonl"
    amane(["export", "--schema", "Person", "-o", str(out), "--purpose", "test"], cli_db)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 500 and lines[0]["data"]["phone"].startswith("+212")
    verify = json.loads(amane(["audit", "verify", "--json"], cli_db).stdout)
    assert verify["ok"] and verify["checked"] >= 3


def test_bad_file_reports_rows_and_writes_nothing(cli_db: str, tmp_path: Path) -> Any:
    rows = person_rows(20)
    rows[3]["phone"] = "not a phone"
    path = write_csv(tmp_path / "bad.csv", rows)
    proc = amane(["import", "persons", str(path), "--unit", "STA"], cli_db, check=False)
    assert proc.returncode == 2 and "row 5.phone" in proc.stderr
    report = json.loads(amane(["import", "persons", str(path), "--unit", "STA", "--json"], cli_db,
                              check=False).stdout)
    assert report["created"] == 0 and report["errors"][0]["field"] == "row 5.phone"


def test_search_persons_cli_contract(cli_db: str, tmp_path: Path) -> None:
    rows = person_rows(50)
    others = ["Bennani", "Tazi", "Chraibi", "Idrissi", "Berrada", "Fassi", "Amrani", "Sqalli", "Kettani", "Lahlou"]
    for i, r in enumerate(rows):
        r.update({"given_name": ["Karim", "Said", "Omar", "Hamza", "Nabil"][i % 5], "family_name": others[i % 10],
                  "given_name_ar": "", "family_name_ar": ""})
    rows[7].update({"given_name": "Mohamed", "family_name": "Alaoui"})
    path = write_csv(tmp_path / "persons.csv", rows)
    amane(["import", "persons", str(path), "--unit", "STA"], cli_db)
    out = json.loads(amane(["search", "persons", "محمد العلوي", "--purpose", "case 12/2026", "--limit", "5",
                            "--json"], cli_db).stdout)
    assert out and {"id", "external_id", "score", "names", "why"} <= set(out[0])
    assert out[0]["external_id"] == "P000007"
    assert out == sorted(out, key=lambda h: -h["score"])
    missing = amane(["search", "persons", "Alaoui", "--json"], cli_db, check=False)
    assert missing.returncode != 0
