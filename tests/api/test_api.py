"""HTTP API: CRUD, versions, problem JSON naming field and rule, 401/404/409/413."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from starlette.testclient import TestClient

from amane.api.app import create_app
from tests.conftest import PASSWORD


@pytest.fixture
def api(world: Any) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(world.svc, web=False))
    name = world.username("REGA", "unit_chief")
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                "otp": pyotp.TOTP(world.secrets[name]).now()})
    assert r.status_code == 200, r.text
    return client, {"Authorization": f"Bearer {r.json()['token']}", "X-Purpose": "api test"}


def test_crud_history_and_versions(api: Any) -> None:
    client, h = api
    r = client.post("/api/v1/entities", headers=h, json={"schema": "Person", "data": {
        "given_name": "Fatima Zahra", "family_name": "Bennani", "given_name_ar": "فاطمة الزهراء",
        "phone": "0661-23 45 67", "national_id": "be 123456", "birth_date": "1990-04-12"}})
    assert r.status_code == 201, r.text
    ent = r.json()
    assert ent["data"]["phone"] == "+212661234567" and ent["data"]["national_id"] == "BE123456"
    assert ent["owner_unit"] == "REGA" and ent["version"] == 1 and r.headers["etag"] == '"1"'
    eid = ent["id"]
    assert client.get(f"/api/v1/entities/{eid}", headers=h).json()["caption"]
    r = client.patch(f"/api/v1/entities/{eid}", headers={**h, "If-Match": '"1"'}, json={"data": {"sex": "F"}})
    assert r.status_code == 200 and r.json()["version"] == 2
    # stale edit -> 409 naming the version
    r = client.patch(f"/api/v1/entities/{eid}", headers={**h, "If-Match": '"1"'}, json={"data": {"sex": "M"}})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "version" and r.json()["current_version"] == 2
    hist = client.get(f"/api/v1/entities/{eid}/history", headers=h).json()
    assert [v["version"] for v in hist] == [2, 1] and hist[1]["data"].get("sex") is None
    r = client.delete(f"/api/v1/entities/{eid}", headers=h, params={"version": 2, "reason": "duplicate entry"})
    assert r.status_code == 204
    assert client.get(f"/api/v1/entities/{eid}", headers=h).status_code == 404


@pytest.mark.parametrize(("data", "field", "rule_prefix"), [
    ({"given_name": "Ali", "phone": "12"}, "data.phone", "phone"),
    ({"given_name": "Ali", "national_id": "123"}, "data.national_id", "cin"),
    ({"given_name": "Ali", "birth_date": "2999-01-01"}, "data.birth_date", "date"),
    ({"given_name": "Ali", "shoe": "44"}, "data.shoe", "property"),
    ({"birth_place": "Fès"}, "data", "property"),
])
def test_bad_input_names_field_and_rule(api: Any, data: dict[str, Any], field: str, rule_prefix: str) -> None:
    client, h = api
    r = client.post("/api/v1/entities", headers=h, json={"schema": "Person", "data": data})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"] == field and e["rule"].startswith(rule_prefix) for e in body["errors"]), body
    assert client.get("/api/v1/entities", headers=h, params={"schema": "Person"}).json()["total"] == 0


def test_vehicle_plate_and_iban(api: Any) -> None:
    client, h = api
    r = client.post("/api/v1/entities", headers=h, json={"schema": "Vehicle", "data": {"plate": "1234-A-6"}})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/entities", headers=h, json={"schema": "BankAccount",
                                                          "data": {"iban": "MA64011519000001205000534922"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "data.iban"


def test_malformed_json_unknown_schema_oversize(api: Any, world: Any) -> None:
    client, h = api
    r = client.post("/api/v1/entities", headers={**h, "Content-Type": "application/json"}, content=b'{"schema": ')
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "json.syntax"
    r = client.post("/api/v1/entities", headers=h, json={"schema": "Spaceship", "data": {}})
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "schema", "rule": "schema.unknown", "message": r.json()["errors"][0]["message"]}
    big = world.svc.settings.max_body_bytes + 10
    r = client.post("/api/v1/entities", headers={**h, "Content-Type": "application/json"}, content=b"x" * big)
    assert r.status_code == 413


def test_capability_needed_for_writes(world: Any) -> None:
    client = TestClient(create_app(world.svc, web=False))
    name = world.username("REGA", "analyst")
    tok = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                  "otp": pyotp.TOTP(world.secrets[name]).now()}).json()["token"]
    r = client.post("/api/v1/entities", headers={"Authorization": f"Bearer {tok}"},
                    json={"schema": "Person", "data": {"given_name": "X"}})
    assert r.status_code == 403 and r.json()["capability"] == "records.create"


def test_person_search_needs_purpose(api: Any) -> None:
    client, h = api
    no_purpose = {"Authorization": h["Authorization"]}
    r = client.get("/api/v1/entities", headers=no_purpose, params={"schema": "Person", "q": "alaoui"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "purpose"
    assert client.get("/api/v1/entities", headers=h, params={"schema": "Person", "q": "alaoui"}).status_code == 200


def test_login_failure_identical(world: Any) -> None:
    client = TestClient(create_app(world.svc, web=False))
    a = client.post("/api/v1/auth/token", json={"username": world.username("HQ", "officer"),
                                                "password": "nope-nope-123", "otp": "123456"})
    b = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope-123",
                                                "otp": "123456"})
    assert a.status_code == b.status_code == 401 and a.json() == b.json()


def test_openapi_served(api: Any) -> None:
    client, _ = api
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/entities/{eid}" in spec["paths"]


def test_units_admin_only(world: Any) -> None:
    client = TestClient(create_app(world.svc, web=False))

    def token(unit: str, role: str) -> dict[str, str]:
        name = world.username(unit, role)
        r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD,
                                                    "otp": pyotp.TOTP(world.secrets[name]).now()})
        return {"Authorization": f"Bearer {r.json()['token']}"}

    new = {"code": "STA2", "parent": "PROVA", "kind": "station", "name_ar": "مفوضية أ2",
           "name_fr": "Commissariat A2", "name_en": "Station A2"}
    assert client.post("/api/v1/units", headers=token("REGA", "unit_chief"), json=new).status_code == 403
    admin = token("REGA", "administrator")
    r = client.post("/api/v1/units", headers=admin, json={**new, "kind": "castle"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit.kind"
    r = client.post("/api/v1/units", headers=admin, json=new)
    assert r.status_code == 201 and r.json()["parent"] == "PROVA"
    # an administrator of region A cannot add units under region B
    r = client.post("/api/v1/units", headers=admin, json={**new, "code": "STB2", "parent": "STB"})
    assert r.status_code == 422
    r = client.patch("/api/v1/units/STA2", headers=admin, json={"name_fr": "Commissariat Hay Riad"})
    assert r.status_code == 200 and r.json()["name_fr"] == "Commissariat Hay Riad"
    assert client.patch("/api/v1/units/STB", headers=admin, json={"name_fr": "X"}).status_code == 404
