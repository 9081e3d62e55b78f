"""Procedure pages: the citizen's public complaint form and status page (no account, CSRF by
double-submit cookie, rate-limited), complaints with their decisions, incident reports with
approval, case files with tasks and notes, and the inbox; in ar/fr/en, with field errors
that change nothing, 409s that list the allowed transitions, and need-to-know 404s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from amane.api import procedures as api_proc
from amane.api.app import create_app
from amane.services.context import Actor
from amane.web.i18n import t
from tests.web.test_pages import LANGS, csrf_of, html_tag, sign_in, txt

COMPLAINT_FORM = {
    "data.complainant_name": "Samira Benjelloun", "data.complainant_phone": "0661234567",
    "data.category": "theft", "data.occurred_from": "2026-11-20T21:30", "data.place": "Boulevard Zerktouni",
    "data.facts": "On m'a arraché mon sac près du tramway.",
}
COMPLAINT = {"complainant_name": "Samira Benjelloun", "category": "theft", "occurred_from": "2026-11-20T21:30",
             "facts": "On m'a arraché mon sac près du tramway."}


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own rate-limit windows (the test client always comes from one address)."""
    monkeypatch.setattr(api_proc, "public_limit", api_proc.RateLimiter(10, 3600))
    monkeypatch.setattr(api_proc, "track_limit", api_proc.RateLimiter(30, 600))
    yield


def _expected(lang: str) -> str:
    return f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'


def _count(world: Any) -> int:
    return world.svc.complaints.list(world.actor("HQ", "unit_chief"))[1]


def _public(world: Any, lang: str = "fr") -> tuple[TestClient, str]:
    client = TestClient(create_app(world.svc))
    client.cookies.set("amane_lang", lang)
    r = client.get("/public/complaint")
    assert r.status_code == 200, txt(r)[-800:]
    return client, csrf_of(txt(r))


def _alert(text: str) -> str:
    m = re.search(r'<div class="alert alert-error[^"]*" role="alert">(.*?)</div>', text, re.S)
    assert m, text[-1500:]
    return m.group(1).strip()


def _report_content(world: Any) -> dict[str, Any]:
    suspect = world.svc.entities.create(Actor.system(), "Person", {"given_name": "Yassine", "family_name": "Kabbaj"},
                                        owner_unit="STA").id
    return {"title": "Vol à l'arraché", "offence_category": "robbery", "occurred_from": "2026-11-20T21:30",
            "narrative": "La victime déclare...", "involved": [{"person": suspect, "role": "suspect"}]}


def _path(world: Any) -> dict[str, Any]:
    """A complaint accepted, its report approved, a case opened with a task: made through the services."""
    svc = world.svc
    officer, investigator, chief = (world.actor("REGA", r) for r in ("officer", "investigator", "unit_chief"))
    receipt = svc.complaints.take(officer, COMPLAINT)
    accepted = svc.complaints.accept(investigator, receipt.complaint_id)
    rep = svc.reports.create(officer, _report_content(world), complaint_id=receipt.complaint_id)
    rep = svc.reports.submit(officer, rep.id, version=rep.version)
    rep = svc.reports.approve(chief, rep.id, version=rep.version)
    case = svc.cases.open(chief, title="Vols à l'arraché, tramway", incidents=[accepted.incident_id],
                          lead=investigator.username)
    task = svc.cases.add_task(chief, case.id, title="Visionner la vidéosurveillance", assignee=officer.username,
                              due_date="2026-12-01")
    svc.cases.add_note(chief, case.id, "Premières constatations")
    return {"complaint": receipt.complaint_id, "incident": accepted.incident_id, "report": rep.id, "case": case.id,
            "task": task.id, "receipt": receipt}


# --------------------------------------------------------------------------- public pages


