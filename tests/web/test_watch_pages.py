"""Cyber-watch pages: dashboard (stacked bars, sources, languages, open alerts; an empty state that
tells how to ingest), item list and item view (evidence, watchlist hits and selectors highlighted
with the right text, records holding the selectors, the address shown as text), the triage queue
(a verdict through the form changes the alert; an illegal step or bad input shows the rule), the
watchlist editor (a bad regex shown beside its field; read-only without watch.manage), the upload
form with its ingest report and the STIX/MISP download; in ar/fr/en with the right direction, and
need-to-know: another region's item or alert is the same 404 as a missing one."""

from __future__ import annotations

import html
import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from amane.services.context import Actor
from amane.store.tables import WatchAlert, WatchItem
from amane.web.i18n import t
from amane.web.watch import Span, highlight_segments
from tests.watch.test_crawl import Site, site  # noqa: F401 - the test site fixture
from tests.web.test_pages import LANGS, html_tag, sign_in, txt

pytest.importorskip("amane.watch.pipeline")
from amane.watch.sources import RawDoc  # noqa: E402

DRUGS = ("Chira mzyana men ketama, 100g b 3000dh, livraison f casa. Whatsapp +212 661-234567, "
         "hachich zero zero, kif, cannabis, resine premium, chi bghit contacti")
CARDS = ("Selling fresh CVV fullz, dumps with pin, carding tutorial, bank logs, cashout method. "
         "Contact on telegram, payment in bitcoin only.")
NEWS = "Le conseil municipal de Rabat a voté le budget de l'année prochaine pour les écoles et les routes."
MARKUP = "<b>bold</b> & <script>alert(1)</script> kif cannabis hachich chira 3000dh livraison"
ONION = "http://expyuzz4wqqyqhjn.onion/market/item?id=42"
SOURCE = "chan-a"


def _doc(ext: str, text: str, **kw: Any) -> RawDoc:
    return RawDoc(source=SOURCE, external_id=ext, text=text, media_type="telegram", location=f"result.json#{ext}",
                  published=datetime(2026, 11, 20, 10, tzinfo=UTC), **kw)


def _seed(world: Any) -> dict[str, int]:
    """A person in Station A holding the phone of the drugs post; the REGA analyst ingests four posts."""
    world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                         "phone": "0661234567"},
                              owner_unit="STA", classification="unclassified")
    analyst = world.actor("REGA", "analyst")
    report = world.svc.watch.ingest(analyst, [
        _doc("1", DRUGS, url=ONION, author="dealer212", title="Chira premium"), _doc("2", NEWS), _doc("3", CARDS),
        _doc("4", MARKUP)], source=SOURCE, kind="telegram")
    assert report.ingested == 4, report.as_dict()
    with world.svc.db.read() as s:
        ids = {it.external_id: it.id for it in s.scalars(select(WatchItem))}
        alerts = {a.item_id: a.id for a in s.scalars(select(WatchAlert))}
    assert ids["1"] in alerts, "the drugs post with a known phone raises an alert"
    return {"drugs": ids["1"], "news": ids["2"], "cards": ids["3"], "markup": ids["4"],
            "alert": alerts[ids["1"]]}


def _analyst(world: Any, unit: str = "REGA") -> tuple[Any, str]:
    return sign_in(world, world.username(unit, "analyst"))


def _no_outside_urls(text: str) -> None:
    hosts = {urlsplit(u).hostname for u in re.findall(r"""https?://[^\s"'<>)]+""", text)}
    # the onion address is shown as text (never a link); nothing else outside
    assert hosts <= {"testserver", "127.0.0.1", "localhost", "expyuzz4wqqyqhjn.onion"}, hosts
    assert not re.search(r'(?:href|src|action)="https?://', text)


def _char_classes(page: str) -> list[tuple[str, set[str]]]:
    """Each character of the item's text with the classes of the mark around it."""
    body = page[page.index('id="item-text"'):]
    body = body[body.index(">") + 1:body.index("</div>")]
    out: list[tuple[str, set[str]]] = []
    for m in re.finditer(r'<mark class="([^"]*)"[^>]*>([^<]*)</mark>|([^<]+)', body):
        css = set((m.group(1) or "").split())
        out += [(c, css) for c in html.unescape(m.group(2) if m.group(1) is not None else m.group(3))]
    return out


