"""The UI in a real browser (headless Chromium through Playwright): sign in with a one-time code,
switch to Arabic (right-to-left), create a person with Arabic and Latin names, find it with a
declared purpose (htmx search), open its history, edit it in French. No request may leave the
server. Screenshots of each step go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest

from amane.api.app import create_app
from amane.services.container import Services
from amane.services.context import Actor
from amane.store import migrate
from tests.conftest import PASSWORD, TEST_UNITS, make_settings

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(svc: Services) -> Iterator[str]:
    """The app on a free local port in a thread (uvicorn); yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def ensure_chromium() -> None:
    """`make test` installs Chromium; if it is missing, try once: a silent skip would hide a broken UI."""
    if not CHROMIUM.exists():
        import subprocess

        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium "
                       "fonts-noto-core", shell=True, check=False, capture_output=True)
    assert CHROMIUM.exists(), "/usr/bin/chromium is missing and could not be installed (apt-get install chromium)"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    svc = Services.create(make_settings(tmp_path, f"sqlite:///{tmp_path / 'amane.db'}"))
    migrate.upgrade(svc.db)
    svc.units.seed(TEST_UNITS)
    made = svc.users.create(Actor.system(), username="k.bennani", password=PASSWORD, service_number="SN-1",
                            full_name="Karim Bennani", unit="REGA", roles_=["investigator", "auditor"],
                            clearance="secret", language="fr")
    from amane.services.auth import actor_for
    from amane.store.tables import User

    with svc.db.read() as s:
        user = s.get(User, made.user.id)
        assert user is not None
        actor = actor_for(user, user.unit, source="127.0.0.1")
    try:
        with serving(svc) as url:
            yield {"url": url, "svc": svc, "secret": made.totp_secret, "actor": actor}
    finally:
        svc.close()


