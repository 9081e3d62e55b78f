"""Crime-monitoring pages: the dashboard (this week's changes, trend charts as accessible inline SVG,
counts by unit and category, latest alerts), the CompStat table, the alerts with their chart,
the hotspot map (Gi* classes or kernel density), the near-repeat (Knox) table and the forecast
with its accuracy (or an explicit "not enough data"); in
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
from amane.web.monitoring import ltr
from tests.conftest import World
from tests.services.test_monitoring import _bulk
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
                 "/monitoring/alerts", "/monitoring/near-repeat", "/monitoring/near-repeat/result"):
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
    assert f'href="/api/v1/analytics/compstat.pdf?unit=STA&as_of={day.isoformat()}&lang={lang}"' in page
    pdf = client.get(f"/api/v1/analytics/compstat.pdf?unit=STA&as_of={day.isoformat()}&lang={lang}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
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


# --------------------------------------------------------------------------- density map


def test_density_map_legend_and_data(world: World) -> None:
    end = today_local() - timedelta(days=1)
    _bulk(world, "STA", BURGLARY, [end - timedelta(days=d % 20) for d in range(60)], spread=0.01, tag="kde")
    client = _chief(world)
    for lang in ("fr", "ar"):
        client.cookies.set("amane_lang", lang)
        r = client.get("/monitoring/map?unit=STA&method=kde&cell_m=100")
        assert r.status_code == 200, txt(r)[-1500:]
        page = txt(r)
        assert re.search(r'<option value="kde" selected>' + re.escape(t("mon.density.method", lang)), page)
        # the density legend says in words which share of the incidents each colour holds
        legend = page[page.index('id="legend-kde"'):page.index("</ul>", page.index('id="legend-kde"'))]
        assert "hidden" not in legend.split(">", 1)[0]
        for band in ("50", "75", "90"):
            assert f'data-band="{band}"' in legend and t(f"mon.density.bands.{band}", lang) in legend
        assert re.search(r'id="legend-gi"[^>]*hidden', page) and re.search(r'id="legend-kde-bw"(?! hidden)', page)
        assert f'data-msg-bandwidth="{t("mon.density.bandwidth", lang)}"' in page
        assert re.search(r'<label class="field" data-for-method="square kde">', page)
        assert " style=" not in page and "<script>" not in page
        _no_outside_urls(page)
    # the API the map script calls (cell size under the API's own name) answers for this session
    data = client.get("/api/v1/analytics/hotspots", params={
        "unit": "STA", "method": "kde", "cell": "100", "start": (end - timedelta(days=27)).isoformat(),
        "end": end.isoformat()})
    assert data.status_code == 200, data.text[-500:]
    fc = data.json()
    assert fc["meta"]["bandwidth_m"] == 300.0 and fc["meta"]["cell_m"] == 100.0
    assert fc["features"] and all(0 < f["properties"]["mass"] <= 0.9 + 1e-6 for f in fc["features"])
    assert min(f["properties"]["mass"] for f in fc["features"]) <= 0.5


# --------------------------------------------------------------------------- near repeats


def _near_repeats(world: World) -> date:
    """A year of scattered burglaries at STA, a busy spot burgled day after day, and five places
    each burgled twice two days apart: a clear near-repeat pattern at short distance and time."""
    end = today_local() - timedelta(days=1)
    days = [end - timedelta(days=(3 * d) % 300) for d in range(150)]
    _bulk(world, "STA", BURGLARY, days, lat=33.58, lon=-7.60, spread=0.05, tag="bg")
    _bulk(world, "STA", BURGLARY, [end - timedelta(days=d) for d in range(40)], lat=33.60, lon=-7.63,
          spread=0.001, tag="spot")
    for k in range(5):
        first = end - timedelta(days=11 * k + 3)
        _bulk(world, "STA", BURGLARY, [first, first - timedelta(days=2)], lat=33.54 + 0.011 * k,
              lon=-7.66 + 0.013 * k, spread=0.0002, tag=f"nr{k}")
    return end


def test_near_repeat_table_in_arabic_and_french(world: World) -> None:
    _near_repeats(world)
    # 12 assaults within 60 m of each other: every pair in the first distance band, so nothing to find
    _bulk(world, "STA", ASSAULT, [today_local() - timedelta(days=d + 1) for d in range(12)], spread=0.0002, tag="as")
    start = (today_local() - timedelta(days=364)).isoformat()
    client = _chief(world)
    for lang in ("ar", "fr"):
        client.cookies.set("amane_lang", lang)
        r = client.get("/monitoring/near-repeat?unit=STA")
        assert r.status_code == 200, txt(r)[-1500:]
        page = txt(r)
        assert html_tag(page) == f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'
        assert re.search(r'<a href="/monitoring/near-repeat\?[^"]*" aria-current="page">'
                         + re.escape(t("mon.tabs.near_repeat", lang)), page)
        # burglary by default, with the one-line reason; the table comes after the page, like the forecast
        assert re.search(r'<option value="burglary" selected>', page) and t("mon.nr.help", lang) in page
        m = re.search(r'hx-get="(/monitoring/near-repeat/result\?[^"]+)"', page)
        assert m and "category=burglary" in m.group(1) and "space=100" in m.group(1)
        assert t("mon.nr.computing", lang) in page and 'class="nr-table' not in page
        assert "<script>" not in page and " style=" not in page
        _no_outside_urls(page)

        frag = client.get(m.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert frag.status_code == 200, txt(frag)[-1500:]
        body = txt(frag)
        assert "<html" not in body and '<table class="grid nr-table">' in body
        # rows = distance bands, columns = time bands, labelled in the page language; the last ones greyed
        head = body[body.index("<thead>"):body.index("</thead>")]
        assert t("mon.nr.time_first", lang, hi="7") in head and t("mon.nr.time_band", lang, lo="22", hi="28") in head
        assert re.search(r'class="num nr-beyond">' + re.escape(t("mon.nr.time_beyond", lang, lo="28")), head)
        rows = re.findall(r"<th scope=\"row\"[^>]*>([^<]+)</th>", body)
        assert rows == [t("mon.nr.space_first", lang, hi="100")] + [
            t("mon.nr.space_band", lang, lo=str(a + 1), hi=str(a + 100)) for a in (100, 200, 300, 400)
        ] + [t("mon.nr.space_beyond", lang, lo="500")]
        assert "0 to 100 m" not in body  # never the service's English labels
        assert body.count('class="num nr-cell') == 6 * 5 and body.count("nr-beyond") >= 6 + 5
        # the first cell is a significant excess: highlighted and marked with a sign and words
        first = re.search(r'<td class="num nr-cell([^"]*)"[^>]*>(.*?)</td>', body, re.S)
        assert first and "nr-sig" in first.group(1) and "★" in first.group(2)
        assert t("mon.nr.significant", lang) in first.group(2) and "p\u00a0=\u00a0" in first.group(2)
        assert re.search(r"\d+ (obs\.|ملاحظ) / [\d.,]+", first.group(2))
        # and the plain-language reading names the strongest such cell
        reading = re.search(r'<p class="nr-reading has-pattern">(.*?)</p>', body, re.S)
        assert reading and t("mon.nr.reading", lang).split("{ratio}")[1].split("{p}")[0] in reading.group(1)
        assert "p = " in reading.group(1) and 'nr-strongest"' in body
        assert t("mon.nr.summary", lang, n="200", start=ltr(start), end=ltr(today_local().isoformat())) in body
    # without JavaScript, the result address gives the whole page
    full = client.get("/monitoring/near-repeat/result?unit=STA&category=burglary&group=")
    assert full.status_code == 200 and "<html" in txt(full) and "nr-sig" in txt(full)
    # the assaults alone show no near-repeat excess over random timing (999 permutations too)
    client.cookies.set("amane_lang", "en")
    other = txt(client.get("/monitoring/near-repeat/result?unit=STA&category=assault&group=&permutations=999",
                           headers={"HX-Request": "true"}))
    assert 'class="nr-reading"' in other and t("mon.nr.no_pattern", "en") in other and " nr-sig" not in other


def test_near_repeat_not_enough_data_bad_input_and_scope(world: World) -> None:
    _seed(world)
    client = _chief(world)
    frag = client.get("/monitoring/near-repeat/result?unit=STA&category=burglary", headers={"HX-Request": "true"})
    assert frag.status_code == 200, txt(frag)[-1500:]
    body = txt(frag)
    assert t("mon.nr.not_enough", "fr") in body and "at least 10" in body and "nr-table" not in body
    # "all offences" is kept as chosen, not replaced by the burglary default
    page = txt(client.get("/monitoring/near-repeat?unit=STA&category=&group="))
    m = re.search(r'hx-get="(/monitoring/near-repeat/result\?[^"]+)"', page)
    assert m and "category=&" in m.group(1) and "burglary" not in m.group(1)
    # bad parameters: an error naming the field and the rule, and no table
    for query, fld, rule in (("space=5000", "space", "space.range"), ("permutations=7", "permutations",
                                                                       "permutations.value"),
                             ("time=abc", "time", "number.format"), ("start=2020-02-30", "start", "date.format")):
        for lang in ("fr", "ar"):
            client.cookies.set("amane_lang", lang)
            r = client.get(f"/monitoring/near-repeat/result?unit=STA&{query}", headers={"HX-Request": "true"})
            assert r.status_code == 200, txt(r)[-1500:]
            err = txt(r)
            assert t("mon.nr.error_title", lang) in err and "nr-table" not in err, query
            assert t(f"mon.fields.{fld}", lang) in err and t(f"mon.errors.{rule}", lang) in err, (query, lang)
    # a unit of another region answers like an unknown one
    for path in ("/monitoring/near-repeat?unit=STB", "/monitoring/near-repeat/result?unit=STB",
                 "/monitoring/near-repeat?unit=NOPE"):
        assert client.get(path).status_code == 404, path