# --------------------------------------------------------------------------- pure helpers


def test_highlight_segments_overlap_and_clip() -> None:
    text = "abcdefghij"
    segs = highlight_segments(text, [Span(1, 5, "ev ev-drugs", "Drugs"), Span(3, 8, "sel", "Phone"),
                                     Span(4, 6, "ev ev-weapons", "Weapons"), Span(9, 40, "hit", "T"),
                                     Span(7, 7, "hit", "empty")])
    assert "".join(s.text for s in segs) == text
    got = [(s.text, s.css) for s in segs]
    assert got == [("a", ""), ("bc", "ev ev-drugs"), ("d", "ev ev-drugs sel"),
                   ("e", "ev ev-drugs sel ev-weapons ev-multi"), ("f", "sel ev ev-weapons"), ("gh", "sel"),
                   ("i", ""), ("j", "hit")]
    assert segs[3].titles == ("Drugs", "Phone", "Weapons")


def test_page_vocabularies_are_the_engines() -> None:
    from amane.watch import classify, exchange, lang, sources, watchlist
    from amane.web import watch as pages

    assert pages.CATEGORIES == classify.CATEGORIES
    assert pages.TERM_KINDS == watchlist.TERM_KINDS
    assert pages.TLP_LEVELS == exchange.TLP_LEVELS
    assert pages.INGEST_FORMATS == sources.FORMATS
    assert set(pages.LANGUAGES) == set(lang.LANGUAGES)


# --------------------------------------------------------------------------- every page, every language


@pytest.mark.parametrize("lang", LANGS)
def test_pages_in_every_language(world: Any, lang: str) -> None:
    ids = _seed(world)
    client, _ = _analyst(world)
    client.cookies.set("amane_lang", lang)
    for url, key in (("/watch", "watch.dash.title"), ("/watch?days=7", "watch.dash.title"),
                     ("/watch/items", "watch.items.title"), (f"/watch/items/{ids['drugs']}", "watch.item.text"),
                     ("/watch/items?category=none", "watch.items.title"),
                     ("/watch/alerts", "watch.alerts.title"), ("/watch/alerts?status=relevant", "watch.alerts.title"),
                     ("/watch/terms", "watch.terms.title"), ("/watch/upload", "watch.upload.title"),
                     ("/watch/export", "watch.export.title"), ("/watch/indicators", "watch.indicators.title")):
        r = client.get(url)
        assert r.status_code == 200, (url, txt(r)[-800:])
        page = txt(r)
        assert html_tag(page) == f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">', url
        assert t(key, lang) in page, (url, key)
        assert re.search(r'<a href="/watch" aria-current="page">' + re.escape(t("watch.nav", lang)), page), url
        assert "<script>" not in r.text and " style=" not in r.text, url  # the CSP forbids both
        _no_outside_urls(page)
    dash = txt(client.get("/watch"))
    # volume by category as stacked bars, with the figures in a table; the drugs category is there
    assert re.search(r'<svg class="chart"[^>]*aria-labelledby="watch-volume-t watch-volume-d"', dash)
    assert 'class="wbar wc-drugs"' in dash and t("watch.categories.drugs", lang) in dash
    assert re.search(r'id="kpi-items">4<', dash) and re.search(r'id="kpi-alerts">\d+<', dash)
    assert 'href="/watch/alerts?status=open"' in dash and SOURCE in dash
    assert t("watch.dash.empty_title", lang) not in dash
    # the list filtered on "no category" shows the council news and not the drugs post
    none = txt(client.get("/watch/items?category=none"))
    assert f'href="/watch/items/{ids["news"]}"' in none and f'href="/watch/items/{ids["drugs"]}"' not in none


def test_dashboard_empty_state_tells_how_to_ingest(world: Any) -> None:
    client, _ = _analyst(world)
    client.cookies.set("amane_lang", "fr")
    page = txt(client.get("/watch"))
    assert t("watch.dash.empty_title", "fr") in page
    assert "amane watch ingest PATH --source NAME" in page and 'href="/watch/upload"' in page


