"""Procedures over HTTP: public complaint filing and tracking (rate-limited, no account), the
complaint -> report -> case path, 409s that list the allowed transitions, the inbox."""

from __future__ import annotations

from typing import Any

import pyotp
from starlette.testclient import TestClient

from amane.api import procedures
from amane.api.app import create_app
from tests.conftest import PASSWORD


def _client(world: Any, unit: str, role: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(world.svc, web=False))
    name = world.username(unit, role)
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                "otp": pyotp.TOTP(world.secrets[name]).now()})
    assert r.status_code == 200, r.text
    return client, {"Authorization": f"Bearer {r.json()['token']}", "X-Purpose": "procedure"}


def test_public_filing_and_tracking(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(procedures, "public_limit", procedures.RateLimiter(2, 3600))
    client = TestClient(create_app(world.svc, web=False))
    data = {"complainant_name": "محمد الفاسي", "facts": "سرقة هاتف محمول", "category": "theft"}
    r = client.post("/api/v1/public/complaints", json={"unit": "STA", "data": data})
    assert r.status_code == 201, r.text
    receipt = r.json()
    r = client.post("/api/v1/public/complaints", json={"unit": "STA", "data": {"facts": "x"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "complainant_name"
    r = client.post("/api/v1/public/complaints", json={"unit": "STA", "data": data})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    r = client.post("/api/v1/public/complaints/status", json={
        "tracking_number": receipt["tracking_number"], "secret_code": receipt["secret_code"]})
    assert r.status_code == 200 and r.json()["status"] == "received" and set(r.json()) == {
        "tracking_number", "status", "unit", "history"}
    wrong = client.post("/api/v1/public/complaints/status", json={
        "tracking_number": receipt["tracking_number"], "secret_code": "AAAAAAAA"})
    unknown = client.post("/api/v1/public/complaints/status", json={
        "tracking_number": "ZZZZZZZZZZ", "secret_code": "AAAAAAAA"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"].replace(receipt["tracking_number"], "") == unknown.json()["detail"].replace(
        "ZZZZZZZZZZ", "")
    # no account: the staff endpoints stay closed
    assert client.get("/api/v1/complaints").status_code == 401


def test_complaint_report_case_over_http(world: Any) -> None:
    officer, ho = _client(world, "REGA", "officer")
    investigator, hi = _client(world, "REGA", "investigator")
    chief, hc = _client(world, "REGA", "unit_chief")
    r = officer.post("/api/v1/complaints", headers=ho, json={"data": {
        "complainant_name": "Nadia Tazi", "facts": "Escroquerie en ligne", "category": "online_fraud",
        "occurred_from": "2026-11-02T08:00"}})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = investigator.post(f"/api/v1/complaints/{cid}/decision", headers=hi, json={"decision": "accept"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    incident = r.json()["incident_id"]
    r = investigator.post(f"/api/v1/complaints/{cid}/decision", headers=hi, json={"decision": "close",
                                                                                  "reason": "x"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    content = {"title": "Escroquerie", "offence_category": "online_fraud", "occurred_from": "2026-11-02T08:00",
               "narrative": "Faits constatés"}
    r = officer.post("/api/v1/reports", headers=ho, json={"content": {**content, "offence_category": "nope"},
                                                          "complaint_id": cid})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "content.offence_category"
    r = officer.post("/api/v1/reports", headers=ho, json={"content": content, "complaint_id": cid})
    assert r.status_code == 201
    rep = r.json()
    r = officer.post(f"/api/v1/reports/{rep['id']}/actions", headers=ho, json={"action": "submit",
                                                                                "version": rep["version"]})
    rep = r.json()
    assert rep["state"] == "submitted" and rep["allowed_transitions"] == ["approved", "returned"]
    r = officer.post(f"/api/v1/reports/{rep['id']}/actions", headers=ho, json={"action": "approve",
                                                                                "version": rep["version"]})
    assert r.status_code == 403
    r = chief.post(f"/api/v1/reports/{rep['id']}/actions", headers=hc, json={"action": "approve",
                                                                              "version": rep["version"] - 1})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "version"
    r = chief.post(f"/api/v1/reports/{rep['id']}/actions", headers=hc, json={"action": "approve",
                                                                              "version": rep["version"]})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    r = officer.put(f"/api/v1/reports/{rep['id']}", headers=ho, json={"content": content, "version": 99})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"  # a correction needs a reason
    r = officer.put(f"/api/v1/reports/{rep['id']}", headers=ho, json={"content": content, "version": 99,
                                                                       "reason": "erreur de date"})
    assert r.status_code == 409
    r = chief.post("/api/v1/cases", headers=hc, json={"title": "Escroqueries", "incidents": [incident],
                                                       "lead": world.username("REGA", "investigator")})
    assert r.status_code == 201, r.text
    case = r.json()
    r = chief.post(f"/api/v1/cases/{case['id']}/state", headers=hc, json={"state": "archived"})
    assert r.status_code == 409 and r.json()["allowed"] == ["investigating", "closed"]
    r = chief.post(f"/api/v1/cases/{case['id']}/tasks", headers=hc, json={
        "title": "Réquisition bancaire", "assignee": world.username("REGA", "officer"), "due_date": "2026-12-05"})
    assert r.status_code == 201
    inbox = officer.get("/api/v1/inbox", headers=ho).json()
    assert inbox["unread"] >= 1 and any(n["kind"] == "task.assigned" for n in inbox["items"])
    # an analyst of the unit learns only that a case exists, and whom to contact
    analyst, ha = _client(world, "REGA", "analyst")
    assert analyst.get(f"/api/v1/cases/{case['id']}", headers=ha).status_code == 404
    assert analyst.get(f"/api/v1/incidents/{incident}/case-hint", headers=ha).json()["contact_units"] == ["REGA"]
