"""The collector: fetch web or onion pages from seed addresses an analyst gives, follow their links
within limits, and hand the pages to the watch pipeline as ``RawDoc`` (or ``Skip`` with a reason).

It is separate from the pipeline on purpose: the pipeline never reaches out; this module does,
only when an analyst runs it (``amane watch crawl``, audited with its seeds and limits), only
from the seeds and the hosts they name, and through a proxy when one is configured (Tor's SOCKS
port for ``.onion`` sites: ``socks5h://127.0.0.1:9050``, names resolved by the proxy so that no
DNS request leaves for an onion name). It is a focused crawler, not a search engine:

- breadth first from the seeds, ``max_depth`` links away, at most ``max_pages`` fetched;
- links followed only to the seeds' own hosts (plus ``extra_hosts``), http and https only;
- pages read up to ``max_bytes``; HTML, plain text and PDF kept (through the same readers as a
  folder drop: boilerplate removed, encodings such as Windows-1256 detected); other types skipped;
- ``robots.txt`` honoured on the clear web unless told not to (onion sites: not fetched, the
  services watched rarely publish one and a law-enforcement collection is not bound by it;
  the option says so);
- a pause between two requests to the same host (``delay``), a timeout per request, and
  every failure reported as a ``Skip`` with a stable reason (``crawl.timeout``,
  ``crawl.unreachable``, ``crawl.http``, ``crawl.type``, ``crawl.robots``, ``crawl.onion_needs_proxy``,
  ``crawl.offsite`` for a redirect out of the crawl, ``too_large``), never an exception: the rest of
  the crawl goes on.

Each page's ``external_id`` is its address plus a hash of its text, so crawling the same site
again adds only the pages whose text changed (the pipeline links them as near-duplicates).
Written here because the crawlers on PyPI (Scrapy and the like) bring their own event loop,
storage and scheduling, of which a focused, bounded fetch needs none; fetching is ``httpx``,
link extraction ``selectolax`` (both already used by the project).
"""

from __future__ import annotations

import collections
import hashlib
import time
import urllib.robotparser
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from .sources import RawDoc, Skip, read_html, read_pdf, read_text

USER_AGENT = "amane-watch/1 (law-enforcement collector)"
#: Media types read, and the reader for each.
_READERS = {
    "text/html": read_html,
    "application/xhtml+xml": read_html,
    "text/plain": read_text,
    "application/pdf": read_pdf,
}


@dataclass
class CrawlLimits:
    max_pages: int = 200
    max_depth: int = 2
    max_bytes: int = 5_000_000
    timeout: float = 15.0
    #: Seconds between two requests to the same host.
    delay: float = 1.0
    robots: bool = True
    extra_hosts: Sequence[str] = ()


