"""Crime-monitoring pages: the dashboard (this week's changes, trend charts as accessible inline SVG,
counts by unit and category, latest alerts), the CompStat table, the alerts with their chart,
the hotspot map and the forecast with its accuracy (or an explicit "not enough data"); in
ar/fr/en with the right direction, need-to-know (a unit outside the scope is a 404, a count
never includes what the user may not see), no outside URL in any page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from amane.model.types import LOCAL_TZ
from amane.services.context import Actor
from amane.services.monitoring import local_midnight, today_local
from amane.store.tables import CrimeAlert, Unit
from amane.web.i18n import t
from tests.conftest import World
from tests.web.test_pages import LANGS, html_tag, sign_in, txt

#: (category, offence group) used below
BURGLARY, ASSAULT = "burglary", "assault"


def _at(d: date, hour: int = 12) -> str:
    return datetime(d.year, d.month, d.day, hour, tzinfo=LOCAL_TZ).isoformat()


def _incident(world: World, unit: str, category: str, when: date, *, classification: str = "",
              coords: str | None = "33.58, -7.60") -> str:
    data = {"title": f"{category} {when}", "offence_category": category, "occurred_from": _at(when)}
    if coords:
        data["coordinates"] = coords
    return world.svc.entities.create(Actor.system(), "Incident", data, owner_unit=unit,
                                     classification=classification or None).id


def _seed(world: World) -> date:
    """Yesterday: 3 burglaries in STA, 1 in STB, 1 secret assault in STA; a year ago: 1 burglary in STA."""
    day = today_local() - timedelta(days=1)
    for i in range(3):
        _incident(world, "STA", BURGLARY, day, coords=f"33.58{i}, -7.60{i}")
    _incident(world, "STB", BURGLARY, day, coords="34.02, -6.84")
    _incident(world, "STA", ASSAULT, day, classification="secret")
    _incident(world, "STA", BURGLARY, day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29)
              else day.replace(year=day.year - 1, day=28))
    return day


def _alert(world: World, unit: str = "STA") -> int:
    weeks = [today_local() - timedelta(days=7 * (12 - i)) for i in range(12)]
    with world.svc.db.write() as s:
        unit_id = s.query(Unit.id).filter(Unit.code == unit).scalar()
        row = CrimeAlert(unit_id=unit_id, category="group:property", period_start=local_midnight(weeks[-1]),
                         period_end=local_midnight(weeks[-1] + timedelta(days=7)), method="farrington",
                         observed=14, expected=4.2, threshold=9.5, p_value=0.0007, classification=0,
                         reason="14 property incidents against 4.2 expected (upper bound 9.5)",
                         chart={"weeks": [w.isoformat() for w in weeks],
                                "observed": [3, 5, 4, 2, 6, 4, 3, 5, 4, 3, 4, 14],
                                "expected": [4.0] * 11 + [4.2], "threshold": [9.0] * 11 + [9.5]},
                         created_at=datetime.now(UTC))
        s.add(row)
        s.flush()
        return int(row.id)


def _no_outside_urls(text: str) -> None:
    hosts = {urlsplit(u).hostname for u in re.findall(r"""https?://[^\s"'<>)]+""", text)}
    assert hosts <= {"testserver", "127.0.0.1", "localhost"}, hosts


def _chief(world: World, unit: str = "REGA") -> Any:
    client, _ = sign_in(world, world.username(unit, "unit_chief"))
    return client


