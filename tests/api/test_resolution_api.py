"""Review queue over HTTP: run, list, decide, merge, undo, identity; problem JSON for bad input;
a pair outside the caller's need-to-know answers 404 like a missing one."""

from __future__ import annotations

from typing import Any

import pyotp
from starlette.testclient import TestClient

from amane.api.app import create_app
from amane.services.context import Actor
from tests.conftest import PASSWORD


def _client(world: Any, unit: str, role: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(world.svc, web=False))
    name = world.username(unit, role)
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                "otp": pyotp.TOTP(world.secrets[name]).now()})
    assert r.status_code == 200, r.text
    return client, {"Authorization": f"Bearer {r.json()['token']}", "X-Purpose": "duplicates review"}


def test_review_queue_over_http(world: Any) -> None:
    sys = Actor.system()
    a = world.svc.entities.create(sys, "Person", {"given_name": "Youssef", "family_name": "Chraibi",
                                                  "birth_date": "1979-09-12", "father_name": "Abdelkader"},
                                  owner_unit="STA").id
    b = world.svc.entities.create(sys, "Person", {"given_name_ar": "يوسف", "family_name_ar": "الشرايبي",
                                                  "birth_date": "1979-09-12", "father_name": "عبد القادر"},
                                  owner_unit="STB").id
    client, h = _client(world, "HQ", "analyst")
    r = client.post("/api/v1/resolution/runs", headers=h, json={"threshold": 0.9})
    assert r.status_code == 201, r.text
    assert r.json()["persons"] == 2 and r.json()["queued"] == 1
    r = client.post("/api/v1/resolution/runs", headers=h, json={"threshold": 2})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("threshold")
    page = client.get("/api/v1/resolution/candidates", headers=h).json()
    assert page["total"] == 1
    cand = page["items"][0]
    assert {cand["a"]["id"], cand["b"]["id"]} == {a, b} and cand["probability"] >= 0.9 and cand["evidence"]
    # region A cannot see record b: the pair does not exist for it
    client_a, h_a = _client(world, "REGA", "analyst")
    assert client_a.get("/api/v1/resolution/candidates", headers=h_a).json()["total"] == 0
    assert client_a.get(f"/api/v1/resolution/candidates/{cand['id']}", headers=h_a).status_code == 404
    r = client_a.post(f"/api/v1/resolution/candidates/{cand['id']}/decision", headers=h_a,
                      json={"decision": "accept"})
    assert r.status_code == 404
    # an investigator has no right to decide
    client_i, h_i = _client(world, "HQ", "investigator")
    assert client_i.get("/api/v1/resolution/candidates", headers=h_i).status_code == 403
    # bad decision -> 422 naming the field; reject without reason -> 422 naming reason
    r = client.post(f"/api/v1/resolution/candidates/{cand['id']}/decision", headers=h, json={"decision": "maybe"})
    assert r.status_code == 422 and "decision" in r.json()["errors"][0]["field"]
    r = client.post(f"/api/v1/resolution/candidates/{cand['id']}/decision", headers=h, json={"decision": "reject"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"/api/v1/resolution/candidates/{cand['id']}/decision", headers=h,
                    json={"decision": "accept", "reason": "same father"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    merge_id = r.json()["merge_id"]
    r = client.post(f"/api/v1/resolution/candidates/{cand['id']}/decision", headers=h,
                    json={"decision": "accept"})
    assert r.status_code == 409
    ident = client.get(f"/api/v1/persons/{a}/identity", headers=h).json()
    assert {m["id"] for m in ident["members"]} == {a, b} and "يوسف الشرايبي" in ident["names"]
    assert [m["id"] for m in client_a.get(f"/api/v1/persons/{a}/identity", headers=h_a).json()["members"]] == [a]
    assert client_a.get(f"/api/v1/persons/{b}/identity", headers=h_a).status_code == 404
    hits = client.get("/api/v1/search/persons", headers=h, params={"q": "Youssef Chraibi"}).json()
    assert len(hits) == 1 and set(hits[0]["merged_ids"]) == {a, b} - {hits[0]["id"]}
    r = client.post(f"/api/v1/resolution/merges/{merge_id}/undo", headers=h, json={"reason": "twins"})
    assert r.status_code == 200 and r.json()["undone_at"]
    assert len(client.get(f"/api/v1/persons/{a}/identity", headers=h).json()["members"]) == 1
    r = client.post("/api/v1/resolution/merges", headers=h, json={"a": a, "b": b, "reason": "DNA match"})
    assert r.status_code == 201
    r = client.post("/api/v1/resolution/merges", headers=h, json={"a": a, "b": b, "reason": "DNA match"})
    assert r.status_code == 409