def test_public_complaint_and_tracking(world: Any) -> None:
    client, token = _public(world)
    page = txt(client.get("/public/complaint"))
    assert "amane_session" not in client.cookies and t("nav.logout", "fr") not in page  # nobody signed in
    assert '<option value="STA">' in page and '<option value="STB">' in page and "Commissariat A" in page
    assert 'name="data.facts"' in page and 'name="data.complainant_name"' in page
    before = _count(world)

    # no form token (or another one): refused, nothing filed, the form comes back with a fresh token
    r = client.post("/public/complaint", data={**COMPLAINT_FORM, "unit": "STA", "csrf": "forged"})
    assert r.status_code == 400 and t("proc.public.expired", "fr") in txt(r)
    assert 'value="Samira Benjelloun"' in txt(r)
    token = csrf_of(txt(r))
    stranger = TestClient(create_app(world.svc))  # the token without its cookie
    assert stranger.post("/public/complaint", data={**COMPLAINT_FORM, "unit": "STA",
                                                    "csrf": token}).status_code == 400
    assert _count(world) == before

    # bad input: field errors next to their fields, input kept, nothing filed
    r = client.post("/public/complaint", data={"csrf": token, "unit": "NOPE", "data.complainant_phone": "12",
                                               "data.complainant_name": "Samira"})
    assert r.status_code == 422
    text = txt(r)
    assert re.search(r'id="f-data-facts-err">\s*<li[^>]*>' + re.escape(t("rules.property.required", "fr")), text)
    assert re.search(r'id="f-data-complainant_phone-err">\s*<li[^>]*>' + re.escape(t("rules.phone.invalid", "fr")),
                     text)
    assert re.search(r'id="f-unit-err">\s*<li[^>]*>' + re.escape(t("rules.unit.unknown", "fr")), text)
    assert 'value="Samira"' in text and t("proc.complaints.not_filed", "fr") in text
    assert _count(world) == before

    # filed: the receipt with the reference, the tracking number and the secret code
    r = client.post("/public/complaint", data={**COMPLAINT_FORM, "unit": "STA", "csrf": token})
    assert r.status_code == 200, txt(r)[-1500:]
    text = txt(r)
    reference = re.search(r'id="receipt-reference">([^<]+)<', text).group(1)
    number = re.search(r'id="receipt-tracking">([^<]+)<', text).group(1)
    code = re.search(r'id="receipt-code">([^<]+)<', text).group(1)
    assert re.fullmatch(r"PLT-\d{4}-STA-\d{6}", reference) and len(code) == 8
    assert t("proc.receipt.keep", "fr") in text and r.headers["cache-control"] == "no-store"
    assert _count(world) == before + 1
    cid = world.svc.complaints.list(world.actor("REGA", "unit_chief"))[0][0].id

    # following it: the status and the dated steps, nothing else
    r = client.get("/public/track", params={"number": number})
    assert r.status_code == 200 and f'value="{number}"' in txt(r)
    r = client.post("/public/track", data={"csrf": token, "tracking_number": number, "secret_code": code})
    assert r.status_code == 200, txt(r)[-1000:]
    text = txt(r)
    assert t("proc.public.status_is", "fr", status=t("proc.states.complaint.received", "fr")) in text
    assert t("proc.public.events.received", "fr") in text
    assert "Samira" not in text and "tramway" not in text and reference not in text
    # a wrong code and an unknown number: the same answer
    wrong = client.post("/public/track", data={"csrf": token, "tracking_number": number, "secret_code": "AAAAAAAA"})
    unknown = client.post("/public/track", data={"csrf": token, "tracking_number": "ZZZZZZZZZZ",
                                                  "secret_code": "AAAAAAAA"})
    assert wrong.status_code == unknown.status_code == 404
    assert txt(wrong).replace(number, "N") == txt(unknown).replace("ZZZZZZZZZZ", "N")
    assert _alert(txt(wrong)) == t("proc.public.not_found", "fr")
    # accepted at the station: the citizen sees it, in Arabic too
    world.svc.complaints.accept(world.actor("REGA", "investigator"), cid)
    client.cookies.set("amane_lang", "ar")
    r = client.post("/public/track", data={"csrf": token, "tracking_number": number, "secret_code": code})
    assert r.status_code == 200 and html_tag(txt(r)) == _expected("ar")
    assert t("proc.public.events.accepted", "ar") in txt(r) and "/records/view/" not in txt(r)


