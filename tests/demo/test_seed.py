"""`amane demo seed` on a small scale: the real unit tree, the demo accounts, records and relations."""

from __future__ import annotations

from typing import Any

import pyotp
from rich.console import Console

from amane.demo.seed import DEMO_PASSWORD, seed_demo
from amane.services.audit import verify
from amane.services.context import Actor
from amane.services.entities import ListQuery


def test_seed_small(svc: Any) -> None:
    counts = seed_demo(svc, persons=300, incidents=1500, seed=5, console=Console(quiet=True))
    assert counts["Person"] == 300 and counts["Incident"] == 1500 and counts["Involvement"] > 1000
    units = svc.units.all()
    assert len(units) > 400 and sum(u.kind == "regional_service" for u in units) == 12
    # idempotent with --if-empty
    again = seed_demo(svc, persons=300, incidents=1500, seed=5, if_empty=True, console=Console(quiet=True))
    assert again == {}
    # the demo chief of Casablanca logs in and sees only the Casablanca-Settat region's incidents
    secret = svc.users.totp_secret("chief.casa")
    res = svc.auth.login("chief.casa", DEMO_PASSWORD, pyotp.TOTP(secret).now())
    chief = res.actor
    page = svc.entities.list(chief, ListQuery(schema="Incident", per_page=200))
    assert 0 < page.total < 1500
    assert all(i.data.get("region") == "06" for i in page.items)
    national = svc.entities.count(Actor.system(), ListQuery(schema="Incident"))
    assert national == 1500 + counts["accepted"]  # accepted demo complaints became incidents
    assert counts["complaints"] == 8 and counts["cases"] == 2
    cases, _ = svc.cases.list(chief)
    assert {c.state for c in cases} == {"open", "investigating"}
    # relations resolve to real records
    inv = svc.entities.list(Actor.system(), ListQuery(schema="Involvement", per_page=5)).items[0]
    assert svc.entities.get(Actor.system(), inv.data["person"]).schema == "Person"
    assert verify(svc.db)[1] is None
