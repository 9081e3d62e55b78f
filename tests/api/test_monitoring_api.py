"""Crime monitoring over HTTP: statistics, CompStat, hotspots, forecast and alerts, with the same
need-to-know as the records and clear errors for bad parameters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from amane.services.context import Actor
from amane.services.imports import Row
from amane.services.monitoring import today_local
from tests.api.test_procedures_api import _client


def _seed(world: Any) -> None:
    end = today_local() - timedelta(days=1)
    rows = [Row(i + 2, {"offence_category": "burglary" if i % 3 else "assault",
                        "occurred_from": f"{(end - timedelta(days=i % 40)).isoformat()}T10:00:00Z",
                        "coordinates": f"{33.58 + (i % 17) * 0.001:.4f}, {-7.60 + (i % 13) * 0.001:.4f}",
                        "external_id": f"A{i}"}) for i in range(120)]
    assert not world.svc.imports.import_rows(Actor.system(), "Incident", rows, unit="STA").errors


def test_statistics_endpoints(world: Any) -> None:
    _seed(world)
    client, h = _client(world, "REGA", "analyst")
    r = client.get("/api/v1/analytics/stats?by=category&start=" + (today_local() - timedelta(days=60)).isoformat(),
                   headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 120 and {x["category"] for x in r.json()["rows"]} == {"burglary", "assault"}
    r = client.get("/api/v1/analytics/stats?by=colour", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "by"
    r = client.get("/api/v1/analytics/compstat?unit=REGA", headers=h)
    assert r.status_code == 200 and r.json()["total"]["d28"] > 0
    r = client.get("/api/v1/analytics/hotspots?method=h3&start=" + (today_local() - timedelta(days=60)).isoformat(),
                   headers=h)
    assert r.status_code == 200 and r.json()["meta"]["events"] == 120 and r.json()["features"]
    r = client.get("/api/v1/analytics/hotspots?method=nope", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "method"
    r = client.get("/api/v1/analytics/forecast?unit=STA", headers=h)
    assert r.status_code == 200 and r.json()["features"] == [] and r.json()["meta"]["not_enough_data"]
    assert client.get("/api/v1/analytics/regions.geojson", headers=h).json()["type"] == "FeatureCollection"
    assert client.get("/api/v1/analytics/alerts", headers=h).json() == []
    assert client.get("/api/v1/analytics/alerts/999", headers=h).status_code == 404
    # region B sees none of region A's incidents; its units are unknown to region A
    other, hb = _client(world, "REGB", "analyst")
    assert other.get("/api/v1/analytics/stats?by=category", headers=hb).json()["total"] == 0
    assert client.get("/api/v1/analytics/stats?by=category&unit=STB", headers=h).status_code == 404
    # officers have no analytics capability
    officer, ho = _client(world, "REGA", "officer")
    assert officer.get("/api/v1/analytics/stats", headers=ho).status_code == 403


def test_compstat_pdf_in_each_language(world: Any) -> None:
    import io

    from pypdf import PdfReader

    _seed(world)
    client, h = _client(world, "REGA", "unit_chief")
    for lang, word in (("fr", "CompStat"), ("en", "CompStat"), ("ar", "CompStat")):
        r = client.get(f"/api/v1/analytics/compstat.pdf?unit=STA&lang={lang}", headers=h)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text[:200]
        text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
        assert word in text
    r = client.get("/api/v1/analytics/compstat.pdf?lang=de", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lang"