def test_public_pages_in_each_language(world: Any) -> None:
    for lang in LANGS:
        client = TestClient(create_app(world.svc))
        client.cookies.set("amane_lang", lang)
        for url in ("/public/complaint", "/public/track"):
            r = client.get(url)
            assert r.status_code == 200, (url, lang)
            assert html_tag(txt(r)) == _expected(lang)
            assert t("proc.public.file_title", lang) in txt(r) and t("app.footer", lang) in txt(r)
            assert "amane_public_csrf=" in r.headers.get("set-cookie", "") or client.cookies.get("amane_public_csrf")
        assert ("مفوضية أ" if lang == "ar" else "Station A" if lang == "en" else "Commissariat A") in txt(
            client.get("/public/complaint"))


def test_public_form_is_rate_limited(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_proc, "public_limit", api_proc.RateLimiter(1, 3600))
    monkeypatch.setattr(api_proc, "track_limit", api_proc.RateLimiter(1, 600))
    client, token = _public(world, "ar")
    before = _count(world)
    assert client.post("/public/complaint", data={**COMPLAINT_FORM, "unit": "STA", "csrf": token}).status_code == 200
    r = client.post("/public/complaint", data={**COMPLAINT_FORM, "unit": "STA", "csrf": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert html_tag(txt(r)) == _expected("ar") and t("proc.limited.title", "ar") in txt(r)
    assert _count(world) == before + 1
    data = {"csrf": token, "tracking_number": "ZZZZZZZZZZ", "secret_code": "AAAAAAAA"}
    assert client.post("/public/track", data=data).status_code == 404
    assert client.post("/public/track", data=data).status_code == 429


# --------------------------------------------------------------------------- staff pages


def test_every_procedure_page_in_each_language(world: Any) -> None:
    ids = _path(world)
    chief, _ = sign_in(world, world.username("REGA", "unit_chief"))
    officer, _ = sign_in(world, world.username("REGA", "officer"))
    pages = ["/complaints", "/complaints?status=accepted", "/complaints/new", f"/complaints/{ids['complaint']}",
             "/reports", "/reports?view=approve", "/reports?view=all&state=approved", "/reports/new",
             f"/reports/new?complaint_id={ids['complaint']}", f"/reports/new?incident_id={ids['incident']}",
             f"/reports/{ids['report']}", f"/reports/{ids['report']}/edit",
             "/cases", "/cases?view=all&state=open", "/cases/new", f"/cases/new?incident_id={ids['incident']}",
             f"/cases/{ids['case']}", "/inbox"]
    for lang in LANGS:
        chief.cookies.set("amane_lang", lang)
        officer.cookies.set("amane_lang", lang)
        for url in pages:
            r = chief.get(url)
            assert r.status_code == 200, (url, lang, txt(r)[-1500:])
            assert html_tag(txt(r)) == _expected(lang), url
            text = txt(r)
            assert t("proc.nav.cases", lang) in text and t("app.footer", lang) in text
            assert "proc." not in re.sub(r"<[^>]+>", "", text), (url, lang)  # no untranslated key
        r = officer.get("/inbox")
        assert r.status_code == 200 and html_tag(txt(r)) == _expected(lang)
        assert "Visionner la vidéosurveillance" in txt(r)
        assert t("proc.inbox.kinds.task.assigned", lang, case="", task="").split(":")[0][:6] in txt(r)
        r = chief.get(f"/cases/{ids['case']}")
        assert t("proc.states.case.open", lang) in txt(r) and "Premières constatations" in txt(r)
        assert t("proc.cases.to_state.investigating", lang) in txt(r)


def test_station_complaint_and_decisions(world: Any) -> None:
    officer, ocsrf = sign_in(world, world.username("REGA", "officer"))
    investigator, icsrf = sign_in(world, world.username("REGA", "investigator"))
    before = _count(world)
    form = txt(officer.get("/complaints/new"))
    assert '<option value="REGA" selected>' in form
    # errors first: nothing registered
    r = officer.post("/complaints/new", data={"csrf": ocsrf, "unit": "REGA", "data.facts": "x",
                                              "data.occurred_from": "2999-01-01T10:00"})
    assert r.status_code == 422 and 'id="f-data-complainant_name-err"' in txt(r)
    assert re.search(r'id="f-data-occurred_from-err">\s*<li[^>]*>' + re.escape(t("rules.date.future", "fr")), txt(r))
    assert _count(world) == before
    # a unit outside the officer's scope is refused on its field
    r = officer.post("/complaints/new", data={**COMPLAINT_FORM, "csrf": ocsrf, "unit": "STB"})
    assert r.status_code == 422 and 'id="f-unit-err"' in txt(r) and _count(world) == before
    r = officer.post("/complaints/new", data={"csrf": ocsrf, "unit": "STA",
                                              "data.complainant_name": "Karim Alami", "data.facts": "Tapage"})
    assert r.status_code == 200 and t("proc.receipt.keep", "fr") in txt(r)
    cid = int(re.search(r'href="/complaints/(\d+)"', txt(r)).group(1))
    assert _count(world) == before + 1
    # the officer takes complaints but does not decide: no decision forms
    page = txt(officer.get(f"/complaints/{cid}"))
    assert "Karim Alami" in page and f"/complaints/{cid}/accept" not in page
    assert officer.post(f"/complaints/{cid}/close", data={"csrf": ocsrf, "reason": "x"}).status_code == 403
    # the investigator: accepting an incomplete complaint names what is missing, changes nothing
    page = txt(investigator.get(f"/complaints/{cid}"))
    assert f"/complaints/{cid}/accept" in page and f"/complaints/{cid}/redirect" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = investigator.post(f"/complaints/{cid}/accept", data={"csrf": icsrf, "version": version})
    assert r.status_code == 422
    label = world.svc.complaints.form.properties["category"].label_for("fr")
    assert label in txt(r) and t("rules.property.required", "fr") in txt(r)
    assert world.svc.complaints.get(world.actor("REGA", "investigator"), cid).status == "received"
    # close without a reason: the field error; with one: closed
    r = investigator.post(f"/complaints/{cid}/close", data={"csrf": icsrf, "version": version, "reason": ""})
    assert r.status_code == 422 and t("rules.property.required", "fr") in txt(r)
    r = investigator.post(f"/complaints/{cid}/close", data={"csrf": icsrf, "version": version,
                                                            "reason": "Différend civil"}, follow_redirects=False)
    assert r.status_code == 303
    page = txt(investigator.get(r.headers["location"]))
    assert t("proc.complaints.done.close", "fr") in page and "Différend civil" in page
    assert f"/complaints/{cid}/accept" not in page  # closed is final: no more decisions
    # an illegal decision (the stale page): 409, with why
    r = investigator.post(f"/complaints/{cid}/accept", data={"csrf": icsrf})
    assert r.status_code == 409
    assert t("proc.conflict.final", "fr", state=t("proc.states.complaint.closed", "fr")) in txt(r)
    r = investigator.post(f"/complaints/{cid}/close", data={"csrf": icsrf, "version": version, "reason": "x"})
    assert r.status_code == 409 and t("proc.conflict.stale", "fr", version=int(version) + 1) in txt(r)

    # a complaint accepted: the incident record, the "write the report" button; redirected elsewhere
    receipt = world.svc.complaints.take(world.actor("REGA", "officer"), COMPLAINT)
    r = investigator.post(f"/complaints/{receipt.complaint_id}/accept", data={"csrf": icsrf, "version": "1"},
                          follow_redirects=False)
    assert r.status_code == 303
    page = txt(investigator.get(r.headers["location"]))
    incident = world.svc.complaints.get(world.actor("REGA", "investigator"), receipt.complaint_id).incident_id
    assert f'href="/records/view/{incident}"' in page
    assert f'href="/reports/new?complaint_id={receipt.complaint_id}"' in page
    other = world.svc.complaints.take(world.actor("REGA", "officer"), COMPLAINT)
    r = investigator.post(f"/complaints/{other.complaint_id}/redirect",
                          data={"csrf": icsrf, "version": "1", "unit": "STB", "reason": "Compétence territoriale"},
                          follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/complaints?done=redirected"
    assert investigator.get(f"/complaints/{other.complaint_id}").status_code == 404  # now region B's
    page = txt(investigator.get("/complaints?status=accepted"))
    assert receipt.reference in page and other.reference not in page


def test_report_pages(world: Any) -> None:
    svc = world.svc
    receipt = svc.complaints.take(world.actor("REGA", "officer"), COMPLAINT)
    svc.complaints.accept(world.actor("REGA", "investigator"), receipt.complaint_id)
    suspect = svc.entities.create(Actor.system(), "Person", {"given_name": "Yassine", "family_name": "Kabbaj"},
                                  owner_unit="STA").id
    officer, ocsrf = sign_in(world, world.username("REGA", "officer"))
    chief, ccsrf = sign_in(world, world.username("REGA", "unit_chief"))
    form = txt(officer.get(f"/reports/new?complaint_id={receipt.complaint_id}"))
    # prefilled from the complaint; the complainant already involved; at least 5 rows of persons
    assert re.search(r'<option value="theft" selected>', form)
    assert re.search(r'name="data.occurred_from"[^>]*value="2026-11-20T21:30"', form)
    assert "arraché mon sac" in form and len(re.findall(r'name="involved\.\d+\.person"', form)) >= 5
    assert re.search(r'<option value="complainant" selected>', form)
    fields = dict(re.findall(r'<input type="hidden" name="(incident_id|complaint_id)" value="([^"]*)"', form))
    assert fields["complaint_id"] == str(receipt.complaint_id) and len(fields["incident_id"]) == 32
    data = {"csrf": ocsrf, **fields, "data.title": "Vol à l'arraché", "data.offence_category": "robbery",
            "data.occurred_from": "2026-11-20T21:30", "data.narrative": "La victime déclare...",
            "involved.0.person": suspect, "involved.0.role": "suspect",
            "involved.1.person": "0" * 32, "involved.1.role": "witness", "involved.2.person": "", "involved.2.role": ""}
    # an unknown person on row 2 and a missing narrative: errors where they belong, nothing written
    before = svc.reports.list(world.actor("REGA", "unit_chief"))[1]
    r = officer.post("/reports/new", data={**data, "data.narrative": ""})
    assert r.status_code == 422
    assert re.search(r'id="f-involved-1-err">\s*<li[^>]*>' + re.escape(t("rules.reference.unknown", "fr")), txt(r))
    assert 'id="f-data-narrative-err"' in txt(r) and f'value="{suspect}"' in txt(r)
    assert svc.reports.list(world.actor("REGA", "unit_chief"))[1] == before
    data.update({"involved.1.person": "", "involved.1.role": ""})
    r = officer.post("/reports/new", data=data, follow_redirects=False)
    assert r.status_code == 303, txt(r)[-1500:]
    url = r.headers["location"]
    rid = int(url.rsplit("/", 1)[1])
    page = txt(officer.get(url))
    assert "Yassine Kabbaj" in page and t("proc.states.report.draft", "fr") in page
    assert f"/reports/{rid}/submit" in page and f"/reports/{rid}/edit" in page
    # a draft is its author's: the chief approves only once it is submitted
    r = officer.post(f"/reports/{rid}/submit", data={"csrf": ocsrf, "version": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert f"/reports/{rid}/submit" not in txt(officer.get(url))
    page = txt(chief.get("/reports?view=approve"))
    assert f'href="/reports/{rid}"' in page
    page = txt(chief.get(url))
    assert f"/reports/{rid}/approve" in page and f"/reports/{rid}/return" in page
    r = chief.post(f"/reports/{rid}/return", data={"csrf": ccsrf, "version": "2", "reason": ""})
    assert r.status_code == 422 and t("rules.property.required", "fr") in txt(r)
    r = chief.post(f"/reports/{rid}/return", data={"csrf": ccsrf, "version": "2", "reason": "Préciser l'heure"},
                   follow_redirects=False)
    assert r.status_code == 303
    page = txt(officer.get(url))
    assert "Préciser l'heure" in page and t("proc.states.report.returned", "fr") in page
    assert "Préciser l'heure" in txt(officer.get("/inbox"))
    # the author edits the returned report (stale version: 409, nothing saved), submits, the chief approves
    edit = txt(officer.get(f"/reports/{rid}/edit"))
    assert 'name="version" value="3"' in edit and f'value="{suspect}"' in edit
    again = {**{k: v for k, v in data.items() if k not in ("incident_id", "complaint_id")}, "version": "2",
             "data.occurred_from": "2026-11-20T21:35"}
    r = officer.post(f"/reports/{rid}/edit", data=again)
    assert r.status_code == 409 and t("proc.conflict.stale", "fr", version=3) in txt(r)
    r = officer.post(f"/reports/{rid}/edit", data={**again, "version": "3"}, follow_redirects=False)
    assert r.status_code == 303
    officer.post(f"/reports/{rid}/submit", data={"csrf": ocsrf, "version": "4"})
    r = chief.post(f"/reports/{rid}/approve", data={"csrf": ccsrf, "version": "5"}, follow_redirects=False)
    assert r.status_code == 303
    page = txt(chief.get(url))
    assert t("proc.reports.locked", "fr") in page and "/cases/new?incident_id=" in page
    # the printable report, in Arabic and French, behind the same session
    for code in ("ar", "fr"):
        assert f'href="/api/v1/reports/{rid}/pdf?lang={code}"' in page
    pdf = chief.get(f"/api/v1/reports/{rid}/pdf?lang=ar")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # approving again: refused, with the allowed transitions
    r = chief.post(f"/reports/{rid}/approve", data={"csrf": ccsrf, "version": "6"})
    assert r.status_code == 409
    assert t("proc.conflict.transition", "fr", state=t("proc.states.report.approved", "fr"),
             allowed=t("proc.states.report.submitted", "fr")) in txt(r)
    # locked: a correction needs a reason and makes a new version
    edit = txt(officer.get(f"/reports/{rid}/edit"))
    assert t("proc.reports.correction_reason", "fr") in edit
    r = officer.post(f"/reports/{rid}/edit", data={**again, "version": "6", "reason": ""})
    assert r.status_code == 422 and 'id="f-reason-err"' in txt(r)
    r = officer.post(f"/reports/{rid}/edit", data={**again, "version": "6", "reason": "Coquille"},
                     follow_redirects=False)
    assert r.status_code == 303
    page = txt(officer.get(url))
    assert "Coquille" in page and t("proc.states.report.submitted", "fr") in page
    assert page.count('<td class="num">') >= 7  # every version listed


def test_case_pages(world: Any) -> None:
    ids = _path(world)
    chief, ccsrf = sign_in(world, world.username("REGA", "unit_chief"))
    officer, ocsrf = sign_in(world, world.username("REGA", "officer"))
    form = txt(chief.get(f"/cases/new?incident_id={ids['incident']}"))
    assert ids["incident"] in form
    # errors: no title, an unknown lead, a member outside the chain; nothing opened
    before = world.svc.cases.list(world.actor("HQ", "unit_chief"))[1]
    r = chief.post("/cases/new", data={"csrf": ccsrf, "title": "", "incidents": ids["incident"],
                                       "lead": "nobody.here", "classification": "unclassified"})
    assert r.status_code == 422 and 'id="f-title-err"' in txt(r)
    r = chief.post("/cases/new", data={"csrf": ccsrf, "title": "Réseau", "incidents": ids["incident"],
                                       "lead": "nobody.here", "classification": "unclassified"})
    assert r.status_code == 422 and re.search(
        r'id="f-lead-err">\s*<li[^>]*>' + re.escape(t("proc.rules.user.unknown", "fr")), txt(r))
    assert 'value="Réseau"' in txt(r)
    assert world.svc.cases.list(world.actor("HQ", "unit_chief"))[1] == before
    r = chief.post("/cases/new", data={"csrf": ccsrf, "title": "Réseau", "incidents": ids["incident"],
                                       "lead": world.username("REGA", "investigator"),
                                       "members": world.username("REGA", "officer"), "classification": "restricted",
                                       "summary": "Série de vols"}, follow_redirects=False)
    assert r.status_code == 303, txt(r)[-1500:]
    url = r.headers["location"]
    cid = int(url.rsplit("/", 1)[1])
    page = txt(chief.get(url))
    assert "Réseau" in page and "Série de vols" in page and f'href="/records/view/{ids["incident"]}"' in page
    assert t("proc.team_roles.lead", "fr") in page and t("proc.team_roles.member", "fr") in page
    # a task for someone outside the unit chain: refused on its field
    r = chief.post(f"/cases/{cid}/tasks", data={"csrf": ccsrf, "title": "Audition", "assignee":
                                                world.username("REGB", "officer"), "due_date": "2026-12-05"})
    assert r.status_code == 422 and re.search(
        r'id="f-task-assignee-err">\s*<li[^>]*>' + re.escape(t("proc.rules.user.outside_chain", "fr")), txt(r))
    r = chief.post(f"/cases/{cid}/tasks", data={"csrf": ccsrf, "title": "Audition", "assignee":
                                                world.username("REGA", "officer"), "due_date": "05/12"})
    assert r.status_code == 422 and 'id="f-task-due-err"' in txt(r) and 'value="Audition"' in txt(r)
    r = chief.post(f"/cases/{cid}/tasks", data={"csrf": ccsrf, "title": "Audition", "assignee":
                                                world.username("REGA", "officer"), "due_date": "2026-12-05"},
                   follow_redirects=False)
    assert r.status_code == 303
    # the officer: the task in the inbox (badge), marks it done; a member adds a note but does not manage
    home = txt(officer.get("/"))
    assert re.search(r'class="nav-inbox"[^>]*>[^<]*<span class="count"[^>]*>3</span>', home), home[:3000]
    inbox = txt(officer.get("/inbox"))
    assert "Audition" in inbox and 'class="inbox-item unread"' in inbox
    # opening an item follows its link and marks it read; another user's item is unknown
    opened = re.search(r'href="/inbox/open/(\d+)">(?:(?!</a>).)*Audition', inbox)
    assert opened, inbox[:3000]
    before = world.svc.inbox.unread_count(world.actor("REGA", "officer"))
    r = officer.get(f"/inbox/open/{opened.group(1)}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{cid}"
    assert world.svc.inbox.unread_count(world.actor("REGA", "officer")) == before - 1
    assert chief.get(f"/inbox/open/{opened.group(1)}", follow_redirects=False).status_code == 404
    page = txt(officer.get(url))
    assert f"/cases/{cid}/state" not in page and f"/cases/{cid}/notes" in page
    task_id = max(tk.id for tk in world.svc.cases.get(world.actor("REGA", "unit_chief"), cid).tasks)
    r = officer.post(f"/cases/{cid}/tasks/{task_id}/status", data={"csrf": ocsrf, "status": "done"},
                     follow_redirects=False)
    assert r.status_code == 303
    r = officer.post(f"/cases/{cid}/notes", data={"csrf": ocsrf, "text": ""})
    assert r.status_code == 422 and 'id="f-note-err"' in txt(r)
    officer.post(f"/cases/{cid}/notes", data={"csrf": ocsrf, "text": "Images récupérées"})
    r = officer.post(f"/cases/{cid}/state", data={"csrf": ocsrf, "target": "investigating", "reason": "x"})
    assert r.status_code == 409 and t("proc.rules.case.manager_only", "fr") in txt(r)
    r = officer.post("/inbox/read", data={"csrf": ocsrf}, follow_redirects=False)
    assert r.status_code == 303
    assert 'class="count"' not in txt(officer.get("/inbox")) and world.svc.inbox.unread_count(
        world.actor("REGA", "officer")) == 0
    # transitions: the allowed ones as buttons; an illegal one is a 409 listing the allowed
    page = txt(chief.get(url))
    assert "Images récupérées" in page and t("proc.task_status.done", "fr") in page
    assert 'name="target" value="investigating"' in page and 'name="target" value="referred"' not in page
    r = chief.post(f"/cases/{cid}/state", data={"csrf": ccsrf, "target": "referred", "reason": "parquet"})
    assert r.status_code == 409
    sep = ", "
    allowed = sep.join(t(f"proc.states.case.{s}", "fr") for s in ("investigating", "closed"))
    assert t("proc.conflict.transition", "fr", state=t("proc.states.case.open", "fr"), allowed=allowed) in txt(r)
    r = chief.post(f"/cases/{cid}/state", data={"csrf": ccsrf, "target": "investigating", "reason": ""})
    assert r.status_code == 422 and t("rules.property.required", "fr") in txt(r)
    r = chief.post(f"/cases/{cid}/state", data={"csrf": ccsrf, "target": "investigating",
                                                "reason": "Enquête ouverte"}, follow_redirects=False)
    assert r.status_code == 303
    page = txt(chief.get(url))
    assert t("proc.states.case.investigating", "fr") in page and "Enquête ouverte" in page
    assert 'name="target" value="referred"' in page


def test_other_region_gets_404(world: Any) -> None:
    ids = _path(world)
    client, csrf = sign_in(world, world.username("REGB", "unit_chief"))
    pairs = ((f"/complaints/{ids['complaint']}", "/complaints/999999"),
             (f"/reports/{ids['report']}", "/reports/999999"),
             (f"/cases/{ids['case']}", "/cases/999999"),
             (f"/reports/new?complaint_id={ids['complaint']}", "/reports/new?complaint_id=999999"))
    for hidden_url, missing_url in pairs:
        hidden, missing = client.get(hidden_url), client.get(missing_url)
        assert hidden.status_code == missing.status_code == 404, hidden_url
        assert txt(hidden) == txt(missing) and t("errors.404.title", "fr") in txt(hidden)
    for url in (f"/complaints/{ids['complaint']}/close", f"/cases/{ids['case']}/notes"):
        r = client.post(url, data={"csrf": csrf, "reason": "x", "text": "x"})
        assert r.status_code == 404, url
    assert "Samira" not in txt(client.get("/complaints")) and "tramway" not in txt(client.get("/cases?view=all"))
    # a REGA analyst sees the incident, not the case file
    analyst, _ = sign_in(world, world.username("REGA", "analyst"))
    assert analyst.get(f"/cases/{ids['case']}").status_code == 404


def test_csrf_refused(world: Any) -> None:
    ids = _path(world)
    chief, csrf = sign_in(world, world.username("REGA", "unit_chief"))
    version = world.svc.cases.get(world.actor("REGA", "unit_chief"), ids["case"]).version
    for url, data in ((f"/cases/{ids['case']}/state", {"target": "investigating", "reason": "x"}),
                      (f"/cases/{ids['case']}/notes", {"text": "x"}),
                      (f"/cases/{ids['case']}/tasks", {"title": "x", "assignee": world.username("REGA", "officer")}),
                      ("/complaints/new", COMPLAINT_FORM), ("/cases/new", {"title": "x"}),
                      ("/inbox/read", {})):
        assert chief.post(url, data=data).status_code == 403, url
        assert chief.post(url, data={**data, "csrf": "wrong"}).status_code == 403, url
    assert world.svc.cases.get(world.actor("REGA", "unit_chief"), ids["case"]).version == version
    # with the token, it works
    r = chief.post(f"/cases/{ids['case']}/notes", data={"csrf": csrf, "text": "ok"}, follow_redirects=False)
    assert r.status_code == 303


def test_staff_pages_need_sign_in(world: Any) -> None:
    client = TestClient(create_app(world.svc))
    for url in ("/complaints", "/reports", "/cases/1", "/inbox"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
    # roles without the capability: 403
    analyst, csrf = sign_in(world, world.username("REGA", "analyst"))
    assert analyst.get("/complaints/new").status_code == 403
    assert analyst.get("/reports/new").status_code == 403
    assert analyst.get("/cases/new").status_code == 403
    nav = txt(analyst.get("/"))
    assert 'href="/complaints"' not in nav and 'href="/cases"' in nav and 'href="/inbox"' in nav
