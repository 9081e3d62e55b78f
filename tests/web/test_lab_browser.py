"""Headless Chromium, as an investigator would: register a seized phone's dump through the form
(Arabic, right to left), queue a trace scan, watch the page follow the background worker's
progress and show, when it is done, the person of the records who holds the number found; the
custody sheet downloads as a PDF. No request leaves 127.0.0.1."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp

from amane.services.context import Actor
from tests.conftest import PASSWORD
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, ensure_chromium, server  # noqa: F401 - fixture

DUMP = b"\x00" * 2048 + "رسالة: عيط ل 0661234567 غدا".encode() + b"\x00" * 2048


def test_register_scan_and_hits_in_the_browser(server: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright

    svc = server["svc"]
    person = svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                            "phone": "0661234567"}, owner_unit="REGA",
                                 classification="unclassified")
    dump = tmp_path / "phone-dump.bin"
    dump.write_bytes(DUMP)
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = server["url"]
    hosts: set[str] = set()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname or req.url))
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(base + "/login")
            page.fill("input[name=username]", "k.bennani")
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=otp]", pyotp.TOTP(server["secret"]).now())
            page.click("button[type=submit]")
            page.goto(base + "/lang/ar")
            page.goto(base + "/evidence/new")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            page.fill("input[name=seal_number]", "HTF-2026-17")
            page.select_option("select[name=kind]", "digital")
            page.select_option("select[name=category]", "phone")
            page.set_input_files("input[name=content]", str(dump))
            page.screenshot(path=str(SHOTS / "lab-01-register-ar.png"), full_page=True)
            page.click("form[action='/evidence/new'] button[type=submit]")
            expect(page.locator("h1 code.ref")).to_contain_text("SCL-")
            page.fill("form[action$='/scan'] input[name=path]", str(dump))
            page.click("form[action$='/scan'] button[type=submit]")
            expect(page.locator("#traces[data-poll]")).to_have_count(1)
            page.screenshot(path=str(SHOTS / "lab-02-queued-ar.png"), full_page=True)
            # the background worker picks the scan up while the page polls
            worker = threading.Thread(target=lambda: svc.traces.run(svc.traces.next_queued() or 0), daemon=True)
            time.sleep(0.5)
            worker.start()
            worker.join(timeout=60)
            expect(page.locator("#traces")).to_contain_text("+212661234567", timeout=20000)
            expect(page.locator(f"#traces a[href='/records/view/{person.id}']")).to_have_count(1)
            page.screenshot(path=str(SHOTS / "lab-03-hits-ar.png"), full_page=True)
            with page.expect_download() as dl:
                page.click("a[href*='custody-sheet?lang=ar']")
            pdf = Path(dl.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF")
        finally:
            browser.close()
    assert hosts <= {"127.0.0.1"}, hosts
    assert not problems, problems