# --------------------------------------------------------------------------- dashboard


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard_in_every_language(world: World, lang: str) -> None:
    _seed(world)
    alert_id = _alert(world)
    client = _chief(world)
    client.cookies.set("amane_lang", lang)
    r = client.get("/monitoring")
    assert r.status_code == 200, txt(r)[-1500:]
    page = txt(r)
    assert html_tag(page) == f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'
    assert t("mon.dash.title", lang) in page and t("mon.windows.d7", lang) in page
    # the nav entry for analytics users, marked current
    assert re.search(r'<a href="/monitoring" aria-current="page">' + re.escape(t("mon.nav", lang)), page)
    # default unit: the chief's own (Region A); the secret assault counts for this secret-cleared chief
    assert 'value="REGA" selected' in page
    kpi = re.search(r'class="kpi-value num">([^<]+)<', page)
    assert kpi and kpi.group(1).strip() == "4"
    # a change told with a sign and words, not colour alone (3 burglaries vs 1 a year ago: +200 %)
    assert "▲ +200" in page and t("mon.change.up_words", lang, pct="200", prev="1").split("200")[0] in page
    # trend charts: inline SVG with a title, described, with a data table beside them
    assert re.search(r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="trend-total-t trend-total-d"', page)
    assert '<title id="trend-total-t">' in page and "<details class=\"chart-data\">" in page
    assert 'id="trend-property-t"' in page  # a small chart for the offence group that has incidents
    # counts by child unit (Province A) and top categories
    assert "Province A" in page or "إقليم أ" in page
    assert t("mon.dash.latest_alerts", lang) in page and f'href="/monitoring/alerts/{alert_id}"' in page
    assert 'href="/monitoring/compstat?unit=REGA' in page and 'href="/monitoring/map?unit=REGA' in page
    assert "<script>" not in page and " style=" not in page  # the CSP forbids both
    _no_outside_urls(page)


def test_dashboard_counts_only_what_the_user_may_see(world: World) -> None:
    _seed(world)
    low, _ = sign_in(world, world.username("REGA", "analyst", "restricted"))
    page = txt(low.get("/monitoring"))
    kpi = re.search(r'class="kpi-value num">([^<]+)<', page)
    assert kpi and kpi.group(1).strip() == "3"  # not the secret assault
    assert "Coups et blessures" not in page
    # a unit outside the scope answers like an unknown one; a bad date is said, not fatal
    assert low.get("/monitoring?unit=STB").status_code == 404
    assert low.get("/monitoring?unit=NOPE").status_code == 404
    r = low.get("/monitoring?as_of=2020-13-45&weeks=13")
    assert r.status_code == 200 and t("mon.errors.date.format", "fr") in txt(r)
    future = (today_local() + timedelta(days=3)).isoformat()
    assert t("mon.errors.date.future", "fr") in txt(low.get(f"/monitoring?as_of={future}"))
    # national analyst: every unit, "all units" by default
    national, _ = sign_in(world, world.username("HQ", "analyst"))
    page = txt(national.get("/monitoring"))
    assert '<option value="" selected>' in page
    assert re.search(r'class="kpi-value num">\s*5\s*<', page)


def test_monitoring_needs_the_analytics_capability(world: World) -> None:
    client, _ = sign_in(world, world.username("REGA", "investigator"))
    home = txt(client.get("/"))
    assert 'href="/monitoring"' not in home
    for path in ("/monitoring", "/monitoring/compstat", "/monitoring/map", "/monitoring/forecast",
                 "/monitoring/alerts"):
        assert client.get(path).status_code in (403, 404), path
    # anonymous users are sent to the login page
    from starlette.testclient import TestClient

    from amane.api.app import create_app

    r = TestClient(create_app(world.svc)).get("/monitoring/compstat", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# --------------------------------------------------------------------------- CompStat


@pytest.mark.parametrize("lang", ("ar", "fr"))
def test_compstat_table(world: World, lang: str) -> None:
    day = _seed(world)
    client = _chief(world)
    client.cookies.set("amane_lang", lang)
    r = client.get(f"/monitoring/compstat?unit=STA&as_of={day.isoformat()}")
    assert r.status_code == 200, txt(r)[-1500:]
    page = txt(r)
    assert html_tag(page).endswith(f'dir="{"rtl" if lang == "ar" else "ltr"}">')
    assert '<table class="grid compstat">' in page
    for w in ("d7", "d28", "ytd"):
        assert t(f"mon.windows.{w}", lang) in page
    # a group row, its category rows, the total in the footer
    body = page[page.index('<tbody class="cs-group">'):]
    assert t("mon.compstat.this_year", lang) in page and t("mon.compstat.last_year", lang) in page
    burglary = {"fr": "Cambriolage", "ar": "السرقة"}[lang]
    assert burglary in body
    assert '<tr class="cs-total">' in page
    assert "data-print" in page and "@media print" in open(
        "src/amane/web/static/mon/mon.css", encoding="utf-8").read()
    _no_outside_urls(page)
    assert client.get("/monitoring/compstat?unit=STB").status_code == 404


# --------------------------------------------------------------------------- alerts


def test_alerts_list_and_detail_with_chart(world: World) -> None:
    alert_id = _alert(world)
    client = _chief(world)
    r = client.get("/monitoring/alerts")
    assert r.status_code == 200, txt(r)[-1500:]
    page = txt(r)
    assert f'href="/monitoring/alerts/{alert_id}"' in page and "Atteintes aux biens" in page
    for lang in LANGS:
        client.cookies.set("amane_lang", lang)
        r = client.get(f"/monitoring/alerts/{alert_id}")
        assert r.status_code == 200, txt(r)[-1500:]
        page = txt(r)
        assert t("mon.alert.why", lang) in page
        # the explaining chart: observed and expected lines, the threshold band, the flagged week
        assert 'aria-labelledby="alert-chart-t alert-chart-d"' in page
        assert 'class="c-line s-observed"' in page and 'class="c-line s-expected"' in page
        assert 'class="c-band"' in page and 'class="c-highlight"' in page
        assert "14" in page and "14 property incidents" in page
        _no_outside_urls(page)
    # another region's chief does not see it
    other, _ = sign_in(world, world.username("REGB", "unit_chief"))
    assert other.get(f"/monitoring/alerts/{alert_id}").status_code == 404
    assert f"/monitoring/alerts/{alert_id}" not in txt(other.get("/monitoring/alerts"))


# --------------------------------------------------------------------------- maps


def test_hotspot_map_page_and_its_data(world: World) -> None:
    _seed(world)
    client = _chief(world)
    client.cookies.set("amane_lang", "ar")
    r = client.get("/monitoring/map?unit=STA&method=square&colour=count")
    assert r.status_code == 200, txt(r)[-1500:]
    page = txt(r)
    assert 'dir="rtl"' in html_tag(page)
    # the map stays left-to-right inside the Arabic page, Leaflet served locally, no tiles configured
    assert re.search(r'<div id="map" class="map" dir="ltr"', page)
    assert 'src="/static/vendor/leaflet/leaflet.js"' in page and 'href="/static/vendor/leaflet/leaflet.css"' in page
    assert "data-tile-url" not in page and t("mon.map.no_tiles", "ar") in page
    assert 'data-api="/api/v1/analytics/hotspots"' in page and 'type="range" id="week"' in page
    assert 'id="regions-data"' in page and '"FeatureCollection"' in page
    assert 'data-focus-region="04"' in page
    for c in ("hot99", "cold99"):
        assert t(f"mon.map.classes.{c}", "ar") in page
    _no_outside_urls(page)
    # the API the map script calls answers for this session
    w_end = today_local() - timedelta(days=1)
    window = {"unit": "STA", "start": (w_end - timedelta(days=6)).isoformat(), "end": w_end.isoformat(),
              "method": "h3"}
    data = client.get("/api/v1/analytics/hotspots", params=window)
    assert data.status_code == 200, data.text[-500:]
    assert data.json()["meta"]["events"] == 4 and data.json()["features"]


def test_map_uses_the_tile_url_only_when_configured(world: World) -> None:
    world.svc.settings.tile_url = "/tiles/{z}/{x}/{y}.png"
    try:
        client = _chief(world)
        page = txt(client.get("/monitoring/map"))
        assert 'data-tile-url="/tiles/{z}/{x}/{y}.png"' in page and t("mon.map.no_tiles", "fr") not in page
    finally:
        world.svc.settings.tile_url = ""


def test_forecast_page_says_not_enough_data(world: World) -> None:
    _seed(world)
    client = _chief(world)
    r = client.get("/monitoring/forecast?unit=STA")
    assert r.status_code == 200, txt(r)[-1500:]
    page = txt(r)
    # the page asks for the result once loaded (so the user sees that it is being computed)
    assert 'hx-get="/monitoring/forecast/result?unit=STA' in page and t("mon.forecast.computing", "fr") in page
    frag = client.get("/monitoring/forecast/result?unit=STA&model=kde", headers={"HX-Request": "true"})
    assert frag.status_code == 200, txt(frag)[-1500:]
    body = txt(frag)
    assert "<html" not in body
    assert t("mon.forecast.not_enough", "fr") in body
    assert 'id="forecast-data"' not in body and 'id="map"' not in body  # never a map of made-up cells
    full = client.get("/monitoring/forecast/result?unit=STA")
    assert full.status_code == 200 and "<html" in txt(full) and t("mon.forecast.not_enough", "fr") in txt(full)
    bad = client.get("/monitoring/forecast/result?unit=STA&group=nothing", headers={"HX-Request": "true"})
    assert bad.status_code == 200 and t("mon.errors.group.unknown", "fr") in txt(bad)


def _history(world: World, unit: str, weeks: int = 30) -> None:
    """A steady pattern: most incidents in two small clusters, a few spread around."""
    start = today_local() - timedelta(days=7 * weeks)
    rows = []
    from amane.services.imports import Row

    n = 0
    for d in range(7 * weeks):
        day = start + timedelta(days=d)
        for k in range(3):
            n += 1
            lat, lon = ((33.5731 + 0.0004 * (n % 3), -7.5898 + 0.0004 * (n % 5)) if k < 2
                        else (33.56 + 0.003 * (n % 11), -7.62 + 0.003 * (n % 13)))
            rows.append(Row(n + 1, {"offence_category": BURGLARY, "occurred_from": _at(day, 8 + k * 4),
                                    "coordinates": f"{lat:.5f}, {lon:.5f}", "external_id": f"H{n}"}))
    report = world.svc.imports.import_rows(Actor.system(), "Incident", rows, unit=unit)
    assert not report.errors


def test_forecast_with_its_accuracy(world: World) -> None:
    _history(world, "STA")
    client = _chief(world)
    for lang in ("fr", "ar"):
        client.cookies.set("amane_lang", lang)
        r = client.get("/monitoring/forecast/result?unit=STA&model=kde&cell_m=250",
                       headers={"HX-Request": "true"})
        assert r.status_code == 200, txt(r)[-1500:]
        body = txt(r)
        assert t("mon.forecast.accuracy", lang) in body and t("mon.forecast.pai_explain", lang) in body
        assert t("mon.forecast.pai_1", lang) in body and t("mon.forecast.baseline", lang) in body
        assert t("mon.forecast.not_enough", lang) not in body
        m = re.search(r'<script type="application/json" id="forecast-data">(.*?)</script>', r.text, re.S)
        assert m
        import json

        fc = json.loads(m.group(1))
        assert fc["features"] and any(f["properties"]["selected_1pct"] for f in fc["features"])
        assert t("mon.models.kde", lang) in body
        _no_outside_urls(body)
