"""The need-to-know rule, checked for every read path against an independent oracle.

Users of three units (national HQ, region A, region B), every role, three clearances, against
records owned by each unit at each classification (plus one record shared across regions).
Paths: detail, list (items and totals), text search, count, history, relations, export,
update and delete, through the services and through the HTTP API. The test counts its
attempts and asserts that not one crossed the rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from amane.api.app import create_app
from amane.services.context import Actor
from amane.services.entities import ListQuery
from amane.services.errors import Forbidden, NotFound
from amane.services.imports import iter_export
from amane.services.roles import CLEARANCES, capabilities_of

OWNERS = {"HQ": "HQ", "STA": "REGA", "STB": "REGB"}  # owner unit -> region root it belongs to
SUBTREE = {"HQ": {"HQ", "NATCYBER", "REGA", "PROVA", "STA", "REGB", "STB"},
           "REGA": {"REGA", "PROVA", "STA"}, "REGB": {"REGB", "STB"}}


def oracle(unit: str, role: str, clearance: str, rec: dict[str, Any], cap: str = "records.read") -> bool:
    """The rule, restated independently of amane.services.policy."""
    if cap not in capabilities_of([role]):
        return False
    if CLEARANCES.index(rec["classification"]) > CLEARANCES.index(clearance):
        return False
    if unit == "HQ":  # national unit: every region
        return True
    return rec["owner"] in SUBTREE[unit] or any(u in SUBTREE[unit] for u in rec["shared"])


@pytest.fixture
def records(world: Any) -> list[dict[str, Any]]:
    system = Actor.system()
    svc = world.svc
    recs = []
    for owner in OWNERS:
        for cls in CLEARANCES:
            v = svc.entities.create(system, "Person", {"given_name": "Karim", "family_name": f"Zz{owner}{cls}",
                                                       "phone": "0612345678"},
                                    owner_unit=owner, classification=cls)
            recs.append({"id": v.id, "owner": owner, "classification": cls, "shared": set(), "caption": v.caption})
    # a region-B record shared with region A
    v = svc.entities.create(system, "Person", {"given_name": "Samir", "family_name": "Zzshared"},
                            owner_unit="STB", classification="unclassified")
    svc.entities.share(system, v.id, "REGA")
    recs.append({"id": v.id, "owner": "STB", "classification": "unclassified", "shared": {"REGA"},
                 "caption": v.caption})
    # a relation from each record to an incident owned by HQ/secret, to exercise the relations path
    inc = svc.entities.create(system, "Incident", {"title": "Vol", "offence_category": _any_offence(svc),
                                                   "occurred_from": "2025-03-01T10:00:00Z"},
                              owner_unit="HQ", classification="unclassified")
    for r in recs:
        svc.entities.create(system, "Involvement", {"person": r["id"], "incident": inc.id, "role": "suspect"},
                            owner_unit=r["owner"], classification=r["classification"])
    return recs


def _any_offence(svc: Any) -> str:
    prop = svc.registry.get("Incident").properties["offence_category"]
    return sorted(prop.values)[0]


def test_service_paths_follow_the_rule(world: Any, records: list[dict[str, Any]]) -> None:
    svc = world.svc
    attempts = violations = 0
    ids = {r["id"] for r in records}
    for (unit, role, clearance) in list(world.actors):
        actor = world.actor(unit, role, clearance)
        expected = {r["id"] for r in records if oracle(unit, role, clearance, r)}
        # detail + history + relations
        for r in records:
            for path in ("get", "history", "relations"):
                attempts += 1
                try:
                    getattr(svc.entities, path)(actor, r["id"])
                    seen = True
                except NotFound:
                    seen = False
                if seen != (r["id"] in expected):
                    violations += 1
        # list + totals, text search, count
        page = svc.entities.list(actor, ListQuery(schema="Person", per_page=200))
        listed = {i.id for i in page.items} & ids
        attempts += 2
        violations += int(listed != expected) + int(page.total != len(expected))
        if actor.can("persons.search"):
            found = svc.entities.list(actor, ListQuery(schema="Person", q="zz", per_page=200))
            attempts += 2
            violations += int({i.id for i in found.items} != expected) + int(found.total != len(expected))
            by_phone = svc.entities.list(actor, ListQuery(schema="Person", q="+212612345678", per_page=200))
            attempts += 1
            violations += int(by_phone.total != len(expected - {records[-1]["id"]}))
        attempts += 1
        violations += int(svc.entities.count(actor, ListQuery(schema="Person")) != len(expected))
        # export
        exp_expected = {r["id"] for r in records if oracle(unit, role, clearance, r, "records.export")}
        exported = {e["id"] for e in iter_export(svc.db, actor, "Person")}
        attempts += 1
        violations += int(exported != exp_expected)
        # relations never reveal an invisible linked record
        for r in records:
            if r["id"] in expected:
                rels = svc.entities.relations(actor, r["id"])
                attempts += 1
                violations += int(any(CLEARANCES.index(x.classification) > CLEARANCES.index(clearance) for x in rels))
    assert attempts > 3000
    assert violations == 0, f"{violations} of {attempts} attempts crossed the need-to-know rule"
    print(f"access matrix (services): {attempts} attempts, {violations} violations")


def test_writes_follow_the_rule(world: Any, records: list[dict[str, Any]]) -> None:
    svc = world.svc
    attempts = violations = 0
    for (unit, role, clearance) in list(world.actors):
        if clearance != "secret":
            continue
        actor = world.actor(unit, role, clearance)
        for r in records:
            visible = oracle(unit, role, clearance, r)
            attempts += 1
            try:
                cur = svc.entities.get(Actor.system(), r["id"])
                svc.entities.update(actor, r["id"], {"notes": f"edited by {actor.username}"},
                                    expected_version=cur.version, partial=True)
                outcome = "ok"
            except NotFound:
                outcome = "hidden"
            except Forbidden:
                outcome = "forbidden"
            if not visible and outcome != "hidden" and outcome != "forbidden":
                violations += 1
            if visible and actor.can("records.update") and outcome != "ok":
                violations += 1
            if not actor.can("records.update") and outcome == "ok":
                violations += 1
            if not visible and outcome == "forbidden" and actor.can("records.update"):
                violations += 1
    assert attempts > 100
    assert violations == 0, f"{violations} of {attempts} write attempts crossed the rule"


def test_api_paths_follow_the_rule(world: Any, records: list[dict[str, Any]]) -> None:
    svc = world.svc
    client = TestClient(create_app(svc, web=False))
    attempts = violations = 0
    from amane.store.tables import User

    with svc.db.read() as s:
        user_ids = {u.username: u.id for u in s.query(User).all()}
    missing = "0" * 32
    for (unit, role, clearance) in list(world.actors):
        if clearance == "restricted":
            continue
        token = svc.auth.create_token(user_ids[world.username(unit, role, clearance)], "test")
        h = {"Authorization": f"Bearer {token}", "X-Purpose": "access test"}
        expected = {r["id"] for r in records if oracle(unit, role, clearance, r)}
        for r in records:
            for suffix in ("", "/history", "/relations"):
                resp = client.get(f"/api/v1/entities/{r['id']}{suffix}", headers=h)
                attempts += 1
                want = 200 if r["id"] in expected else 404
                violations += int(resp.status_code != want)
                if want == 404:
                    ghost = client.get(f"/api/v1/entities/{missing}{suffix}", headers=h)
                    # identical to a record that does not exist
                    violations += int(resp.json() | {"instance": ""} != ghost.json() | {"instance": ""})
        resp = client.get("/api/v1/entities", params={"schema": "Person", "per_page": 200}, headers=h)
        attempts += 1
        body = resp.json()
        violations += int(resp.status_code != 200 or body["total"] != len(expected)
                          or {i["id"] for i in body["items"]} != expected)
    assert attempts > 300
    assert violations == 0, f"{violations} of {attempts} API attempts crossed the rule"
    # anonymous: nothing
    assert client.get(f"/api/v1/entities/{records[0]['id']}").status_code == 401
    assert client.get("/api/v1/entities").status_code == 401


def test_users_and_audit_endpoints_follow_scope(world: Any, records: list[dict[str, Any]]) -> None:
    """Users and audit records are scoped by unit too: a regional auditor sees only the audit
    trail of users in their region; users.read lists only the scope's users."""
    svc = world.svc
    client = TestClient(create_app(svc, web=False))
    from amane.store.tables import User

    # some activity by users of each region
    for unit in ("HQ", "REGA", "REGB"):
        actor = world.actor(unit, "investigator")
        for r in records:
            try:
                svc.entities.get(actor, r["id"])
            except NotFound:
                pass
    with svc.db.read() as s:
        user_ids = {u.username: u.id for u in s.query(User).all()}
        user_units = {u.username: u.unit.code for u in s.query(User).all()}
    attempts = violations = 0
    for (unit, role, clearance) in list(world.actors):
        if clearance != "secret":
            continue
        token = svc.auth.create_token(user_ids[world.username(unit, role, clearance)], "test")
        h = {"Authorization": f"Bearer {token}"}
        caps = capabilities_of([role])
        # users
        r = client.get("/api/v1/users", headers=h)
        attempts += 1
        if "users.read" not in caps:
            violations += int(r.status_code != 403)
        else:
            seen = {u["username"] for u in r.json()}
            want = {n for n, code in user_units.items() if code in SUBTREE[unit] or unit == "HQ"}
            violations += int(seen != want)
        # audit search
        r = client.get("/api/v1/audit", headers=h, params={"per_page": 500, "action": "read"})
        attempts += 1
        if "audit.read" not in caps:
            violations += int(r.status_code != 403)
        else:
            units_seen = {i["unit"] for i in r.json()["items"]}
            violations += int(not units_seen or not units_seen <= SUBTREE[unit])
            violations += int(unit == "HQ" and units_seen != {"HQ", "REGA", "REGB"})
        # one user's detail: outside the scope answers 404, like a missing name
        other = world.username("REGB" if unit == "REGA" else "REGA", "officer")
        r = client.get(f"/api/v1/users/{other}", headers=h)
        attempts += 1
        if "users.read" in caps:
            visible = user_units[other] in SUBTREE[unit]
            violations += int(r.status_code != (200 if visible else 404))
            if not visible:
                ghost = client.get("/api/v1/users/nobody.at.all", headers=h)
                violations += int(ghost.json() | {"instance": ""} != r.json() | {"instance": ""})
    assert attempts >= 60
    assert violations == 0, f"{violations} of {attempts} attempts crossed the scope rule"