def test_users_without_watch_read_get_403(world: Any) -> None:
    client, _ = sign_in(world, world.username("REGA", "officer"))
    assert client.get("/watch").status_code == 403
    assert 'href="/watch"' not in txt(client.get("/"))


# --------------------------------------------------------------------------- item view


def test_item_view_highlights_the_right_text(world: Any) -> None:
    ids = _seed(world)
    analyst = world.actor("REGA", "analyst")
    item = world.svc.watch.item(analyst, ids["drugs"])
    text = item["text"]
    client, _ = _analyst(world)
    client.cookies.set("amane_lang", "en")
    r = client.get(f"/watch/items/{ids['drugs']}")
    assert r.status_code == 200
    page = r.text
    classes = _char_classes(page)
    # the text is all there, and each character carries exactly the marks of the spans covering it
    assert "".join(c for c, _ in classes) == text
    evidence = item["marks"]["evidence"]
    assert "drugs" in evidence
    covered = set()
    for start, end, _term in evidence["drugs"]:
        covered |= set(range(start, end))
    assert covered
    assert {i for i, (_, css) in enumerate(classes) if "ev-drugs" in css} == covered
    phone = next(s for s in item["selectors"] if s["kind"] == "phone")
    sel = {i for i, (_, css) in enumerate(classes) if "sel" in css}
    assert set(range(phone["start"], phone["end"])) <= sel
    assert "661" in text[phone["start"]:phone["end"]]
    # legend with the category colour, scores as bars, the phone with the person who holds it
    assert '<mark class="ev ev-drugs">Drugs</mark>' in page
    assert 'class="wbar wc-drugs"' in page
    assert "+212661234567" in page and re.search(r'<a href="/records/view/[^"]+"><bdi>[^<]*Zeroual', page)
    # the onion address is text with a copy button, never a link
    assert ONION.replace("&", "&amp;") in page and f'href="{ONION}' not in page and 'data-copy="#item-url"' in page
    assert "dealer212" in page
    # its alert, with the triage buttons
    assert f'action="/watch/alerts/{ids["alert"]}/triage"' in page and 'value="not_relevant"' in page
    # the same post again in another channel: a duplicate, linked to the first one seen
    world.svc.watch.ingest(analyst, [RawDoc(source="chan-b", external_id="x1", text=DRUGS, media_type="telegram",
                                            location="other.json#1")], source="chan-b")
    rows, _ = world.svc.watch.items(analyst, source="chan-b")
    dup = client.get(f"/watch/items/{rows[0]['id']}").text
    assert f'<a href="/watch/items/{ids["drugs"]}" id="first-seen">' in dup


def test_item_text_is_escaped(world: Any) -> None:
    ids = _seed(world)
    client, _ = _analyst(world)
    r = client.get(f"/watch/items/{ids['markup']}")
    assert r.status_code == 200
    body = r.text[r.text.index('id="item-text"'):]
    body = body[:body.index("</div>")]
    assert "<script>" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "&lt;script&gt;" in body


def test_other_region_gets_the_same_404_as_a_missing_item(world: Any) -> None:
    ids = _seed(world)
    client, csrf = _analyst(world, "REGB")
    hidden = client.get(f"/watch/items/{ids['drugs']}")
    missing = client.get("/watch/items/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    r = client.post(f"/watch/alerts/{ids['alert']}/triage", data={"csrf": csrf, "verdict": "relevant"},
                    follow_redirects=False)
    assert r.status_code == 404
    # nothing of region A in region B's lists and dashboard
    assert f'/watch/items/{ids["drugs"]}' not in txt(client.get("/watch/items"))
    assert f'id="alert-{ids["alert"]}"' not in txt(client.get("/watch/alerts"))
    assert SOURCE not in txt(client.get("/watch"))
    with world.svc.db.read() as s:
        assert s.get(WatchAlert, ids["alert"]).status == "open"


# --------------------------------------------------------------------------- triage


