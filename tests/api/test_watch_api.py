"""The cyber watch and trace scans over HTTP: upload ingest, items and item view with record hits,
triage with its 409, 404 for another region, STIX export/import, classify, a crawl job; queue a trace scan of
a digital item, its progress row and its record hits."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from amane.services.context import Actor
from tests.api.test_evidence_api import _client
from tests.watch.test_crawl import Site, site  # noqa: F401 - the test site fixture

pytest.importorskip("amane.watch.pipeline")

POSTS = [
    {"id": "p1", "text": "Chira ketama premium 100g b 3000dh, livraison f casa, whatsapp +212 661-234567"},
    {"id": "p2", "text": "Le match de ce soir commence à 20 heures au stade de Rabat."},
    {"id": "p3", "text": "Fullz + CVV frais, dumps track 1/2, cartes Visa testées, paiement BTC uniquement"},
]


def test_watch_over_http(world: Any) -> None:
    world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                         "phone": "0661234567"}, owner_unit="REGA",
                              classification="unclassified")
    analyst, ha = _client(world, "REGA", "analyst")
    other, hb = _client(world, "REGB", "analyst")
    officer, ho = _client(world, "REGA", "officer")
    body = "\n".join(json.dumps(p, ensure_ascii=False) for p in POSTS) + "\n{broken\n"
    r = analyst.post("/api/v1/watch/ingest", headers=ha, data={"source": "collector-1", "format": "jsonl"},
                     files={"file": ("posts.jsonl", body.encode())})
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["ingested"] == 3 and rep["alerts"] >= 2 and len(rep["skipped"]) == 1
    r = analyst.post("/api/v1/watch/ingest", headers=ha, data={"source": "collector-1", "format": "vcard"},
                     files={"file": ("x.txt", b"x")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"
    items = analyst.get("/api/v1/watch/items", headers=ha, params={"category": "drugs"}).json()
    assert items["total"] == 1
    iid = items["items"][0]["id"]
    item = analyst.get(f"/api/v1/watch/items/{iid}", headers=ha).json()
    assert item["record_hits"] and item["record_hits"][0]["value"] == "+212661234567"
    assert other.get(f"/api/v1/watch/items/{iid}", headers=hb).status_code == 404
    assert officer.get(f"/api/v1/watch/items/{iid}", headers=ho).status_code == 403
    alerts = analyst.get("/api/v1/watch/alerts", headers=ha).json()
    aid = next(a["id"] for a in alerts["alerts"] if a["item_id"] == iid)
    r = analyst.post(f"/api/v1/watch/alerts/{aid}/triage", headers=ha, json={"verdict": "relevant",
                                                                           "labels": ["drugs"]})
    assert r.status_code == 200 and r.json()["status"] == "relevant"
    r = analyst.post(f"/api/v1/watch/alerts/{aid}/triage", headers=ha, json={"verdict": "relevant"})
    assert r.status_code == 409
    bundle = analyst.get("/api/v1/watch/export", headers=ha, params={"tlp": "green"}).json()
    assert bundle["type"] == "bundle" and "+212661234567" in json.dumps(bundle)
    r = analyst.post("/api/v1/watch/import", headers=ha, files={"file": ("b.json", json.dumps(bundle).encode())})
    assert r.status_code == 201 and r.json()["added"] >= 1
    c = analyst.post("/api/v1/watch/classify", headers=ha, json={"text": POSTS[2]["text"]}).json()
    assert c["categories"][0]["category"] == "carding"
    d = analyst.get("/api/v1/watch/dashboard", headers=ha, params={"days": 7}).json()
    assert d["total"] == 3


def test_crawl_job_over_http(world: Any, site: tuple[str, Site]) -> None:  # noqa: F811
    base, content = site
    analyst, ha = _client(world, "REGA", "analyst")
    other, hb = _client(world, "REGB", "analyst")
    officer, ho = _client(world, "REGA", "officer")
    # bad input: the fields named, nothing fetched
    before = sum(content.hits.values())
    r = analyst.post("/api/v1/watch/crawls", headers=ha, json={"seeds": ["ftp://x"], "source": "s", "max_depth": 99})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"seeds", "max_depth"}
    assert sum(content.hits.values()) == before
    r = officer.post("/api/v1/watch/crawls", headers=ho, json={"seeds": [base + "/"], "source": "s"})
    assert r.status_code == 403
    r = analyst.post("/api/v1/watch/crawls", headers=ha, json={"seeds": [base + "/"], "source": "site-api",
                                                               "max_pages": 20, "max_depth": 1, "delay": 0,
                                                               "timeout": 1})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["source"] == "site-api" and job["id"]
    deadline = time.monotonic() + 90
    while not job["finished"] and time.monotonic() < deadline:
        time.sleep(0.1)
        job = analyst.get(f"/api/v1/watch/crawls/{job['id']}", headers=ha).json()
    assert job["finished"] and job["error"] is None, job
    assert job["result"]["fetched"] >= 8 and job["result"]["ingested"] >= 4
    assert {s["reason"] for s in job["result"]["skipped"]} >= {"crawl.robots", "crawl.http"}
    assert other.get(f"/api/v1/watch/crawls/{job['id']}", headers=hb).status_code == 404
    assert analyst.get("/api/v1/watch/crawls/nope-nope-nope", headers=ha).status_code == 404


def test_trace_scan_over_http(world: Any, tmp_path: Path) -> None:
    world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                         "phone": "0661234567"}, owner_unit="REGA",
                              classification="unclassified")
    inv, hi = _client(world, "REGA", "investigator")
    other, hb = _client(world, "REGB", "investigator")
    content = b"\x00" * 100 + b"call +212661234567 tonight" + b"\x00" * 100
    img = tmp_path / "phone.bin"
    img.write_bytes(content)
    item = world.svc.evidence.register(world.actor("REGA", "investigator"), seal_number="P-1", kind="digital",
                                       category="phone", content=io.BytesIO(content))
    r = inv.post(f"/api/v1/evidence/{item.id}/scans", headers=hi, json={"path": str(img)})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    r = inv.post(f"/api/v1/evidence/{item.id}/scans", headers=hi, json={"path": str(tmp_path / "none")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path"
    assert other.post(f"/api/v1/evidence/{item.id}/scans", headers=hb, json={"path": str(img)}).status_code == 404
    scan_id = world.svc.traces.next_queued()
    assert scan_id is not None
    world.svc.traces.run(scan_id)
    scans = inv.get(f"/api/v1/evidence/{item.id}/scans", headers=hi).json()["scans"]
    assert scans[0]["status"] == "done" and scans[0]["progress"] == 1.0
    sels = inv.get(f"/api/v1/evidence/{item.id}/selectors", headers=hi).json()["selectors"]
    assert {"kind": "phone", "value": "+212661234567"}.items() <= sels[0].items()
    hits = inv.get(f"/api/v1/evidence/{item.id}/hits", headers=hi).json()["hits"]
    assert hits[0]["record"]["caption"] and hits[0]["items"][0]["id"] == item.id
