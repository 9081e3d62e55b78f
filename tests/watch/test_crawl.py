"""The watch's collector against a real HTTP site on 127.0.0.1: breadth-first within depth and page
limits, only the seeds' hosts, robots.txt, redirects, failures reported with their reason (404,
timeout, a type not read, an onion address without a proxy, an unreachable proxy), pages in
Windows-1256; then through the service (ingested, idempotent, a changed page added, audited, bad
input named) and the CLI."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from amane.services.errors import ValidationFailed
from amane.watch.crawl import Crawler, CrawlLimits, normalise_url
from amane.watch.sources import RawDoc, Skip
from tests.cli.test_cli import amane

DRUGS_AR = "شي حشيش زوين من كتامة، الكيلو ب 3000 درهم، التوصيل فكازا. واتساب 0661234567"


class Site:
    """Pages by path; ``hits`` counts the requests each path received."""

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.pages: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}

    def page(self, path: str, body: str | bytes, *, status: int = 200, media: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = (status, media, data, headers or {})


def _html(title: str, text: str, links: list[str] = ()) -> str:  # type: ignore[assignment]
    anchors = "".join(f'<li><a href="{h}">lien {i}</a></li>' for i, h in enumerate(links))
    return (f"<html><head><title>{title}</title></head><body><nav><ul>{anchors}</ul></nav>"
            f"<article><p>{text}</p></article></body></html>")


@pytest.fixture
def site() -> Iterator[tuple[str, Site]]:
    content = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path
            content.hits[path] += 1
            if path == "/slow.html":
                time.sleep(2.5)
            status, media, data, headers = content.pages.get(path, (404, "text/html", b"<p>not found</p>", {}))
            try:
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    content.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", media="text/plain")
    content.page("/", _html("Marché", "Vente de chira et de cocaïne, livraison à Casablanca, contact Telegram.", [
        "/a.html", "/a.html#prix", "/notes.txt", "/photo.png", "/missing.html", "/slow.html", "/moved",
        "/away", "/deep1.html", "/private/secret.html", "/ar.html", "http://example.org/elsewhere",
        "mailto:x@example.org", "javascript:void(0)"]))
    content.page("/a.html", _html("Prix", "Hachich premium 100g 3000dh, paiement en bitcoin, livraison rapide."))
    content.page("/notes.txt", "Passage vers l'Espagne en zodiac, départ de Tanger, 2000 euros par personne.",
                 media="text/plain; charset=utf-8")
    content.page("/photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, media="image/png")
    content.page("/moved", b"", status=302, media="text/html", headers={"Location": "/a.html"})
    content.page("/away", b"", status=302, media="text/html", headers={"Location": "http://example.org/"})
    content.page("/deep1.html", _html("D1", "Armes à vendre, pistolet 9mm sans papiers.", ["/deep2.html"]))
    content.page("/deep2.html", _html("D2", "Kalachnikov et munitions, livraison discrète.", ["/deep3.html"]))
    content.page("/deep3.html", _html("D3", "Trop loin du point de départ."))
    content.page("/private/secret.html", _html("S", "Ne pas collecter."))
    content.page("/ar.html", _html("عرض", DRUGS_AR).encode("cp1256"), media="text/html")
    content.page("/slow.html", _html("Lent", "Cette page arrive trop tard."))
    try:
        yield base, content
    finally:
        server.shutdown()
        server.server_close()


LIMITS = CrawlLimits(max_pages=50, max_depth=2, delay=0.0, timeout=1.0)


def _run(seeds: list[str], limits: CrawlLimits = LIMITS, **kw: Any) -> tuple[list[RawDoc], list[Skip], Crawler]:
    crawler = Crawler(seeds, "market", limits=limits, **kw)
    items = list(crawler)
    return [i for i in items if isinstance(i, RawDoc)], [i for i in items if isinstance(i, Skip)], crawler


def test_normalise_url() -> None:
    assert normalise_url("HTTP://Example.ORG:8080/a?b=1#frag") == "http://example.org:8080/a?b=1"
    assert normalise_url("https://x.onion") == "https://x.onion/"
    assert normalise_url("ftp://x/y") is None and normalise_url("/relative") is None


def test_crawl_follows_links_within_limits(site: tuple[str, Site]) -> None:
    base, content = site
    docs, skips, crawler = _run([base + "/"])
    by_url = {d.url: d for d in docs}
    assert set(by_url) == {base + p for p in ("/", "/a.html", "/notes.txt", "/deep1.html", "/deep2.html", "/ar.html")}
    assert "chira" in by_url[base + "/"].text and "lien 0" not in by_url[base + "/"].text  # menu removed
    assert DRUGS_AR in by_url[base + "/ar.html"].text  # Windows-1256 page decoded
    assert by_url[base + "/deep2.html"].meta["crawl_depth"] == 2
    reasons = {s.location.removeprefix(base): s.reason for s in skips}
    assert reasons == {"/photo.png": "crawl.type", "/missing.html": "crawl.http", "/slow.html": "crawl.timeout",
                       "/away": "crawl.offsite", "/private/secret.html": "crawl.robots"}
    # nothing outside the limits was requested; a page linked twice (and through a redirect) once
    assert content.hits["/deep3.html"] == 0 and content.hits["/private/secret.html"] == 0
    assert content.hits["/a.html"] == 1 and content.hits["/robots.txt"] == 1
    assert crawler.stats.kept == 6 and crawler.stats.by_reason["crawl.timeout"] == 1
    # ids: address + text hash, stable from one crawl to the next
    again, _, _ = _run([base + "/"])
    assert {d.external_id for d in again} == {d.external_id for d in docs}
    assert all(d.external_id.startswith(d.url + "#") for d in docs)


def test_page_limit_depth_zero_and_robots_off(site: tuple[str, Site]) -> None:
    base, content = site
    docs, _, crawler = _run([base + "/"], CrawlLimits(max_pages=3, max_depth=2, delay=0.0, timeout=1.0))
    assert crawler.stats.fetched == 3 and len(docs) <= 3
    docs, _, _ = _run([base + "/a.html"], CrawlLimits(max_depth=0, delay=0.0, timeout=1.0))
    assert [d.url for d in docs] == [base + "/a.html"]
    docs, skips, _ = _run([base + "/private/secret.html"], CrawlLimits(robots=False, delay=0.0, timeout=1.0))
    assert [d.url for d in docs] == [base + "/private/secret.html"] and not skips


def test_delay_between_requests_to_one_host(site: tuple[str, Site]) -> None:
    base, _ = site
    t0 = time.monotonic()
    docs, _, crawler = _run([base + "/a.html", base + "/notes.txt"],
                            CrawlLimits(max_depth=0, delay=0.4, timeout=1.0, robots=False))
    assert len(docs) == 2 and time.monotonic() - t0 >= 0.4


def test_onion_without_proxy_and_unreachable_proxy(site: tuple[str, Site]) -> None:
    onion = "http://expyuzz4wqqyqhjn2abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq.onion/"
    docs, skips, _ = _run([onion])
    assert docs == [] and [s.reason for s in skips] == ["crawl.onion_needs_proxy"]
    base, _ = site
    docs, skips, _ = _run([base + "/a.html"], proxy="socks5h://127.0.0.1:1")  # nothing listens there
    assert docs == [] and [s.reason for s in skips] == ["crawl.unreachable"]


def test_crawl_through_the_service(world: Any, site: tuple[str, Site]) -> None:
    base, content = site
    svc = world.svc
    analyst = world.actor("REGA", "analyst")
    first = svc.watch.crawl(analyst, [base + "/"], source="market-site", delay=0, timeout=1).as_dict()
    assert first["fetched"] >= 11 and first["ingested"] + first["near_duplicates"] + first["duplicates"] == 6
    assert {s["reason"] for s in first["skipped"]} >= {"crawl.http", "crawl.timeout", "crawl.robots"}
    assert first["alerts"] >= 1
    # the same site again: nothing new; a page whose text changed: one new item
    again = svc.watch.crawl(analyst, [base + "/"], source="market-site", delay=0, timeout=1).as_dict()
    assert again["ingested"] == 0 and again["already"] == 6
    content.page("/a.html", _html("Prix", "Hachich premium 100g 2500dh (promo), paiement en bitcoin."))
    third = svc.watch.crawl(analyst, [base + "/"], source="market-site", delay=0, timeout=1).as_dict()
    assert third["ingested"] + third["near_duplicates"] == 1 and third["already"] == 5
    items, total = svc.watch.items(analyst, source="market-site")
    assert total == 7 and any(i["url"] == base + "/ar.html" for i in items)
    # audited with its seeds, before the first request
    from amane.services.audit_log import AuditQuery
    from amane.services.context import Actor

    rows, _ = svc.audit_log.search(Actor.system(), AuditQuery(action="watch.crawl"))
    assert len(rows) == 3 and rows[0]["details"]["seeds"] == [base + "/"]
    # bad input is named and nothing is fetched
    before = sum(content.hits.values())
    with pytest.raises(ValidationFailed) as exc:
        svc.watch.crawl(analyst, ["ftp://files.example.org/x", base + "/"], source="market-site", max_pages=0)
    assert {(e.field, e.rule) for e in exc.value.errors} == {("seeds", "url.format"), ("max_pages", "range")}
    assert sum(content.hits.values()) == before
    # an officer may not collect
    from amane.services.errors import Forbidden

    with pytest.raises(Forbidden):
        svc.watch.crawl(world.actor("REGA", "officer"), [base + "/"], source="market-site")


@pytest.fixture
def sqlite_cli_db(tmp_path: Any) -> str:
    """A migrated SQLite database with the test units (the CLI is a thin layer over the service, which
    the test above runs on both databases)."""
    import yaml

    from tests.conftest import TEST_UNITS

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    amane(["db", "upgrade"], url)
    units = tmp_path / "units.yaml"
    units.write_text(yaml.safe_dump(TEST_UNITS, allow_unicode=True), encoding="utf-8")
    amane(["units", "seed", "--path", str(units)], url)
    return url


def test_cli_crawl(site: tuple[str, Site], sqlite_cli_db: str) -> None:
    cli_db = sqlite_cli_db
    base, _ = site
    data = json.loads(amane(["watch", "crawl", base + "/", "--source", "site-cli", "--unit", "REGA", "--delay", "0",
                             "--timeout", "1", "--depth", "1", "--json"], cli_db).stdout)
    assert data["fetched"] >= 10 and data["ingested"] >= 4 and {"alerts", "skipped"} <= set(data)
    bad = amane(["watch", "crawl", "not-an-address", "--source", "site-cli"], cli_db, check=False)
    assert bad.returncode == 2 and "seeds" in bad.stderr

