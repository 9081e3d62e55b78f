"""Web pages: sign-in with TOTP, every page in ar/fr/en with the right direction, generated
forms with field errors that write nothing, need-to-know 404s, CSRF, i18n key parity."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from starlette.testclient import TestClient

from amane.api.app import create_app
from amane.services.entities import ListQuery
from amane.web import i18n
from amane.web.i18n import t
from tests.conftest import PASSWORD

LANGS = ("ar", "fr", "en")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TEMPLATES = Path(i18n.__file__).parent / "templates"


def txt(r: Any) -> str:
    """The page text with HTML entities decoded (``&#39;`` -> ``'``)."""
    return html.unescape(r.text)


def html_tag(text: str) -> str:
    m = re.search(r"<html[^>]*>", text)
    assert m, text[:200]
    return m.group(0)


def csrf_of(text: str) -> str:
    m = CSRF.search(text)
    assert m, "no csrf field in the page"
    return m.group(1)


def sign_in(world: Any, username: str, *, next_url: str = "/") -> tuple[TestClient, str]:
    """A client signed in as ``username`` (each user signs in once: a TOTP code is single-use)."""
    client = TestClient(create_app(world.svc))
    r = client.get("/login", params={"next": next_url})
    assert r.status_code == 200
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf_of(txt(r)),
                                    "otp": pyotp.TOTP(world.secrets[username]).now(), "next": next_url},
                    follow_redirects=False)
    assert r.status_code == 303, txt(r)
    page = client.get("/")
    assert page.status_code == 200
    return client, csrf_of(txt(page))


def person(world: Any, unit: str = "REGA", **data: Any) -> str:
    actor = world.actor(unit, "investigator")
    data = data or {"given_name": "Mohamed", "family_name": "Alaoui", "given_name_ar": "محمد",
                    "family_name_ar": "العلوي", "phone": "0612345678"}
    return world.svc.entities.create(actor, "Person", data).id


def count_persons(world: Any) -> int:
    return world.svc.entities.count(world.actor("HQ", "unit_chief"), ListQuery(schema="Person"))


# --------------------------------------------------------------------------- sign-in


