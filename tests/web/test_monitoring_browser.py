"""Crime monitoring in a real browser (headless Chromium through Playwright): a unit chief opens the
dashboard in French and in Arabic (right-to-left, nothing overflowing), the CompStat table, an
alert with the chart that explains it, the hotspot map (Leaflet draws the region boundaries and
the hexagons; moving the time slider refetches the window; the kernel density with its legend in
words), the near-repeat (Knox) table in Arabic and the forecast map with its accuracy beside it.
No request may leave the server and no script error may occur. Screenshots go to
``test-artifacts/screenshots/mon-*.png`` (or ``$AMANE_SCREENSHOTS``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest

from amane.model.types import LOCAL_TZ
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.imports import Row
from amane.services.monitoring import local_midnight, today_local
from amane.store import migrate
from amane.store.tables import CrimeAlert, Unit
from tests.conftest import PASSWORD, TEST_UNITS, make_settings
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, ensure_chromium, serving

pytestmark = pytest.mark.browser

CHIEF = ("c.benali", "Chakib Benali")
CATEGORIES = ("burglary", "theft", "theft", "assault", "robbery", "drug_possession", "vehicle_theft")


def _history(svc: Services, unit: str, *, weeks: int, centre: tuple[float, float], per_day: int, seed: int) -> None:
    """Incidents every day for ``weeks`` weeks: most in two tight clusters, the rest spread around."""
    start = today_local() - timedelta(days=7 * weeks)
    rows = []
    n = 0
    for d in range(7 * weeks):
        day = start + timedelta(days=d)
        for k in range(per_day + (1 if d % 7 in (4, 5) else 0)):
            n += 1
            h = (n * 7919 + seed) % 1000
            if k < 2:
                lat, lon = centre[0] + 0.0005 * (h % 4) + (0.01 if k else 0), centre[1] + 0.0005 * (h % 5)
            else:
                lat, lon = centre[0] - 0.02 + 0.00004 * h, centre[1] - 0.02 + 0.00004 * ((h * 37) % 1000)
            when = datetime(day.year, day.month, day.day, (7 + 5 * k) % 24, tzinfo=LOCAL_TZ)
            rows.append(Row(n + 1, {"offence_category": CATEGORIES[(n + seed) % len(CATEGORIES)],
                                    "occurred_from": when.isoformat(), "coordinates": f"{lat:.5f}, {lon:.5f}",
                                    "external_id": f"{unit}-{n}"}))
    report = svc.imports.import_rows(Actor.system(), "Incident", rows, unit=unit)
    assert not report.errors, report.errors[:3]


def _alert(svc: Services) -> int:
    weeks = [today_local() - timedelta(days=7 * (26 - i)) for i in range(26)]
    observed = [9, 11, 8, 10, 12, 9, 10, 11, 9, 8, 10, 12, 11, 9, 10, 8, 11, 10, 9, 12, 10, 9, 11, 10, 9, 24]
    with svc.db.write() as s:
        unit_id = s.query(Unit.id).filter(Unit.code == "STA").scalar()
        row = CrimeAlert(unit_id=unit_id, category="group:property", period_start=local_midnight(weeks[-1]),
                         period_end=local_midnight(weeks[-1] + timedelta(days=7)), method="farrington",
                         observed=24, expected=10.1, threshold=16.8, p_value=0.0004, classification=0,
                         reason="24 property incidents this week against 10.1 expected (upper bound 16.8, p = 0.0004)",
                         chart={"weeks": [w.isoformat() for w in weeks], "observed": observed,
                                "expected": [10.0] * 25 + [10.1], "threshold": [16.5] * 25 + [16.8]},
                         created_at=datetime.now(UTC))
        s.add(row)
        s.flush()
        return int(row.id)


@pytest.fixture
def mon_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    svc = Services.create(make_settings(tmp_path, f"sqlite:///{tmp_path / 'amane.db'}"))
    migrate.upgrade(svc.db)
    svc.units.seed(TEST_UNITS)
    made = svc.users.create(Actor.system(), username=CHIEF[0], password=PASSWORD, service_number="SN-M1",
                            full_name=CHIEF[1], unit="REGA", roles_=["unit_chief"], clearance="secret",
                            language="fr")
    _history(svc, "STA", weeks=60, centre=(33.5731, -7.5898), per_day=3, seed=1)
    _history(svc, "PROVA", weeks=60, centre=(33.60, -7.52), per_day=1, seed=5)
    alert_id = _alert(svc)
    try:
        with serving(svc) as url:
            yield {"url": url, "svc": svc, "secret": made.totp_secret, "alert": alert_id}
    finally:
        svc.close()


def test_monitoring_in_the_browser(mon_server: dict[str, Any]) -> None:
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("AMANE_SCREENSHOTS") or SHOTS)
    shots.mkdir(parents=True, exist_ok=True)
    base = mon_server["url"]
    hosts: set[str] = set()
    problems: list[str] = []

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(shots / f"mon-{name}.png"), full_page=True)

    def no_overflow(page: Any) -> None:
        width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert width <= 1, f"the page overflows sideways by {width}px"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname or req.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))

            page.goto(base + "/login")
            page.fill("input[name=username]", CHIEF[0])
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=otp]", pyotp.TOTP(mon_server["secret"]).now())
            page.click("button[type=submit]")
            expect(page.locator(".who-name")).to_have_text(CHIEF[1])

            # 1. the dashboard in French, from the main navigation
            page.click(".mainnav a[href='/monitoring']")
            expect(page.locator("h1")).to_contain_text("Tableau de bord")
            assert page.locator("svg.chart").count() >= 3
            assert page.locator(".kpi").count() == 3
            expect(page.locator(".kpi-change .chg").first).to_be_visible()
            no_overflow(page)
            shot(page, "01-dashboard-fr")

            # 2. the same in Arabic, right-to-left
            page.click(".langs a[hreflang=ar]")
            page.goto(base + "/monitoring")
            assert page.get_attribute("html", "dir") == "rtl"
            expect(page.locator("h1")).to_contain_text("لوحة القيادة")
            no_overflow(page)
            shot(page, "02-dashboard-ar")

            # 3. the CompStat table (Arabic), then French
            page.click(".mon-tabs a[href^='/monitoring/compstat']")
            expect(page.locator("table.compstat")).to_be_visible()
            assert page.locator("table.compstat tbody tr").count() >= 5
            no_overflow(page)
            shot(page, "03-compstat-ar")
            page.click(".langs a[hreflang=fr]")
            page.goto(base + "/monitoring/compstat?unit=STA")
            expect(page.locator("table.compstat")).to_be_visible()
            shot(page, "04-compstat-fr")
            page.emulate_media(media="print")
            shot(page, "05-compstat-print")
            page.emulate_media(media="screen")

            # 4. an alert, with the chart that explains it
            page.goto(base + f"/monitoring/alerts/{mon_server['alert']}")
            expect(page.locator("svg.chart polyline.s-observed")).to_have_count(1)
            expect(page.locator("svg.chart .c-band")).to_have_count(1)
            shot(page, "06-alert-fr")

            # 5. the hotspot map: regions and hexagons drawn by Leaflet, then the slider moves the window
            page.goto(base + "/monitoring/map?unit=STA&span=13")
            expect(page.locator("#map[data-loaded=true]")).to_have_count(1, timeout=30_000)
            regions = len(mon_server["svc"].monitoring.regions_geojson()["features"])
            cells = int(page.get_attribute("#map", "data-cells") or 0)
            assert cells > 3
            paths = page.locator("#map .leaflet-overlay-pane path").count()
            assert paths >= regions + cells, (paths, regions, cells)
            expect(page.locator("#legend-gi")).to_be_visible()
            shot(page, "07-map-fr")
            before = page.input_value("#week")
            label_before = page.inner_text("#week-label")
            page.focus("#week")
            for _ in range(8):
                page.keyboard.press("ArrowLeft")
            assert page.input_value("#week") != before
            expect(page.locator("#week-label")).not_to_have_text(label_before)
            page.wait_for_timeout(400)
            expect(page.locator("#map[aria-busy]")).to_have_count(0, timeout=30_000)
            assert "week=" in page.url
            page.select_option("select[name=colour]", "count")
            expect(page.locator("#legend-count")).to_be_visible()
            page.select_option("select[name=method]", "square")
            expect(page.locator("select[name=cell_m]")).to_be_visible()
            expect(page.locator("#map[aria-busy]")).to_have_count(0, timeout=30_000)
            assert int(page.get_attribute("#map", "data-cells") or 0) > 0
            shot(page, "08-map-squares-fr")

            # 5b. kernel density: squares coloured by the share of incidents, the legend says it in words
            page.select_option("select[name=method]", "kde")
            expect(page.locator("select[name=colour]")).to_be_hidden()
            expect(page.locator("#map[aria-busy]")).to_have_count(0, timeout=30_000)
            expect(page.locator("#legend-kde")).to_be_visible()
            expect(page.locator("#legend-gi")).to_be_hidden()
            expect(page.locator("#legend-count")).to_be_hidden()
            expect(page.locator("#legend-kde li")).to_have_count(3)
            expect(page.locator("#legend-kde li").first).to_contain_text("moitié des faits")
            expect(page.locator("#legend-kde-bw")).to_contain_text("500 m")  # 250 m squares: two cells wide
            cells = int(page.get_attribute("#map", "data-cells") or 0)
            assert cells > 3
            paths = page.locator("#map .leaflet-overlay-pane path").count()
            assert paths >= regions + cells, (paths, regions, cells)
            assert "method=kde" in page.url
            page.click(".map-side details.chart-data summary")
            expect(page.locator("#top-cells thead th").nth(1)).to_contain_text("Densité")
            expect(page.locator("#top-cells tbody tr").first).to_contain_text("%")
            no_overflow(page)
            shot(page, "08b-map-density-fr")

            # 6. the map in Arabic: the page is right-to-left, the map itself stays left-to-right
            page.click(".langs a[hreflang=ar]")
            page.goto(base + "/monitoring/map?unit=STA&span=13")
            expect(page.locator("#map[data-loaded=true]")).to_have_count(1, timeout=30_000)
            assert page.get_attribute("#map", "dir") == "ltr"
            no_overflow(page)
            shot(page, "09-map-ar")

            # 6b. near repeats in Arabic: burglary by default, the Knox table computed after the page shows
            page.click(".mon-tabs a[href^='/monitoring/near-repeat']")
            expect(page.locator("h1")).to_contain_text("التكرار القريب")
            assert page.get_attribute("html", "dir") == "rtl"
            assert page.input_value("select[name=category]") == "burglary"
            expect(page.locator("table.nr-table")).to_be_visible(timeout=60_000)
            assert page.locator("table.nr-table tbody tr").count() == 6
            assert page.locator("table.nr-table thead th").count() == 6
            expect(page.locator("table.nr-table thead th").nth(1)).to_contain_text("من 0 إلى 7 أيام")
            expect(page.locator(".nr-reading")).to_be_visible()
            assert page.locator("table.nr-table td.nr-beyond").count() == 5 + 5  # last row, last column
            no_overflow(page)
            shot(page, "12-near-repeat-ar")
            page.select_option("select[name=permutations]", "999")
            page.click("form.nr-form button[type=submit]")
            expect(page.locator("table.nr-table")).to_be_visible(timeout=60_000)
            expect(page.locator(".nr-result")).to_contain_text("999")

            # 7. the forecast: computed after the page shows, the map of selected cells and its accuracy
            page.goto(base + "/monitoring/forecast?unit=STA&model=kde")
            expect(page.locator(".accuracy")).to_be_visible(timeout=120_000)
            expect(page.locator("#map[data-loaded=true]")).to_have_count(1, timeout=30_000)
            assert int(page.get_attribute("#map", "data-cells") or 0) > 0
            expect(page.locator(".acc-table")).to_be_visible()
            expect(page.locator(".pai-explain")).to_contain_text("PAI")
            no_overflow(page)
            shot(page, "10-forecast-ar")
            page.click(".langs a[hreflang=fr]")
            page.goto(base + "/monitoring/forecast?unit=STA")
            expect(page.locator(".accuracy")).to_be_visible(timeout=120_000)
            shot(page, "11-forecast-fr")
        finally:
            browser.close()

    assert hosts <= {"127.0.0.1"}, f"requests left the server: {hosts}"
    assert not problems, problems
