"""The duplicate review screens: run with progress, side-by-side queue in ar/fr/en, accept and
reject with CSRF, the identity panel on the person page, undo from there."""

from __future__ import annotations

import time
from typing import Any

from amane.services.context import Actor
from amane.web.i18n import t
from tests.web.test_pages import LANGS, html_tag, sign_in, txt


def _two_records(world: Any) -> tuple[str, str]:
    sys = Actor.system()
    a = world.svc.entities.create(sys, "Person", {"given_name": "Hicham", "family_name": "El Idrissi",
                                                  "birth_date": "1988-01-30", "father_name": "Mustapha"},
                                  owner_unit="STA").id
    b = world.svc.entities.create(sys, "Person", {"given_name_ar": "هشام", "family_name_ar": "الإدريسي",
                                                  "birth_date": "1988-01-30", "father_name": "مصطفى"},
                                  owner_unit="STB").id
    return a, b


def test_review_run_queue_decide_and_undo(world: Any) -> None:
    a, b = _two_records(world)
    client, csrf = sign_in(world, world.username("HQ", "analyst"))
    page = client.get("/review")
    assert page.status_code == 200 and t("review.empty", "fr") in txt(page)
    # start a run: a page with progress that refreshes itself until done
    r = client.post("/review/runs", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    for _ in range(200):
        body = txt(client.get(job_url, headers={"HX-Request": "true"}))
        if 'hx-get="' + job_url not in body:
            break
        time.sleep(0.1)
    assert t("review.open_queue", "fr") in body, body[-2000:]
    # the queue shows both records side by side, in each language
    for lang in LANGS:
        client.get(f"/lang/{lang}")
        page = client.get("/review")
        text = txt(page)
        assert f'lang="{lang}"' in html_tag(text)
        assert "Hicham" in text and "هشام" in text and t("review.accept", lang) in text
    client.get("/lang/fr")
    cid = int(txt(client.get("/review")).split('action="/review/candidates/')[1].split('"')[0])
    # without CSRF: refused, nothing changes
    r = client.post(f"/review/candidates/{cid}", data={"decision": "accept"}, follow_redirects=False)
    assert r.status_code == 403
    # reject without a reason: the page says so, nothing changes
    r = client.post(f"/review/candidates/{cid}", data={"decision": "reject", "csrf": csrf})
    assert t("review.errors.property.required", "fr") in txt(r)
    r = client.post(f"/review/candidates/{cid}", data={"decision": "accept", "csrf": csrf, "reason": "même père"})
    assert t("review.done.accept", "fr") in txt(r) and t("review.empty", "fr") in txt(r)
    # the person page shows the identity with both names; a region-A chief sees only its own record
    page = txt(client.get(f"/records/view/{a}"))
    assert "هشام الإدريسي" in page and t("identity.undo", "fr") in page
    chief_a, _ = sign_in(world, world.username("REGA", "unit_chief"))
    page_a = txt(chief_a.get(f"/records/view/{a}"))
    assert "هشام" not in page_a and t("identity.alone", "fr") in page_a
    # undo from the person page
    mid = int(page.split("/merges/")[1].split("/")[0])
    r = client.post(f"/records/view/{a}/merges/{mid}/undo", data={"csrf": csrf, "reason": "frères jumeaux"})
    assert r.status_code == 200 and t("identity.undone", "fr") in txt(r)
    assert t("identity.alone", "fr") in txt(r)
    # officers have no review page
    officer, _ = sign_in(world, world.username("HQ", "officer"))
    assert officer.get("/review").status_code == 403
    assert "/review" not in txt(officer.get("/")).split("</nav>")[1]