def test_browser_scenario(server: dict[str, Any]) -> None:
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    base = server["url"]
    hosts: set[str] = set()
    problems: list[str] = []

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="fr-FR")
            page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname or req.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))

            # 1. sign in (French by default), with the one-time code
            page.goto(base + "/records/Person")
            expect(page).to_have_url(f"{base}/login?next=%2Frecords%2FPerson")
            assert page.get_attribute("html", "dir") == "ltr"
            shot(page, "01-login-fr")
            page.fill("input[name=username]", "k.bennani")
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=otp]", pyotp.TOTP(server["secret"]).now())
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/records/Person")
            page.goto(base + "/")
            expect(page.locator(".who-name")).to_have_text("Karim Bennani")
            shot(page, "02-home-fr")

            # 2. switch to Arabic: right-to-left
            page.click("a[href='/lang/ar']")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            assert page.get_attribute("html", "lang") == "ar"
            expect(page.locator(".mainnav")).to_contain_text("السجلات")
            shot(page, "03-home-ar")

            # 3. create a person with an Arabic and a Latin name; a bad phone first
            page.goto(base + "/records/Person/new")
            page.fill("[name='data.given_name_ar']", "محمد")
            page.fill("[name='data.family_name_ar']", "العلوي")
            page.fill("[name='data.given_name']", "Mohamed")
            page.fill("[name='data.family_name']", "Alaoui")
            page.select_option("[name='data.sex']", "M")
            page.fill("[name='data.birth_date']", "1984-06-15")
            page.fill("[name='data.phone']", "12")
            page.fill("[name='data.aliases']", "Simo\nأبو علي")
            page.select_option("[name='classification']", "restricted")
            shot(page, "04-form-ar")
            page.click("form.record-form button[type=submit]")
            expect(page.locator("#f-data-phone-err")).to_contain_text("رقم هاتف غير صالح")
            expect(page.locator("[name='data.given_name_ar']")).to_have_value("محمد")
            shot(page, "05-form-errors-ar")
            page.fill("[name='data.phone']", "0612345678")
            page.click("form.record-form button[type=submit]")
            expect(page).to_have_url(re.compile(r".*/records/view/[0-9a-f]{32}$"))
            expect(page.locator("h1")).to_contain_text("Mohamed Alaoui")
            expect(page.locator("dl.props").first).to_contain_text("العلوي")
            expect(page.locator("dl.props").first).to_contain_text("+212612345678")
            record_url = page.url
            shot(page, "06-detail-ar")

            # 4. find it in the Person list: a search needs a declared purpose (htmx, no reload)
            page.goto(base + "/records/Person")
            page.fill("input[name=q]", "Alaoui")
            page.click("form.searchbar button[type=submit]")
            expect(page.locator("#results .alert-error")).to_contain_text("الغرض")
            shot(page, "07-search-needs-purpose-ar")
            page.fill("input[name=purpose]", "المسطرة 123/2024")
            page.click("form.searchbar button[type=submit]")
            expect(page.locator("#results table")).to_contain_text("Mohamed Alaoui")
            assert "purpose=" in page.url  # htmx pushed the search into the address bar
            shot(page, "08-search-results-ar")
            page.click("#results a:has-text('Mohamed Alaoui')")
            expect(page).to_have_url(record_url)

            # 5. its history
            page.click(f"a[href='{urlsplit(record_url).path}/history']")
            expect(page.locator(".version")).to_have_count(1)
            expect(page.locator(".version")).to_contain_text("إنشاء")
            shot(page, "09-history-ar")

            # 6. in French: edit with a reason, then the history shows the change
            page.click("a[href='/lang/fr']")
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            page.goto(record_url + "/edit")
            page.fill("[name='data.occupation']", "Commerçant")
            page.fill("[name='reason']", "Audition du 12/05")
            shot(page, "10-edit-fr")
            page.click("form.record-form button[type=submit]")
            expect(page).to_have_url(record_url)
            page.goto(record_url + "/history")
            expect(page.locator(".version")).to_have_count(2)
            expect(page.locator(".version").first).to_contain_text("Audition du 12/05")
            expect(page.locator(".version").first).to_contain_text("Commerçant")
            shot(page, "11-history-fr")

            # 7. units tree and audit ("who viewed this record"), Arabic
            page.click("a[href='/lang/ar']")
            page.goto(base + "/units")
            expect(page.locator("table.tree")).to_contain_text("مفوضية أ")
            shot(page, "12-units-ar")
            page.goto(record_url)
            page.click("a[href^='/audit?object_id=']")
            expect(page.locator("table.audit")).to_contain_text("k.bennani")
            shot(page, "13-audit-ar")

            # 8. relations on the detail page, captions in Arabic (records made through the service)
            svc, who = server["svc"], server["actor"]
            pid = urlsplit(record_url).path.rsplit("/", 1)[1]
            inc = svc.entities.create(who, "Incident", {"offence_category": "homicide",
                                                        "occurred_from": "2024-05-01 10:30", "region": "04"})
            svc.entities.create(who, "Involvement", {"person": pid, "incident": inc.id, "role": "suspect"})
            page.goto(record_url)
            expect(page.locator("table.grid")).to_contain_text("مشتبه فيه")
            expect(page.locator("table.grid")).to_contain_text("واقعة")
            shot(page, "14-relations-ar")

            # 9. a record that does not exist: the localized 404 page
            page.goto(base + "/records/view/0123456789abcdef0123456789abcdef")
            expect(page.locator("h1")).to_have_text("غير موجود")
            shot(page, "15-not-found-ar")
        finally:
            browser.close()

    assert hosts == {"127.0.0.1"}, f"requests left the server: {sorted(hosts)}"
    # 422 (the bad phone) and 404 (the missing record) are expected; anything else (a CSP
    # violation, a script error) is not
    expected = "Failed to load resource: the server responded with a status of"
    assert not [m for m in problems if not m.startswith(expected)], f"browser console errors: {problems}"