@dataclass
class CrawlStats:
    fetched: int = 0
    kept: int = 0
    skipped: int = 0
    queued: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def normalise_url(url: str) -> str | None:
    """The address without its fragment, scheme and host lower-cased; None if not http(s)."""
    url, _ = urldefrag(url.strip())
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    path = parts.path or "/"
    return f"{parts.scheme.lower()}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def _links(html: str, base: str) -> list[str]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    if base_node is not None and base_node.attributes.get("href"):
        base = urljoin(base, base_node.attributes["href"] or "")
    out: list[str] = []
    for a in tree.css("a[href], area[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("mailto:", "javascript:", "tel:", "data:")):
            continue
        url = normalise_url(urljoin(base, href))
        if url:
            out.append(url)
    return out


def _is_onion(host: str) -> bool:
    return host.endswith(".onion")


class Crawler:
    """One crawl. ``client`` is an ``httpx.Client`` (made from ``proxy`` when not given)."""

    def __init__(self, seeds: Sequence[str], source: str, *, limits: CrawlLimits | None = None,
                 proxy: str | None = None, client: object | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        import httpx

        self.source = source
        self.limits = limits or CrawlLimits()
        self.proxy = proxy or None
        self.progress = progress
        self.stats = CrawlStats()
        self.seeds = [u for u in (normalise_url(s) for s in seeds) if u]
        self.hosts = {urlsplit(u).hostname or "" for u in self.seeds} | {h.lower() for h in self.limits.extra_hosts}
        self._client = client or httpx.Client(
            proxy=self.proxy, timeout=httpx.Timeout(self.limits.timeout), follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html, application/xhtml+xml, text/plain, "
                                                          "application/pdf;q=0.8, */*;q=0.1"},
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._last: dict[str, float] = {}

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if close:
            close()

    # -- one request --------------------------------------------------------------------------

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None and self.limits.delay > 0:
            pause = self.limits.delay - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)
        self._last[host] = time.monotonic()

    def _get(self, url: str) -> tuple[int, str, bytes, str | None] | Skip:
        """(status, media type, body, redirect target) or a Skip."""
        import httpx

        host = urlsplit(url).hostname or ""
        self._wait_turn(host)
        deadline = time.monotonic() + self.limits.timeout
        try:
            with self._client.stream("GET", url) as resp:  # type: ignore[attr-defined]
                status = resp.status_code
                location = resp.headers.get("location") if 300 <= status < 400 else None
                media = (resp.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
                if status >= 400 or location is not None:
                    return status, media, b"", location
                if media and media not in _READERS:
                    return Skip(url, "crawl.type", f"{media} is not read (HTML, text and PDF are)")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes(65536):
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        return Skip(url, "too_large", f"page over {self.limits.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        return Skip(url, "crawl.timeout", f"page not received within {self.limits.timeout:g} s")
                    chunks.append(chunk)
                return status, media, b"".join(chunks), None
        except httpx.TimeoutException:
            return Skip(url, "crawl.timeout", f"no answer within {self.limits.timeout:g} s")
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return Skip(url, "crawl.unreachable", f"{type(exc).__name__}: {exc}"[:300])

    def _allowed_by_robots(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not self.limits.robots or _is_onion(host):
            return True
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._robots:
            parser: urllib.robotparser.RobotFileParser | None = None
            got = self._get(key + "/robots.txt")
            if not isinstance(got, Skip):
                status, _media, body, _loc = got
                if status < 400:
                    parser = urllib.robotparser.RobotFileParser()
                    parser.parse(body.decode("utf-8", "replace").splitlines())
            self._robots[key] = parser  # no robots.txt (or unreachable): everything allowed
        parser = self._robots[key]
        return parser is None or parser.can_fetch(USER_AGENT, url)

    # -- the crawl ----------------------------------------------------------------------------

    def _skip(self, skip: Skip) -> Skip:
        self.stats.skipped += 1
        self.stats.by_reason[skip.reason] = self.stats.by_reason.get(skip.reason, 0) + 1
        return skip

    def __iter__(self) -> Iterator[RawDoc | Skip]:
        queue: collections.deque[tuple[str, int]] = collections.deque((u, 0) for u in self.seeds)
        seen = set(self.seeds)
        self.stats.queued = len(queue)
        try:
            while queue and self.stats.fetched < self.limits.max_pages:
                url, depth = queue.popleft()
                host = urlsplit(url).hostname or ""
                if _is_onion(host) and not self.proxy:
                    yield self._skip(Skip(url, "crawl.onion_needs_proxy",
                                          "an onion address is fetched only through a proxy (AMANE_WATCH_PROXY)"))
                    continue
                if not self._allowed_by_robots(url):
                    yield self._skip(Skip(url, "crawl.robots", "refused by the site's robots.txt"))
                    continue
                got = self._get(url)
                self.stats.fetched += 1
                if self.progress:
                    self.progress(self.stats.fetched, min(self.limits.max_pages, self.stats.fetched + len(queue)))
                if isinstance(got, Skip):
                    yield self._skip(got)
                    continue
                status, media, body, location = got
                if location is not None:  # a redirect is a link like any other
                    target = normalise_url(urljoin(url, location))
                    if target is None or (urlsplit(target).hostname or "") not in self.hosts:
                        yield self._skip(Skip(url, "crawl.offsite", f"redirected outside the crawl: {target}"))
                    elif target not in seen:
                        seen.add(target)
                        queue.appendleft((target, depth))
                    continue
                if status >= 400:
                    yield self._skip(Skip(url, "crawl.http", f"HTTP {status}"))
                    continue
                reader = _READERS.get(media) or (read_html if body.lstrip()[:1] == b"<" else read_text)
                for item in reader(body, url, self.source):
                    if isinstance(item, Skip):
                        yield self._skip(item)
                        continue
                    digest = hashlib.sha256(item.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
                    item.external_id = f"{url}#{digest}"
                    item.url = url
                    item.meta = {**item.meta, "crawl_depth": depth, "onion": _is_onion(host),
                                 "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                    self.stats.kept += 1
                    yield item
                if reader is read_html and depth < self.limits.max_depth:
                    for link in _links(body.decode("utf-8", "replace"), url):
                        if link not in seen and (urlsplit(link).hostname or "") in self.hosts:
                            seen.add(link)
                            queue.append((link, depth + 1))
                            self.stats.queued += 1
        finally:
            self.close()
