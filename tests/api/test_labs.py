"""Lab requests over HTTP: submit, 422 naming the field, 404 outside the chain, 409 with the
allowed transitions, the report upload and download, statistics, and the custody sheet PDF."""

from __future__ import annotations

import shutil
from typing import Any

import pyotp
import pytest
from starlette.testclient import TestClient

from amane.api.app import create_app
from tests.conftest import PASSWORD
from tests.services.test_labs import make_labs, phone


def _client(world: Any, name: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(world.svc, web=False))
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                "otp": pyotp.TOTP(world.secrets[name]).now()})
    assert r.status_code == 200, r.text
    return client, {"Authorization": f"Bearer {r.json()['token']}", "X-Purpose": "lab request"}


def test_lab_requests_over_http(world: Any) -> None:
    make_labs(world)
    item = phone(world, "S-1")
    inv, hi = _client(world, world.username("REGA", "investigator"))
    chief, hc = _client(world, "chief.laba")
    tech, ht = _client(world, "tech1.laba")
    other, ho = _client(world, world.username("REGB", "investigator"))
    assert {"LABA", "LNUM"} <= {u["code"] for u in inv.get("/api/v1/labs", headers=hi).json()}
    body = {"lab": "LABA", "exam_type": "dna", "items": [item.id], "questions": "Whose DNA?", "priority": "urgent"}
    r = inv.post("/api/v1/lab-requests", headers=hi, json={**body, "exam_type": "tarot"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "exam_type"
    r = inv.post("/api/v1/lab-requests", headers=hi, json=body)
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["reference"].startswith("LAB-") and req["state"] == "submitted" and req["items"][0]["id"] == item.id
    rid = req["id"]
    # need-to-know: outside the chain, the request answers like a missing one
    assert other.get(f"/api/v1/lab-requests/{rid}", headers=ho).status_code == 404
    assert other.get("/api/v1/lab-requests/999999", headers=ho).status_code == 404
    assert other.get("/api/v1/lab-requests", headers=ho).json()["total"] == 0
    assert other.post(f"/api/v1/lab-requests/{rid}/cancel", headers=ho, json={"reason": "x"}).status_code == 404
    assert chief.get("/api/v1/lab-requests?lab=LABA&open=true", headers=hc).json()["total"] == 1
    assert chief.get("/api/v1/labs/LABA/technicians", headers=hc).json() == ["tech1.laba", "tech2.laba"]
    assert inv.get("/api/v1/labs/LABA/technicians", headers=hi).status_code == 403
    # an illegal move: 409 listing the allowed transitions
    r = tech.post(f"/api/v1/lab-requests/{rid}/start", headers=ht)
    assert r.status_code == 409 and r.json()["allowed"] == ["accepted", "rejected", "cancelled"]
    r = chief.post(f"/api/v1/lab-requests/{rid}/accept", headers=hc, json={"technician": "tech1.laba"})
    assert r.status_code == 200 and r.json()["technician"] == "tech1.laba"
    assert tech.get("/api/v1/lab-requests?assigned=true", headers=ht).json()["total"] == 1
    assert tech.post(f"/api/v1/lab-requests/{rid}/start", headers=ht).json()["state"] == "in_progress"
    r = tech.post(f"/api/v1/lab-requests/{rid}/complete", headers=ht, data={"results": " "})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "results"
    pdf = b"%PDF-1.4\n%report\n" + b"0" * 200
    r = tech.post(f"/api/v1/lab-requests/{rid}/complete", headers=ht, data={"results": "Match with suspect"},
                  files={"file": ("rapport-adn.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "completed" and done["report"]["filename"] == "rapport-adn.pdf"
    assert done["turnaround_days"] is not None
    r = inv.get(f"/api/v1/lab-requests/{rid}/report", headers=hi)
    assert r.status_code == 200 and r.content == pdf and r.headers["x-content-sha256"] == done["report"]["sha256"]
    assert other.get(f"/api/v1/lab-requests/{rid}/report", headers=ho).status_code == 404
    r = inv.post(f"/api/v1/lab-requests/{rid}/cancel", headers=hi, json={"reason": "late"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    stats = chief.get("/api/v1/labs/LABA/stats", headers=hc)
    assert stats.status_code == 200 and stats.json()["turnaround"][0]["completed"] == 1
    assert tech.get("/api/v1/labs/LABA/stats", headers=ht).status_code == 403
    assert chief.get("/api/v1/labs/REGA/stats", headers=hc).status_code == 422


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_custody_sheet_endpoint(world: Any) -> None:
    pytest.importorskip("weasyprint")
    item = phone(world, "S-9")
    inv, hi = _client(world, world.username("REGA", "investigator"))
    other, ho = _client(world, world.username("REGB", "investigator"))
    r = inv.get(f"/api/v1/evidence/{item.id}/custody-sheet?lang=ar", headers=hi)
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["x-chain-verified"] == "true"
    assert r.headers["content-type"] == "application/pdf"
    assert inv.get(f"/api/v1/evidence/{item.id}/custody-sheet?lang=de", headers=hi).status_code == 422
    assert other.get(f"/api/v1/evidence/{item.id}/custody-sheet", headers=ho).status_code == 404
