"""The evidence register over HTTP: register (JSON and digital upload), 422 naming the field,
404 for another region's item, the two-sided transfer with its 409s, integrity verification and
chain verification."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyotp
from starlette.testclient import TestClient

from amane.api.app import create_app
from tests.conftest import PASSWORD


def _client(world: Any, unit: str, role: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(world.svc, web=False))
    name = world.username(unit, role)
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                "otp": pyotp.TOTP(world.secrets[name]).now()})
    assert r.status_code == 200, r.text
    return client, {"Authorization": f"Bearer {r.json()['token']}", "X-Purpose": "evidence"}


def test_evidence_over_http(world: Any) -> None:
    officer, ho = _client(world, "REGA", "officer")
    lab, hl = _client(world, "REGA", "lab_technician")
    other, hb = _client(world, "REGB", "officer")
    item = {"seal_number": "S-1", "kind": "physical", "category": "phone", "description": "iPhone"}
    r = officer.post("/api/v1/evidence", headers=ho, json=item)
    assert r.status_code == 201, r.text
    phone = r.json()
    assert phone["reference"].startswith("SCL-") and phone["state"] == "in_custody"
    r = officer.post("/api/v1/evidence", headers=ho, json={**item, "category": "toaster"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category"
    r = officer.post("/api/v1/evidence", headers=ho, json=item)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "seal.duplicate"
    data = b"disk image bytes" * 1000
    meta = {"seal_number": "D-1", "kind": "digital", "category": "disk_image", "parent_id": phone["id"]}
    r = officer.post("/api/v1/evidence/digital", headers=ho, data={"data": json.dumps(meta)},
                     files={"file": ("image.dd", data)})
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert image["hashes"]["md5"] == hashlib.md5(data).hexdigest()
    r = officer.post("/api/v1/evidence/digital", headers=ho, data={"data": json.dumps({"kind": "digital"})},
                     files={"file": ("x", b"x")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "data.seal_number"
    # need-to-know: another region's item answers like a missing one
    assert other.get(f"/api/v1/evidence/{phone['id']}", headers=hb).status_code == 404
    assert other.get("/api/v1/evidence/999999", headers=hb).status_code == 404
    assert other.get("/api/v1/evidence", headers=hb).json()["total"] == 0
    # two-sided transfer
    r = officer.post(f"/api/v1/evidence/{image['id']}/transfer", headers=ho,
                     json={"to_user": world.username("REGA", "lab_technician"), "purpose": "extraction"})
    assert r.status_code == 200 and r.json()["state"] == "in_transfer"
    assert lab.get("/api/v1/evidence?pending=true", headers=hl).json()["total"] == 1
    r = officer.post(f"/api/v1/evidence/{image['id']}/receive", headers=ho)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "custody.not_receiver"
    r = officer.post(f"/api/v1/evidence/{image['id']}/transfer", headers=ho,
                     json={"to_user": world.username("REGA", "unit_chief"), "purpose": "x"})
    assert r.status_code == 409 and r.json()["allowed"] == ["in_custody", "at_lab"]
    r = lab.post(f"/api/v1/evidence/{image['id']}/receive", headers=hl, data={"storage_location": "Lab 1"},
                 files={"file": ("image.dd", data)})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["state"] == "at_lab" and got["custodian"] == world.username("REGA", "lab_technician")
    assert [e["kind"] for e in got["events"]][-2:] == ["received", "verified"]
    r = lab.post(f"/api/v1/evidence/{image['id']}/verify", headers=hl, files={"file": ("image.dd", data + b"!")})
    assert r.status_code == 200 and r.json()["match"] is False
    r = lab.post(f"/api/v1/evidence/{image['id']}/dispose", headers=hl, json={"action": "destroyed", "reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    log = lab.get(f"/api/v1/evidence/{image['id']}/custody", headers=hl).json()
    assert log[-1]["kind"] == "integrity_failure" and log[-1]["prev_hash"] == log[-2]["hash"]
    chain = lab.get(f"/api/v1/evidence/{image['id']}/chain", headers=hl).json()
    assert chain["ok"] is True and chain["events"] == len(log)
    assert other.get(f"/api/v1/evidence/{image['id']}/chain", headers=hb).status_code == 404


def test_evidence_uploads_get_the_attachment_size_limit() -> None:
    from amane.api.app import takes_upload

    assert takes_upload("/api/v1/evidence/digital") and takes_upload("/api/v1/evidence/12/verify")
    assert takes_upload("/api/v1/evidence/12/receive") and takes_upload("/api/v1/cases/3/attachments")
    assert not takes_upload("/api/v1/evidence/12/transfer") and not takes_upload("/api/v1/audit/verify")