def test_triage_through_the_form(world: Any) -> None:
    ids = _seed(world)
    client, csrf = _analyst(world)
    client.cookies.set("amane_lang", "fr")
    queue = txt(client.get("/watch/alerts"))
    assert f'id="alert-{ids["alert"]}"' in queue and t("watch.reasons.known_selector", "fr") in queue
    # bad input: a case number that is not a number; nothing changes
    r = client.post(f"/watch/alerts/{ids['alert']}/triage", data={
        "csrf": csrf, "verdict": "escalated", "case_id": "abc", "next": "/watch/alerts?status=open&page=1"})
    assert r.status_code == 422 and "case_id · integer" in txt(r) and t("watch.rules.integer", "fr") in txt(r)
    # a case number with a verdict other than escalation: the service's rule, by field
    r = client.post(f"/watch/alerts/{ids['alert']}/triage", data={
        "csrf": csrf, "verdict": "relevant", "case_id": "12", "next": f"/watch/items/{ids['drugs']}"})
    assert r.status_code == 422 and "case_id · watch.case_needs_escalation" in txt(r)
    assert t("watch.item.text", "fr") in txt(r)  # shown on the item page it came from
    with world.svc.db.read() as s:
        assert s.get(WatchAlert, ids["alert"]).status == "open"
    # relevant, confirming two categories: back to the queue, the alert is relevant, the labels are feedback
    r = client.post(f"/watch/alerts/{ids['alert']}/triage", data={
        "csrf": csrf, "verdict": "relevant", "labels": ["drugs", "other"], "note": "vendeur connu",
        "next": "/watch/alerts?status=open&page=1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/watch/alerts?status=open&page=1&done=triage"
    with world.svc.db.read() as s:
        a = s.get(WatchAlert, ids["alert"])
        assert a.status == "relevant" and a.note == "vendeur connu"
        assert s.get(WatchItem, ids["drugs"]).labels == ["drugs", "other"]
    assert f'id="alert-{ids["alert"]}"' not in txt(client.get("/watch/alerts"))
    assert f'id="alert-{ids["alert"]}"' in txt(client.get("/watch/alerts?status=relevant"))
    # an illegal step (relevant -> relevant): the allowed ones in words, and the rule
    r = client.post(f"/watch/alerts/{ids['alert']}/triage", data={
        "csrf": csrf, "verdict": "relevant", "next": "/watch/alerts?status=relevant&page=1"})
    assert r.status_code == 409
    page = txt(r)
    assert "state.transition" in page
    assert t("watch.rules.state.transition", "fr", state=t("watch.status.relevant", "fr"),
             allowed=", ".join([t("watch.status.escalated", "fr"), t("watch.status.not_relevant", "fr")])) in page
    # without CSRF: refused
    assert client.post(f"/watch/alerts/{ids['alert']}/triage", data={"verdict": "not_relevant"}).status_code == 403


# --------------------------------------------------------------------------- watchlist


def test_watchlist_editor(world: Any) -> None:
    chief, csrf = sign_in(world, world.username("REGA", "unit_chief"))
    chief.cookies.set("amane_lang", "ar")
    r = chief.post("/watch/terms", data={"csrf": csrf, "kind": "regex", "pattern": "(unclosed", "label": "x"})
    assert r.status_code == 422
    page = txt(r)
    m = re.search(r'<ul class="field-errors" id="pattern-error">(.*?)</ul>', page, re.S)
    assert m and "pattern · watch.term" in m.group(1)
    assert 'aria-describedby="pattern-error"' in page and 'value="(unclosed"' in page
    r = chief.post("/watch/terms", data={"csrf": csrf, "kind": "keyword", "pattern": "ketama", "category": "drugs",
                                         "label": "Ketama"}, follow_redirects=False)
    assert r.status_code == 303
    page = txt(chief.get("/watch/terms?done=added"))
    assert "ketama" in page and t("watch.terms.done.added", "ar") in page
    term_id = int(re.search(r'action="/watch/terms/(\d+)/remove"', page).group(1))
    # an analyst reads it but has no form, and may not post
    analyst, acsrf = _analyst(world)
    ro = txt(analyst.get("/watch/terms"))
    assert "ketama" in ro and 'action="/watch/terms"' not in ro and "/remove" not in ro
    assert analyst.post("/watch/terms", data={"csrf": acsrf, "kind": "keyword", "pattern": "kif"}).status_code == 403
    # the term is used at the next ingest: a watchlist reason on the alert
    report = world.svc.watch.ingest(world.actor("REGA", "analyst"), [_doc("9", "Chi haja men Ketama? rah kayna")],
                                    source=SOURCE)
    assert report.alerts == 1
    assert "Ketama" in txt(analyst.get("/watch/alerts"))
    r = chief.post(f"/watch/terms/{term_id}/remove", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert f'id="term-{term_id}"' not in txt(chief.get("/watch/terms"))


# --------------------------------------------------------------------------- upload and export


def test_upload_form_ingests_a_jsonl_file(world: Any) -> None:
    world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                         "phone": "0661234567"}, owner_unit="STA",
                              classification="unclassified")
    client, csrf = _analyst(world)
    client.cookies.set("amane_lang", "en")
    lines = [json.dumps({"id": "p1", "text": DRUGS}), "{not json", json.dumps({"id": "p2", "text": NEWS}),
             json.dumps({"id": "p3", "text": ""})]
    r = client.post("/watch/upload", data={"csrf": csrf, "source": "posts-web", "format": "jsonl"},
                    files={"file": ("posts.jsonl", "\n".join(lines).encode(), "application/x-ndjson")})
    assert r.status_code == 200, txt(r)[-1000:]
    page = txt(r)
    assert re.search(r'id="count-ingested">2<', page) and re.search(r'id="count-skipped">2<', page)
    assert re.search(r'id="count-alerts">1<', page)
    assert t("watch.skip_reasons.json.malformed", "en") in page and "posts.jsonl:2" in page
    rows, total = world.svc.watch.items(world.actor("REGA", "analyst"), source="posts-web")
    assert total == 2
    # the unit's analysts got one inbox message, rendered in words
    inbox = re.sub(r"<[^>]+>", "", txt(client.get("/inbox")))
    assert t("proc.inbox.kinds.watch.alerts", "en", count=1, source="posts-web") in inbox
    # no file: the field is named
    r = client.post("/watch/upload", data={"csrf": csrf, "source": "x", "format": "auto"})
    assert r.status_code == 422 and 'id="file-error"' in txt(r)


def test_crawl_form_collects_with_progress(world: Any, site: tuple[str, Site]) -> None:  # noqa: F811
    base, content = site
    client, csrf = _analyst(world)
    client.cookies.set("amane_lang", "en")
    page = txt(client.get("/watch/crawl"))
    assert 'name="seeds"' in page and 'href="/watch/crawl" aria-current="page"' in page
    # bad input: each field named beside itself, nothing fetched, no job
    before = sum(content.hits.values())
    r = client.post("/watch/crawl", data={"csrf": csrf, "seeds": "not-an-address", "source": "", "max_pages": "abc",
                                          "max_depth": "99", "delay": "x", "timeout": "1"})
    assert r.status_code == 422
    page = txt(r)
    for name in ("seeds", "source", "max_pages", "max_depth", "delay"):
        assert f'id="{name}-error"' in page, name
    assert t("watch.rules.number", "en") in page and t("watch.rules.integer", "en") in page
    assert 'id="timeout-error"' not in page and "not-an-address" in page  # what was typed stays
    assert sum(content.hits.values()) == before
    # a crawl of the test site: a progress page that refreshes itself, then the report
    r = client.post("/watch/crawl", data={"csrf": csrf, "seeds": f"{base}/\n\n", "source": "market-web",
                                          "max_pages": "20", "max_depth": "1", "delay": "0", "timeout": "1",
                                          "robots": "on"}, follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    assert job_url.startswith("/watch/crawl/")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = txt(client.get(job_url, headers={"HX-Request": "true"}))
        if 'hx-get="' + job_url not in body:
            break
        time.sleep(0.1)
    main = body[body.find('id="job"'):]
    assert 'id="report"' in body, main[:3000]
    fetched = int(re.search(r'id="count-fetched">(\d+)<', body).group(1))  # type: ignore[union-attr]
    ingested = int(re.search(r'id="count-ingested">(\d+)<', body).group(1))  # type: ignore[union-attr]
    assert fetched >= 8 and ingested >= 4
    assert t("watch.skip_reasons.crawl.robots", "en") in body and t("watch.skip_reasons.crawl.http", "en") in body
    assert content.hits["/private/secret.html"] == 0
    _rows, total = world.svc.watch.items(world.actor("REGA", "analyst"), source="market-web")
    assert total == ingested
    # in Arabic, right to left, with the words of the page
    client.cookies.set("amane_lang", "ar")
    body = txt(client.get(job_url))
    assert 'dir="rtl"' in html_tag(body) and t("watch.crawl.report_title", "ar", source="market-web") in body
    # another user's job answers like a missing one; an officer may not collect
    other, _ = sign_in(world, world.username("REGB", "analyst"))
    assert other.get(job_url).status_code == other.get("/watch/crawl/no-such-job").status_code == 404
    officer, ocsrf = sign_in(world, world.username("REGA", "officer"))
    assert officer.get("/watch/crawl").status_code == 403
    assert officer.post("/watch/crawl", data={"csrf": ocsrf, "seeds": base + "/", "source": "x"}).status_code == 403


def test_export_downloads_a_stix_bundle(world: Any) -> None:
    ids = _seed(world)
    analyst = world.actor("REGA", "analyst")
    world.svc.watch.triage(analyst, ids["alert"], "relevant")
    client, csrf = _analyst(world)
    r = client.post("/watch/export", data={"csrf": csrf, "since": "", "tlp": "amber", "format": "stix"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"].startswith('attachment; filename="amane-watch-stix-amber-')
    bundle = r.json()
    assert bundle["type"] == "bundle"
    values = json.dumps(bundle)
    assert "+212661234567" in values and "marking-definition--" in values
    r = client.post("/watch/export", data={"csrf": csrf, "tlp": "amber", "format": "misp"})
    assert r.status_code == 200 and "Event" in r.json()
    r = client.post("/watch/export", data={"csrf": csrf, "since": "yesterday", "tlp": "purple", "format": "stix"})
    assert r.status_code == 422
    page = txt(r)
    assert 'id="tlp-error"' in page and "tlp · enum" in page and 'value="yesterday"' in page


def _partner_bundle() -> bytes:
    import stix2

    tlp = stix2.TLP_AMBER
    objects = [
        stix2.Indicator(pattern="[ipv4-addr:value = '203.0.113.7']", pattern_type="stix",
                        valid_from="2026-11-01T00:00:00Z", labels=["malicious-activity"], object_marking_refs=[tlp]),
        stix2.Indicator(pattern="[email-addr:value = 'vendeur.chira@example.org']", pattern_type="stix",
                        valid_from="2026-11-01T00:00:00Z", object_marking_refs=[tlp]),
        stix2.Indicator(pattern="[file:hashes.'SHA-256' = '" + "a" * 64 + "']", pattern_type="stix",
                        valid_from="2026-11-01T00:00:00Z"),
    ]
    return stix2.Bundle(objects=objects, allow_custom=True).serialize().encode()


def test_partner_indicators_import_through_the_form(world: Any) -> None:
    client, csrf = _analyst(world)
    client.cookies.set("amane_lang", "fr")
    page = txt(client.get("/watch/indicators"))
    assert t("watch.indicators.none", "fr") in page and 'action="/watch/indicators"' in page
    bundle = _partner_bundle()
    r = client.post("/watch/indicators", data={"csrf": csrf, "source": "CERT partenaire"},
                    files={"file": ("bundle.json", bundle, "application/json")})
    assert r.status_code == 200, txt(r)[-1000:]
    page = html.unescape(txt(r))
    assert t("watch.indicators.report", "fr", n="2", added="2", already="0") in page
    assert "203.0.113.7" in page and "vendeur.chira@example.org" in page and "CERT partenaire" in page
    assert "TLP:AMBER" in page
    assert "pattern.unsupported" in page  # the file-hash indicator is named with its rule, not imported
    # the same bundle again adds nothing
    r = client.post("/watch/indicators", data={"csrf": csrf},
                    files={"file": ("bundle.json", bundle, "application/json")})
    assert t("watch.indicators.report", "fr", n="2", added="0", already="2") in html.unescape(txt(r))
    assert len(world.svc.watch.indicators(world.actor("REGA", "analyst"))) == 2
    # not a bundle, and no file: refused with the field and the rule, nothing added
    r = client.post("/watch/indicators", data={"csrf": csrf},
                    files={"file": ("x.json", b"{not json", "application/json")})
    assert r.status_code == 422 and "stix.invalid" in txt(r)
    r = client.post("/watch/indicators", data={"csrf": csrf})
    assert r.status_code == 422 and 'id="file-error"' in txt(r)
    assert len(world.svc.watch.indicators(world.actor("REGA", "analyst"))) == 2
    # an officer (no watch capability) neither sees nor imports
    officer, ocsrf = sign_in(world, world.username("REGA", "officer"))
    assert officer.get("/watch/indicators").status_code == 403
    r = officer.post("/watch/indicators", data={"csrf": ocsrf}, files={"file": ("b.json", bundle, "application/json")})
    assert r.status_code == 403
    assert len(world.svc.watch.indicators(world.actor("REGA", "analyst"))) == 2


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture
def watch_server(tmp_path: Path) -> Any:
    from amane.services.container import Services
    from amane.store import migrate
    from tests.conftest import PASSWORD, TEST_UNITS, make_settings
    from tests.web.test_browser import serving

    svc = Services.create(make_settings(tmp_path, f"sqlite:///{tmp_path / 'amane.db'}"))
    migrate.upgrade(svc.db)
    svc.units.seed(TEST_UNITS)
    made = svc.users.create(Actor.system(), username="s.idrissi", password=PASSWORD, service_number="SN-W1",
                            full_name="Salma Idrissi", unit="REGA", roles_=["analyst"], clearance="secret",
                            language="ar")
    svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                   "given_name_ar": "كريم", "family_name_ar": "الزروالي",
                                                   "phone": "0661234567"}, owner_unit="STA",
                        classification="unclassified")
    from amane.services.auth import actor_for
    from amane.store.tables import Unit, User

    with svc.db.read() as s:
        u = s.scalar(select(User).where(User.username == "s.idrissi"))
        actor = actor_for(u, s.get(Unit, u.unit_id))
    posts = [DRUGS, CARDS, NEWS, "شي حشيش زوين من كتامة، الكيلو ب 3000 درهم، التوصيل فكازا. واتساب 0661234567",
             "Passage vers l'Espagne en zodiac, départ de Tanger, 2000 euros par personne, harraga contactez-moi",
             "Vente kalachnikov et munitions, pistolet 9mm sans papiers, livraison discrète"]
    docs = [RawDoc(source="tg-export", external_id=str(i), text=p, media_type="telegram",
                   location=f"result.json#{i}", url=ONION if i == 0 else None, author="vendor",
                   published=datetime(2026, 11, 20, 10, tzinfo=UTC)) for i, p in enumerate(posts)]
    svc.watch.ingest(actor, docs, source="tg-export", kind="telegram")
    with svc.db.read() as s:
        first = s.scalar(select(WatchItem.id).where(WatchItem.external_id == "3"))
    try:
        with serving(svc) as url:
            yield {"url": url, "svc": svc, "secret": made.totp_secret, "item": first}
    finally:
        svc.close()


@pytest.mark.browser
def test_watch_in_the_browser(watch_server: dict[str, Any], tmp_path: Path,
                              site: tuple[str, Site]) -> None:  # noqa: F811
    """An Arabic-speaking analyst: dashboard, an item, the upload with its progress, the queue.
    Screenshots go to ``test-artifacts/screenshots/watch_*.png`` (or ``$AMANE_SCREENSHOTS``)."""
    import pyotp

    from tests.conftest import PASSWORD
    from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, ensure_chromium

    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("AMANE_SCREENSHOTS") or SHOTS)
    shots.mkdir(parents=True, exist_ok=True)
    base = watch_server["url"]
    hosts: set[str] = set()
    problems: list[str] = []

    def no_overflow(page: Any) -> None:
        width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert width <= 1, f"the page overflows sideways by {width}px"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ar-MA")
            page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname or req.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(base + "/login")
            page.fill("input[name=username]", "s.idrissi")
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=otp]", pyotp.TOTP(watch_server["secret"]).now())
            page.click("button[type=submit]")
            expect(page.locator(".who-name")).to_have_text("Salma Idrissi")

            # the dashboard in Arabic, from the main navigation
            page.click(".mainnav a[href='/watch']")
            assert page.get_attribute("html", "dir") == "rtl"
            expect(page.locator("h1")).to_contain_text(t("watch.dash.title", "ar"))
            assert page.locator("svg.chart rect.wbar").count() >= 3
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_dashboard_ar.png"), full_page=True)

            # the Darija drugs post: highlights, the phone held by a person, the alert's triage buttons
            page.goto(base + f"/watch/items/{watch_server['item']}")
            expect(page.locator("#item-text mark.ev-drugs").first).to_be_visible()
            expect(page.locator("#item-text mark.sel").first).to_be_visible()
            expect(page.locator(".record-hits a").first).to_be_visible()
            expect(page.locator(".triage-actions button")).to_have_count(3)
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_item_ar.png"), full_page=True)

            # the upload form posts with a progress indicator and shows the report in place
            page.goto(base + "/watch/upload")
            upload = tmp_path / "posts.jsonl"
            upload.write_text("\n".join([json.dumps({"id": "w1", "text": CARDS + " fresh dumps"}), "{oops"]),
                              encoding="utf-8")
            page.fill("input[name=source]", "web-posts")
            page.set_input_files("input[name=file]", str(upload))
            page.click("#upload-form button[type=submit]")
            expect(page.locator("#report")).to_be_visible(timeout=30_000)
            expect(page.locator("#count-ingested")).to_have_text("1")
            expect(page.locator("#count-skipped")).to_have_text("1")
            assert page.url.endswith("/watch/upload")
            page.screenshot(path=str(shots / "watch_upload_ar.png"), full_page=True)

            # a crawl of a (local) site from the web: progress, then the report in place
            page.goto(base + "/watch/crawl")
            page.fill("textarea[name=seeds]", site[0] + "/")
            page.fill("input[name=source]", "market-site")
            page.fill("input[name=delay]", "0")
            page.fill("input[name=timeout]", "1")
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_crawl_form_ar.png"), full_page=True)
            page.click("#crawl-form button[type=submit]")
            expect(page.locator("#report")).to_be_visible(timeout=60_000)
            assert int(page.locator("#count-fetched").inner_text()) >= 8
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_crawl_ar.png"), full_page=True)

            # the alert queue
            page.goto(base + "/watch/alerts")
            assert page.locator(".alert-card").count() >= 2
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_alerts_ar.png"), full_page=True)

            # a partner's STIX bundle imported from the indicators tab, the report and the table in place
            bundle = tmp_path / "partner-bundle.json"
            bundle.write_bytes(_partner_bundle())
            page.goto(base + "/watch/indicators")
            page.set_input_files("input[name=file]", str(bundle))
            page.click("form[action='/watch/indicators'] button[type=submit]")
            expect(page.locator("#import-report")).to_be_visible()
            expect(page.locator("#indicators tbody tr")).to_have_count(2)
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_indicators_ar.png"), full_page=True)

            # in French, a bad case number on escalation: the rule is shown by the field, nothing changes
            page.click(".langs a[hreflang=fr]")
            page.goto(base + f"/watch/items/{watch_server['item']}")
            assert page.get_attribute("html", "dir") == "ltr"
            page.fill("input[name=case_id]", "abc")
            page.click("button[value=escalated]")
            expect(page.locator(".triage-form .alert-error")).to_contain_text("case_id · integer")
            expect(page.locator("#alert .wst-open")).to_have_count(1)
            no_overflow(page)
            page.screenshot(path=str(shots / "watch_item_error_fr.png"), full_page=True)
        finally:
            browser.close()
    assert hosts <= {"127.0.0.1", "localhost"}, hosts
    # the refused escalation answers 422 on purpose; the browser logs every 4xx page as a console error
    assert [x for x in problems if "status of 422" not in x] == [], problems
