"""Cyber watch service on SQLite and PostgreSQL: ingest (counts, duplicates, idempotent re-ingest,
skipped input), alert rules (category, watchlist, known selector), record hits within need-to-know,
triage with feedback, STIX export/import round trip, and audit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from amane.services.context import Actor
from amane.services.errors import Conflict, NotFound, ValidationFailed
from amane.store.tables import AuditRecord, Notification, WatchAlert, WatchItem, WatchSelector

pytest.importorskip("amane.watch.pipeline")
from amane.watch.sources import RawDoc, Skip  # noqa: E402

DRUGS = ("Chira mzyana men ketama, 100g b 3000dh, livraison f casa. Whatsapp +212 661-234567, "
         "hachich zero zero, kif, cannabis, resine premium, chi bghit contacti")
NEWS = "Le conseil municipal de Rabat a voté le budget de l'année prochaine pour les écoles et les routes."
PHONE_E164 = "+212661234567"


def _doc(ext: str, text: str, **kw: Any) -> RawDoc:
    return RawDoc(source="chan", external_id=ext, text=text, media_type="telegram", location=f"result.json#{ext}",
                  published=datetime(2026, 11, 20, 10, tzinfo=UTC), **kw)


def _person_with_phone(world: Any, unit: str) -> str:
    v = world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                             "phone": "0661234567"},
                                  owner_unit=unit, classification="unclassified")
    return str(v.id)


def test_ingest_counts_duplicates_alerts_and_reingest(world: Any) -> None:
    svc = world.svc
    analyst = world.actor("REGA", "analyst")
    person = _person_with_phone(world, "STA")
    docs = [_doc("1", DRUGS), _doc("2", NEWS), _doc("3", DRUGS),  # 3: same text as 1
            _doc("4", "   "), Skip("bad.json", "json.malformed", "Expecting value: line 1")]
    report = svc.watch.ingest(analyst, docs, source="chan", kind="telegram")
    assert (report.ingested, report.duplicates, report.already) == (2, 1, 0)
    assert {s["reason"] for s in report.skipped} == {"empty", "json.malformed"}
    assert report.alerts == 1
    again = svc.watch.ingest(analyst, [_doc("1", DRUGS), _doc("2", NEWS), _doc("5", NEWS + " Fin.")],
                             source="chan")
    assert again.already == 2 and again.ingested + again.near_duplicates + again.duplicates >= 1
    with svc.db.read() as s:
        items = s.scalars(select(WatchItem).order_by(WatchItem.id)).all()
        first, news, dup = items[0], items[1], items[2]
        assert dup.duplicate_of == first.id
        assert first.top_category == "drugs" and news.top_category is None
        phones = s.scalars(select(WatchSelector.value).where(WatchSelector.item_id == first.id,
                                                             WatchSelector.kind == "phone")).all()
        assert PHONE_E164 in phones
        alert = s.scalar(select(WatchAlert).where(WatchAlert.item_id == first.id))
        assert alert is not None
        rules = {r["rule"] for r in alert.reasons}
        assert {"category", "known_selector"} <= rules
        assert s.scalar(select(func.count()).select_from(WatchAlert).where(WatchAlert.item_id == dup.id)) == 0
        # the unit's triage analysts got one message for the ingest
        n = s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "watch.alerts"))
        assert n and n >= 1
    # the item page shows the record holding the phone, within need-to-know
    data = svc.watch.item(analyst, first.id)
    assert any(h["record"]["id"] == person and h["value"] == PHONE_E164 for h in data["record_hits"])
    assert data["marks"]["evidence"]["drugs"], "evidence spans for the category"
    for start, end, term in data["marks"]["evidence"]["drugs"]:
        assert DRUGS[start:end] == term
    # another region's analyst: the item does not exist for them
    with pytest.raises(NotFound):
        svc.watch.item(world.actor("REGB", "analyst"), first.id)
    # a user without the watch capability neither
    with pytest.raises(Exception):  # noqa: B017 - Forbidden
        svc.watch.item(world.actor("REGA", "officer"), first.id)
    with svc.db.read() as s:
        actions = set(s.scalars(select(AuditRecord.action).where(AuditRecord.object_type.in_(
            ["WatchItem", "WatchSource"]))))
    assert {"watch.ingest", "read"} <= actions


def test_record_hits_hide_records_outside_need_to_know(world: Any) -> None:
    svc = world.svc
    _person_with_phone(world, "STB")  # region B's record: region A's analyst must not learn of it
    analyst = world.actor("REGA", "analyst")
    svc.watch.ingest(analyst, [_doc("1", DRUGS)], source="chan-a")
    with svc.db.read() as s:
        iid = s.scalar(select(WatchItem.id))
        alert = s.scalar(select(WatchAlert).where(WatchAlert.item_id == iid))
        assert alert is not None and "known_selector" not in {r["rule"] for r in alert.reasons}
    assert svc.watch.item(analyst, iid)["record_hits"] == []
    national = world.actor("HQ", "analyst")
    hits = svc.watch.item(national, iid)["record_hits"]
    assert [h["record"]["unit"] for h in hits] == ["STB"]


def test_watchlist_terms_apply_down_the_tree_and_bad_terms_are_refused(world: Any) -> None:
    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    term = svc.watch.add_term(chief, "phrase", "harraga boat", category="migrant_smuggling", unit="REGA")
    with pytest.raises(ValidationFailed) as bad:
        svc.watch.add_term(chief, "regex", "([a-z", unit="REGA")
    assert bad.value.errors[0].field == "pattern"
    with pytest.raises(ValidationFailed) as bad:
        svc.watch.add_term(chief, "sound", "x", unit="REGA")
    assert bad.value.errors[0].field == "kind"
    report = svc.watch.ingest(chief, [_doc("1", "Rendez-vous demain pour le Harraga  Boat, places limitées")],
                              source="sta-chan", unit="STA")  # a station's source gets its region's terms
    assert report.alerts == 1
    with svc.db.read() as s:
        alert = s.scalar(select(WatchAlert))
        assert {"rule": "watchlist", "term": str(term["id"])} in alert.reasons
    # region B's sources do not get region A's terms
    report_b = svc.watch.ingest(world.actor("REGB", "unit_chief"), [_doc("1", "harraga boat ce soir")],
                                source="b-chan")
    with svc.db.read() as s:
        reasons = [a.reasons for a in s.scalars(select(WatchAlert).where(WatchAlert.unit_id != alert.unit_id))]
    assert all(r.get("rule") != "watchlist" for rs in reasons for r in rs)
    assert report_b.ingested == 1


def test_triage_feedback_and_transitions(world: Any) -> None:
    svc = world.svc
    analyst = world.actor("REGA", "analyst")
    svc.watch.ingest(analyst, [_doc("1", DRUGS)], source="chan")
    rows, total = svc.watch.alerts(analyst)
    assert total == 1
    aid = rows[0]["id"]
    with pytest.raises(ValidationFailed) as bad:
        svc.watch.triage(analyst, aid, "maybe", labels=["cooking"])
    assert {e.field for e in bad.value.errors} == {"verdict", "labels"}
    done = svc.watch.triage(analyst, aid, "relevant", labels=["drugs"], note="vendeur connu")
    assert done["status"] == "relevant" and done["triaged_by"] == analyst.username
    with pytest.raises(Conflict) as illegal:
        svc.watch.triage(analyst, aid, "relevant")
    assert set(illegal.value.extra["allowed"]) == {"escalated", "not_relevant"}
    assert svc.watch.feedback(analyst) == [(DRUGS, frozenset({"drugs"}))]
    with pytest.raises(NotFound):
        svc.watch.triage(world.actor("REGB", "analyst"), aid, "not_relevant")


def test_stix_export_import_round_trip(world: Any) -> None:
    svc = world.svc
    analyst = world.actor("REGA", "analyst")
    svc.watch.ingest(analyst, [_doc("1", DRUGS + " mail: dealer.casa@example.org")], source="chan")
    rows, _ = svc.watch.alerts(analyst)
    svc.watch.triage(analyst, rows[0]["id"], "relevant", labels=["drugs"])
    bundle = svc.watch.export(analyst, tlp="amber", fmt="stix")
    assert bundle["type"] == "bundle"
    text = json.dumps(bundle)
    assert "dealer.casa@example.org" in text
    misp = svc.watch.export(analyst, tlp="green", fmt="misp")
    assert "Event" in misp
    with pytest.raises(ValidationFailed) as bad:
        svc.watch.export(analyst, tlp="purple")
    assert bad.value.errors[0].field == "tlp"
    first = svc.watch.import_stix(analyst, text, source_name="partner")
    assert first["added"] >= 1
    second = svc.watch.import_stix(analyst, text, source_name="partner")
    assert second["added"] == 0 and second["already"] == first["added"]
    with pytest.raises(ValidationFailed) as bad:
        svc.watch.import_stix(analyst, b"{not json", source_name="partner")
    assert bad.value.errors[0].field == "bundle"
    # a partner's indicator makes the selector "known" for later content
    svc.watch.ingest(analyst, [_doc("9", "contact: dealer.casa@example.org pour la suite")], source="chan2")
    with svc.db.read() as s:
        reasons = [r for a in s.scalars(select(WatchAlert)) for r in a.reasons]
    assert {"rule": "known_selector", "kind": "email", "value": "dealer.casa@example.org"} in reasons


def test_dashboard_counts(world: Any) -> None:
    svc = world.svc
    analyst = world.actor("REGA", "analyst")
    svc.watch.ingest(analyst, [_doc("1", DRUGS), _doc("2", NEWS)], source="chan")
    d = svc.watch.dashboard(analyst, days=30, today=date(2026, 11, 29))  # posts are dated 2026-11-20
    assert d["total"] == 2 and sum(d["by_category"]["drugs"]) == 1 and sum(d["by_source"]["chan"]) == 2
    assert d["open_alerts"] == 1
    assert svc.watch.dashboard(world.actor("REGB", "analyst"), days=30, today=date(2026, 11, 29))["total"] == 0


def test_access_matrix_for_watch_items_and_alerts(world: Any) -> None:
    """Every user of the test world (3 units x 7 roles x 3 clearances) against items of sources in
    a national unit, region A's station and region B at three classifications: lists, item pages,
    alert lists and dashboard counts follow the rule (watch.read, clearance, unit scope), and an
    item outside it answers like a missing one."""
    from sqlalchemy import update

    from amane.services.errors import Forbidden

    svc = world.svc
    system = Actor.system()
    levels = {"unclassified": 0, "restricted": 1, "secret": 3}
    owners = {"NATCYBER": "/", "STA": "REGA", "REGB": "REGB"}
    items: dict[int, tuple[str, int]] = {}
    for unit in owners:
        for name, level in levels.items():
            svc.watch.ingest(system, [_doc(f"{unit}-{name}", f"{DRUGS} ({unit} {name})")], source=f"src-{unit}-{name}",
                             unit=unit)
            with svc.db.write() as s:
                iid = s.scalar(select(func.max(WatchItem.id)))
                s.execute(update(WatchItem).where(WatchItem.id == iid).values(classification=level))
                s.execute(update(WatchAlert).where(WatchAlert.item_id == iid).values(classification=level))
            items[int(iid)] = (unit, level)

    def may_see(unit: str, role: str, clearance: str, owner: str, level: int) -> bool:
        from amane.services.roles import capabilities_of

        if "watch.read" not in capabilities_of([role]) or levels[clearance] < level:
            return False
        if unit == "HQ":
            return True  # national unit
        return owners[owner] == unit  # a region sees its own subtree only

    attempts = 0
    for (unit, role, clearance) in list(world.actors):
        actor = world.actor(unit, role, clearance)
        expected = {iid for iid, (owner, level) in items.items() if may_see(unit, role, clearance, owner, level)}
        if not actor.can("watch.read"):
            with pytest.raises(Forbidden):
                svc.watch.items(actor)
            attempts += 1
            continue
        listed, total = svc.watch.items(actor, per_page=500)
        assert {r["id"] for r in listed} == expected and total == len(expected), (unit, role, clearance)
        alerts, _ = svc.watch.alerts(actor, per_page=500)
        assert {a["item_id"] for a in alerts} == expected, (unit, role, clearance)
        assert svc.watch.dashboard(actor, days=30, today=date(2026, 11, 29))["total"] == len(expected)
        for iid in items:
            attempts += 1
            if iid in expected:
                assert svc.watch.item(actor, iid)["id"] == iid
            else:
                with pytest.raises(NotFound):
                    svc.watch.item(actor, iid)
    assert attempts >= 9 * 6 * 3


def test_configured_feeds_are_fetched_and_a_silent_one_is_reported(world: Any) -> None:
    """Feeds are fetched only from configured addresses, on a local HTTP server; re-fetching adds
    nothing; a feed that never answers is reported as skipped and the others are ingested."""
    import http.server
    import threading
    from pathlib import Path

    feed = (Path(__file__).parents[1] / "watch" / "samples" / "drop" / "feed.rss").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(feed)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = __import__("socket").socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        chief = world.actor("REGA", "unit_chief")
        url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
        svc = world.svc
        with pytest.raises(ValidationFailed) as bad:
            svc.watch.add_feed(chief, "bad", "file:///etc/passwd", unit="REGA")
        assert bad.value.errors[0].field == "url"
        svc.watch.add_feed(chief, "news-feed", url, unit="REGA")
        svc.watch.add_feed(chief, "silent-feed", f"http://127.0.0.1:{silent.getsockname()[1]}/rss", unit="REGA")
        first = svc.watch.fetch_feeds(chief, timeout=0.5)
        assert first["news-feed"]["ingested"] == 2  # the sample's third entry has no text: skipped, with why
        assert [s["reason"] for s in first["news-feed"]["skipped"]] == ["empty"]
        assert [s["reason"] for s in first["silent-feed"]["skipped"]] == ["feed.timeout"]
        again = svc.watch.fetch_feeds(chief, timeout=0.5)
        assert again["news-feed"]["ingested"] == 0 and again["news-feed"]["already"] == first["news-feed"]["ingested"]
        assert svc.watch.fetch_feeds(world.actor("REGB", "unit_chief"), timeout=0.5) == {}
    finally:
        server.shutdown()
        silent.close()