def test_login_flow_with_totp(world: Any) -> None:
    name = world.username("REGA", "investigator")
    client = TestClient(create_app(world.svc))

    r = client.get("/records/Person", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Frecords%2FPerson"

    form = client.get("/login?next=/records/Person")
    assert form.status_code == 200 and 'name="otp"' in txt(form) and 'name="password"' in txt(form)
    token = csrf_of(txt(form))
    # wrong code, unknown user, wrong password: the same message
    bad = []
    for user, pw, otp in ((name, PASSWORD, "000000"), ("nobody.here", PASSWORD, "123456"),
                          (name, "wrong-password-1", pyotp.TOTP(world.secrets[name]).now())):
        r = client.post("/login", data={"username": user, "password": pw, "otp": otp, "csrf": token,
                                        "next": "/records/Person"}, follow_redirects=False)
        assert r.status_code == 401
        token = csrf_of(txt(r))
        bad.append(re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', txt(r)).group(1))
    assert len(set(bad)) == 1 and "amane_session" not in client.cookies

    # no login without the login form's token
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": "forged",
                                     "otp": pyotp.TOTP(world.secrets[name]).now()}, follow_redirects=False)
    assert r.status_code == 400 and "amane_session" not in client.cookies
    token = csrf_of(txt(r))

    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token,
                                    "otp": pyotp.TOTP(world.secrets[name]).now(), "next": "/records/Person"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/records/Person"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("amane_session="))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    assert "Secure" not in cookie  # settings.secure_cookies is off in tests

    home = client.get("/")
    assert home.status_code == 200
    assert "investigator REGA secret" in txt(home)  # the user's full name in the top bar
    assert "Région A" in txt(home) or "الجهة أ" in txt(home) or "Region A" in txt(home)

    # logout needs the CSRF token
    assert client.post("/logout", follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf": csrf_of(txt(home))}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.clear()
    client.cookies.set("amane_session", cookie.split(";")[0].split("=", 1)[1])
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")  # the session is revoked


def test_open_redirect_refused(world: Any) -> None:
    client, _ = sign_in(world, world.username("REGB", "officer"), next_url="//evil.example/x")
    r = client.get("/lang/fr", headers={"referer": "https://evil.example/steal"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = client.get("/lang/ar", headers={"referer": "http://testserver/units?x=1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/units?x=1"
    assert 'amane_lang=ar' in r.headers["set-cookie"]
    assert client.get("/lang/xx", follow_redirects=False).status_code == 404


# --------------------------------------------------------------------------- every page, every language


def test_every_page_in_each_language(world: Any) -> None:
    pid = person(world)
    client, _ = sign_in(world, world.username("REGA", "unit_chief"))
    auditor, _ = sign_in(world, world.username("HQ", "auditor"))
    pages = ["/", "/records", "/records/Person", "/records/Person?q=Alaoui&purpose=test",
             "/records/Person/new", "/records/Incident/new", "/records/Location/new",
             "/records/Involvement/new",
             f"/records/view/{pid}", f"/records/view/{pid}/edit", f"/records/view/{pid}/history", "/units"]
    for lang in LANGS:
        for c in (client, auditor):
            c.cookies.set("amane_lang", lang)
        expected = f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'
        for url in pages:
            r = client.get(url)
            assert r.status_code == 200, (url, lang, txt(r)[-500:])
            assert html_tag(txt(r)) == expected, (url, lang)
            assert t("nav.home", lang) in txt(r) and t("app.footer", lang) in txt(r)
            assert "Content-Security-Policy" in r.headers
        r = auditor.get(f"/audit?object_id={pid}")
        assert r.status_code == 200 and html_tag(txt(r)) == expected
        assert t("audit.title", lang) in txt(r) and "unitchief.rega.sec" in txt(r)  # who viewed the record
        for url in ("/records/view/0123456789abcdef0123456789abcdef", "/records/NoSuchType", "/no/such/page"):
            r = client.get(url)
            assert r.status_code == 404 and html_tag(txt(r)) == expected
            assert t("errors.404.title", lang) in txt(r)
        login = TestClient(create_app(world.svc))
        login.cookies.set("amane_lang", lang)
        r = login.get("/login")
        assert html_tag(txt(r)) == expected and t("login.title", lang) in txt(r)
        assert all(f'href="/lang/{code}"' in txt(r) for code in LANGS)  # language switch on the login page


def test_language_defaults_to_the_users_then_cookie(world: Any) -> None:
    client, _ = sign_in(world, world.username("HQ", "officer"))  # users are created with language "fr"
    assert html_tag(txt(client.get("/"))) == '<html lang="fr" dir="ltr">'
    client.get("/lang/ar")
    r = client.get("/units")
    assert html_tag(txt(r)) == '<html lang="ar" dir="rtl">'
    assert "مفوضية أ" in txt(r) and "الجهة ب" in txt(r)  # unit names in the page language


def test_audit_page_only_for_auditors(world: Any) -> None:
    pid = person(world)
    chief, _ = sign_in(world, world.username("REGA", "unit_chief"))
    chief.get(f"/records/view/{pid}")
    assert chief.get("/audit").status_code == 404
    assert "/audit?" not in txt(chief.get(f"/records/view/{pid}"))  # no "who viewed" link for non-auditors
    auditor, _ = sign_in(world, world.username("HQ", "auditor"))
    r = auditor.get("/audit", params={"object_id": pid, "action": "read"})
    assert r.status_code == 200 and "unitchief.rega.sec" in txt(r)
    r = auditor.get("/audit", params={"since": "not-a-date"})
    assert r.status_code == 200 and t("audit.bad_date", "fr") in txt(r)


# --------------------------------------------------------------------------- forms


def test_create_person_and_view_it(world: Any) -> None:
    client, csrf = sign_in(world, world.username("REGA", "investigator"))
    r = client.post("/records/Person/new", data={
        "csrf": csrf, "data.given_name": "Mohamed", "data.family_name": "Alaoui",
        "data.given_name_ar": "محمد", "data.family_name_ar": "العلوي", "data.aliases": "Simo\nHamid, Moha",
        "data.sex": "M",
        "data.phone": "0612 34 56 78", "data.birth_date": "1985-03-02", "owner_unit": "STA",
        "classification": "restricted"}, follow_redirects=False)
    assert r.status_code == 303, txt(r)
    eid = r.headers["location"].rsplit("/", 1)[1]
    view = world.svc.entities.get(world.actor("REGA", "investigator"), eid)
    assert view.data["aliases"] == ["Simo", "Hamid", "Moha"] and view.data["phone"] == "+212612345678"
    assert view.owner_unit == "STA" and view.classification == "restricted"
    client.cookies.set("amane_lang", "ar")
    page = client.get(r.headers["location"])
    # enum label and unit name in Arabic
    assert "محمد" in txt(page) and "ذكر" in txt(page) and "مفوضية أ" in txt(page)
    assert "الاسم الشخصي" in txt(page)  # property labels in Arabic


def test_bad_input_shows_field_errors_and_writes_nothing(world: Any) -> None:
    client, csrf = sign_in(world, world.username("REGA", "investigator"))
    before = count_persons(world)
    r = client.post("/records/Person/new", data={
        "csrf": csrf, "data.given_name": "Mohamed", "data.family_name_ar": "العلوي", "data.phone": "12",
        "data.birth_date": "2999-01-01", "data.sex": "X", "classification": "restricted"},
        follow_redirects=False)
    assert r.status_code == 422
    assert count_persons(world) == before
    text = txt(r)
    # each message sits next to its own field, in French (the user's language)
    for prop, rule in (("phone", "phone.invalid"), ("birth_date", "date.future"), ("sex", "enum.value")):
        message = re.escape(t(f"rules.{rule}", "fr"))
        assert re.search(rf'id="f-data-{prop}-err">\s*<li[^>]*>{message}', text), prop
    assert t("form.errors", "fr") in text
    # the user's input is kept
    assert 'name="data.given_name" value="Mohamed"' in text and 'value="العلوي"' in text
    assert re.search(r'name="data.phone"[^>]*value="12"', text)
    assert re.search(r'<option value="restricted" selected>', text)

    # nothing filled in: the "at least one name" rule, in Arabic
    client.cookies.set("amane_lang", "ar")
    r = client.post("/records/Person/new", data={"csrf": csrf, "data.notes": "x"})
    assert r.status_code == 422 and "املأ حقلًا واحدًا على الأقل" in txt(r) and "الاسم الشخصي" in txt(r)
    # classification above the user's clearance
    chief, chief_csrf = sign_in(world, world.username("REGA", "unit_chief", "restricted"))
    r = chief.post("/records/Person/new",
                   data={"csrf": chief_csrf, "data.given_name": "A", "classification": "secret"})
    assert r.status_code == 422 and t("rules.classification.above_clearance", "fr") in txt(r)
    # coordinates half filled
    r = client.post("/records/Location/new",
                    data={"csrf": csrf, "data.name": "Dépôt", "data.coordinates.lat": "33.5"})
    assert r.status_code == 422 and 'id="f-data-coordinates-err"' in txt(r)
    assert count_persons(world) == before


def test_edit_with_reason_history_and_stale_version(world: Any) -> None:
    pid = person(world)
    client, csrf = sign_in(world, world.username("REGA", "investigator"))
    form = txt(client.get(f"/records/view/{pid}/edit"))
    assert 'name="version" value="1"' in form
    assert re.search(r'name="data.phone"[^>]*value="\+212612345678"', form)
    fields = {"csrf": csrf, "version": "1", "data.given_name": "Mohammed", "data.family_name": "Alaoui",
              "data.given_name_ar": "محمد", "data.family_name_ar": "العلوي", "data.phone": "+212612345678",
              "data.occupation": "Commerçant", "owner_unit": "REGA", "classification": "unclassified",
              "reason": "orthographe du prénom"}
    r = client.post(f"/records/view/{pid}/edit", data=fields, follow_redirects=False)
    assert r.status_code == 303
    history = txt(client.get(f"/records/view/{pid}/history"))
    assert "orthographe du prénom" in history and "Mohammed" in history and "Commerçant" in history
    assert t("history.ops.update", "fr") in history and "investigator.rega.sec" in history

    # the same stale form again: a clear conflict message, nothing written
    fields["data.occupation"] = "Chauffeur"
    r = client.post(f"/records/view/{pid}/edit", data=fields, follow_redirects=False)
    assert r.status_code == 409 and t("form.conflict", "fr", version=2) in txt(r)
    assert 'value="Chauffeur"' in txt(r)
    view = world.svc.entities.get(world.actor("REGA", "investigator"), pid)
    assert view.version == 2 and view.data["occupation"] == "Commerçant"

    # bad input on edit: errors, version unchanged
    fields.update(version="2", **{"data.phone": "abc"})
    r = client.post(f"/records/view/{pid}/edit", data=fields)
    assert r.status_code == 422 and 'id="f-data-phone-err"' in txt(r)
    assert world.svc.entities.get(world.actor("REGA", "investigator"), pid).version == 2


def test_incident_datetime_coordinates_and_relations(world: Any) -> None:
    pid = person(world)
    client, csrf = sign_in(world, world.username("REGA", "investigator"))
    r = client.post("/records/Incident/new", data={
        "csrf": csrf, "data.title": "Vol à l'arraché", "data.offence_category": "homicide",
        "data.occurred_from": "2024-05-01T10:30", "data.region": "04", "data.coordinates.lat": "33.5731",
        "data.coordinates.lon": "-7.5898"}, follow_redirects=False)
    assert r.status_code == 303, txt(r)
    iid = r.headers["location"].rsplit("/", 1)[1]
    stored = world.svc.entities.get(world.actor("REGA", "investigator"), iid).data
    assert stored["occurred_from"] == "2024-05-01T09:30:00Z"  # Moroccan local time (UTC+1) stored in UTC
    assert stored["coordinates"] == {"lat": 33.5731, "lon": -7.5898}
    form = txt(client.get(f"/records/view/{iid}/edit"))
    assert re.search(r'name="data.occurred_from"[^>]*value="2024-05-01T10:30"', form)
    assert re.search(r'name="data.coordinates.lat"[^>]*value="33.5731"', form)
    assert re.search(r'<option value="homicide" selected>', form)

    # a relation between the two, made with the generated form (entity ids typed in)
    r = client.post("/records/Involvement/new", data={"csrf": csrf, "data.person": pid, "data.incident": iid,
                                                      "data.role": "suspect"}, follow_redirects=False)
    assert r.status_code == 303, txt(r)
    rid = r.headers["location"].rsplit("/", 1)[1]
    page = txt(client.get(f"/records/view/{pid}"))
    assert f'href="/records/view/{rid}"' in page and t("detail.relations", "fr") in page
    assert f'href="/records/view/{iid}"' in page and "Vol à l'arraché" in page  # the linked record's caption
    page = txt(client.get(f"/records/view/{rid}"))
    assert "Mohamed Alaoui" in page and "Vol à l'arraché" in page and "Suspect" in page
    client.cookies.set("amane_lang", "ar")
    assert "<h1><bdi>مشتبه فيه</bdi></h1>" in txt(client.get(f"/records/view/{rid}"))  # caption in Arabic
    assert "مشتبه فيه" in txt(client.get(f"/records/view/{pid}"))
    client.cookies.set("amane_lang", "fr")
    # a link to a record that does not exist is refused on the field
    r = client.post("/records/Involvement/new", data={"csrf": csrf, "data.person": pid,
                                                      "data.incident": "0" * 32, "data.role": "victim"})
    assert r.status_code == 422 and t("rules.reference.unknown", "fr") in txt(r)


def test_unexpected_errors_get_the_localized_500_page(svc: Any) -> None:
    asgi = create_app(svc)

    @asgi.app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("boom")

    client = TestClient(asgi, raise_server_exceptions=False)
    client.cookies.set("amane_lang", "ar")
    r = client.get("/boom-for-test")
    assert r.status_code == 500 and html_tag(txt(r)) == '<html lang="ar" dir="rtl">'
    assert t("errors.500.title", "ar") in txt(r) and "boom" not in txt(r)


def test_person_search_needs_a_purpose(world: Any) -> None:
    person(world)
    client, _ = sign_in(world, world.username("REGA", "investigator"))
    r = client.get("/records/Person", params={"q": "Alaoui"})
    assert r.status_code == 200 and t("rules.purpose.required", "fr") in txt(r)
    assert "/records/view/" not in txt(r).split('id="results"')[1]
    r = client.get("/records/Person", params={"q": "0612345678", "purpose": "PV 123/2024"})
    assert r.status_code == 200 and "Mohamed Alaoui" in txt(r) and t("records.ranked", "fr", n=1) in txt(r)
    # a name in the other script finds the same person, ranked, with the reason
    r = client.get("/records/Person", params={"q": "محمد العلوي", "purpose": "PV 123/2024"})
    assert r.status_code == 200 and "Mohamed Alaoui" in txt(r) and t("records.why", "fr") in txt(r)
    audit = world.svc.audit_log.search(world.actor("HQ", "auditor"), __import__(
        "amane.services.audit_log", fromlist=["AuditQuery"]).AuditQuery(action="search"))[0]
    assert any(rec["purpose"] == "PV 123/2024" for rec in audit)
    # listing without a search needs no purpose
    assert "Mohamed Alaoui" in txt(client.get("/records/Person"))


def test_other_region_gets_the_same_404_as_a_missing_record(world: Any) -> None:
    pid = person(world, "REGA")
    client, _ = sign_in(world, world.username("REGB", "unit_chief"))
    missing = "0123456789abcdef0123456789abcdef"
    for suffix in ("", "/history", "/edit"):
        hidden = client.get(f"/records/view/{pid}{suffix}")
        absent = client.get(f"/records/view/{missing}{suffix}")
        assert hidden.status_code == absent.status_code == 404
        assert txt(hidden) == txt(absent)
        assert "Alaoui" not in txt(hidden) and pid not in txt(hidden)
    r = client.get("/records/Person")
    assert "Alaoui" not in txt(r)
    # a region A user sees it
    a, _ = sign_in(world, world.username("REGA", "officer"))
    assert "Mohamed Alaoui" in txt(a.get(f"/records/view/{pid}"))


def test_csrf_missing_or_wrong_is_refused(world: Any) -> None:
    pid = person(world)
    client, csrf = sign_in(world, world.username("REGA", "unit_chief"))
    before = count_persons(world)
    data = {"data.given_name": "Yassine"}
    assert client.post("/records/Person/new", data=data).status_code == 403
    assert client.post("/records/Person/new", data={**data, "csrf": "wrong"}).status_code == 403
    r = client.post(f"/records/view/{pid}/edit", data={"version": "1", "data.given_name": "Z", "reason": "x"})
    assert r.status_code == 403 and t("errors.403.title", "fr") in txt(r)
    assert count_persons(world) == before
    assert world.svc.entities.get(world.actor("REGA", "investigator"), pid).version == 1
    # htmx sends the token as a header
    r = client.post("/records/Person/new", data=data, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and count_persons(world) == before + 1


def test_users_without_the_capability_get_403(world: Any) -> None:
    client, csrf = sign_in(world, world.username("REGA", "analyst"))
    assert client.get("/records/Person/new").status_code == 403
    r = client.post("/records/Person/new", data={"csrf": csrf, "data.given_name": "A"})
    assert r.status_code == 403 and t("errors.403.title", "fr") in txt(r)


def test_api_docs_are_served_locally(svc: Any) -> None:
    client = TestClient(create_app(svc))
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in txt(r) and "/static/favicon.svg" in txt(r)
    assert "cdn" not in txt(r).lower() and "https://" not in txt(r)
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js",
                  "/static/vendor/swagger-ui/swagger-ui.css", "/static/vendor/htmx.min.js",
                  "/static/app.css", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/api/openapi.json").status_code == 200
    # the API keeps its JSON problems
    r = client.get("/api/v1/entities/x")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- i18n


def test_i18n_keys_are_the_same_in_every_language() -> None:
    keys = {lang: set(i18n.catalog(lang)) for lang in LANGS}
    for lang in LANGS:
        for other in LANGS:
            missing = keys[other] - keys[lang]
            assert not missing, f"{lang}.yaml lacks keys present in {other}.yaml: {sorted(missing)}"
    for lang in LANGS:
        empty = [k for k, v in i18n.catalog(lang).items() if not v.strip()]
        assert not empty, f"{lang}.yaml has empty strings: {empty}"


def test_templates_use_only_known_keys() -> None:
    used: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        used.update(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no t() calls found"
    known = i18n.catalog("fr")
    # keys built in the template (``t("units.kinds." ~ kind)``) must at least be a known prefix
    unknown = sorted(k for k in used if k not in known and not (k.endswith(".") and any(
        name.startswith(k) for name in known)))
    assert not unknown, f"templates use unknown keys: {unknown}"


def test_arabic_strings_are_arabic() -> None:
    ar = i18n.catalog("ar")
    arabic = re.compile(r"[\u0600-\u06ff]")
    exempt = ("app.name", "detail.empty")
    latin_only = [k for k, v in ar.items()
                  if not arabic.search(v) and k not in exempt and not k.startswith("lang.")]
    assert not latin_only, latin_only


@pytest.mark.parametrize("lang", LANGS)
def test_direction(lang: str) -> None:
    assert i18n.direction(lang) == ("rtl" if lang == "ar" else "ltr")


def test_search_explanation_in_page_language() -> None:
    from amane.web.routes import localise_why

    why = "family name: العلوي ≈ Alaoui; given name: Mohamed = محمد; Ben: no match"
    assert localise_why(why, "fr") == ("nom de famille: العلوي ≈ Alaoui; prénom: Mohamed = محمد; "
                                       "Ben: aucune correspondance")
    assert localise_why(why, "ar").startswith("الاسم العائلي: العلوي ≈ Alaoui؛ الاسم الشخصي: Mohamed = محمد")
    assert localise_why(why, "en") == why
    assert localise_why("identifier: exact match", "ar") == t("records.why_parts.identifier", "ar")


def test_demo_notice_only_when_set(svc: Any) -> None:
    client = TestClient(create_app(svc))
    assert 'class="demo-notice"' not in txt(client.get("/login"))
    svc.settings.demo_notice = True
    try:
        for lang in ("ar", "fr", "en"):
            client.cookies.set("amane_lang", lang)
            page = txt(client.get("/login"))
            assert 'class="demo-notice"' in page and html.escape(t("app.demo_notice", lang), quote=False) in page
    finally:
        svc.settings.demo_notice = False
