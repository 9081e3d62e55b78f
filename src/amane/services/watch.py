"""Cyber and open-source watch: collected content stored, triaged, matched and exchanged.

The engine (``amane.watch``: readers, pipeline, classifier, watchlists, exchange) is pure; this
service gives it a home in the records store:

- **Sources** are named collections; a source belongs to a unit (the ingesting user's, by
  default), and its items are in that unit's scope (``policy.visible_watch_items``).
- **Ingest** (:meth:`WatchService.ingest`) reads documents, runs each through the pipeline and
  writes it with its selectors and marks, in batches: a batch is committed whole, so a crash loses
  at most the batch in progress and re-running the same ingest continues (an item is keyed by
  source + external id; seen again, it is counted as ``already`` and left alone). A text seen
  before in the unit's content (same normalised text) is stored as a ``duplicate`` of the first
  item and raises no alert; a near-duplicate (MinHash above the threshold) is linked to it.
- **Alerts**: an item raises one alert (for its source's unit) when a category scores at or above
  :data:`ALERT_SCORE`, a watchlist term of the unit or a unit above it matches, or a selector in
  it is already known: held by a record the ingesting analyst may see, or received from a partner
  as an indicator. The unit's triage analysts get one inbox message per ingest, not one per alert.
- **Triage**: relevant / not relevant / escalated (optionally onto a case file the analyst may
  see), with the categories the analyst confirms; those labels are the classifier's feedback
  (:meth:`WatchService.feedback`, used by ``amane watch evaluate``).
- **Exchange**: export as STIX 2.1 with TLP 2.0 markings or MISP JSON; import STIX indicators once
  per STIX id.

Every read, list, export and import is audited; items and alerts outside the actor's scope answer
like missing ones."""

from __future__ import annotations

import builtins
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import FieldError, NotFound, ValidationFailed
from amane.services.notifications import notify
from amane.services.policy import unit_in_scope, visible_cases, visible_watch_alerts, visible_watch_items
from amane.services.procedures import StateMachine
from amane.services.roles import capabilities_of
from amane.services.selectors import OwnerUnit, SelectorMatcher
from amane.store.db import Database
from amane.store.tables import (
    Case,
    Unit,
    User,
    UserRole,
    WatchAlert,
    WatchIndicator,
    WatchItem,
    WatchSelector,
    WatchSource,
    WatchTerm,
)
from amane.store.types import utcnow

#: A category at or above this score raises an alert.
ALERT_SCORE = 0.7
#: Documents written per transaction during an ingest.
BATCH = 200
#: Near-duplicates are looked for among this many of the unit's most recent items.
NEAR_WINDOW = 50_000
#: MinHash similarity from which a post is a near-duplicate: on short posts 0.7 kept precision at
#: 0.998 with recall 0.96 on edited copies, where 0.8 missed one edited word in seven
#: (``bench/watch_dedup.py``).
NEAR_THRESHOLD = 0.7
SOURCE_KINDS = ("folder", "telegram", "jsonl", "rss", "html", "text", "pdf", "stix", "manual", "crawl")
VERDICTS = ("relevant", "not_relevant", "escalated")
ALERTS = StateMachine("watch alert", {
    "open": VERDICTS,
    "relevant": ("escalated", "not_relevant"),
    "not_relevant": ("relevant",),
    "escalated": (),
})
MAX_TEXT = 200_000
SELECTOR_KINDS_EXPORTED = ("email", "phone", "url", "domain", "onion", "ipv4", "ipv6", "card", "ccn", "iban", "btc",
                           "bitcoin", "bech32", "eth", "ethereum", "wallet")


# -- results -----------------------------------------------------------------------------------

@dataclass
class IngestReport:
    source: str
    ingested: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    already: int = 0
    alerts: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: What a collector adds (pages fetched, kept, queued by a crawl).
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ingested": self.ingested, "duplicates": self.duplicates,
                "near_duplicates": self.near_duplicates, "already": self.already, "alerts": self.alerts,
                "skipped": self.skipped, "categories": dict(self.categories), "seconds": round(self.seconds, 3),
                "docs_per_s": round(self.ingested / self.seconds, 1) if self.seconds else None} | self.extra


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _item_summary(it: WatchItem, source: str, unit: str) -> dict[str, Any]:
    return {"id": it.id, "source": source, "unit": unit, "external_id": it.external_id, "media_type": it.media_type,
            "url": it.url, "author": it.author, "title": it.title, "published": _iso(it.published),
            "collected_at": _iso(it.collected_at), "language": it.language, "script": it.script,
            "top_category": it.top_category, "top_score": round(it.top_score, 3), "status": it.status,
            "duplicate_of": it.duplicate_of, "near_duplicate_of": it.near_duplicate_of,
            "snippet": it.text[:280]}


#: Bands of an alert's score by its strongest rule, so that the triage queue shows first what the
#: records already know (a known selector), then watchlist hits, then category scores alone; within
#: a band the best category score orders.
RULE_BANDS = {"known_selector": (0.9, 1.0), "watchlist": (0.8, 0.9), "category": (0.0, 0.8)}


def alert_score(reasons: Sequence[dict[str, Any]]) -> float:
    """0..1 for the triage queue: the band of the strongest rule met, and within it the best
    category score of the post."""
    best = max((float(r.get("score", 0.0)) for r in reasons if r["rule"] == "category"), default=0.0)
    low, high = max((RULE_BANDS.get(r["rule"], (0.0, 0.8)) for r in reasons), key=lambda b: b[0])
    return round(low + (high - low) * best, 4)


def classification_payload(text: str, threshold: float = 0.5) -> dict[str, Any]:
    """Language, categories with scores and evidence spans, every score, and the selectors of one
    text, JSON-ready (``amane watch classify`` and ``POST /api/v1/watch/classify``); nothing stored."""
    from amane.watch.classify import classify
    from amane.watch.selectors import extract_selectors

    c = classify(text, threshold=threshold)
    return {
        "language": {"language": c.language.language, "script": c.language.script,
                     "confidence": round(c.language.confidence, 3)},
        "categories": [{"category": x.category, "score": round(x.score, 3),
                        "evidence": [{"start": e.start, "end": e.end, "term": e.term} for e in x.evidence]}
                       for x in c.categories],
        "scores": {k: round(v, 3) for k, v in c.scores.items()},
        "selectors": [{"kind": s.kind, "value": s.value, "start": s.start, "end": s.end}
                      for s in extract_selectors(text)],
    }


def _in_scope(actor: Actor, unit: Unit | None) -> bool:
    return unit is not None and unit_in_scope(actor, unit)


def parse_since(value: str | date | datetime | None, name: str = "since") -> datetime | None:
    """``2026-11-01`` or an ISO date-time -> aware UTC datetime; a clear field error otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        d = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed([FieldError(name, "date.format", f"'{value}' is not a date (YYYY-MM-DD)")]) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


class WatchService:
    def __init__(self, db: Database, writer: AuditWriter, matcher: SelectorMatcher, *, proxy: str = "") -> None:
        self.db = db
        self.writer = writer
        self.matcher = matcher
        #: The collector's proxy (setting ``watch_proxy``), used by :meth:`crawl`.
        self.proxy = proxy

    # -- sources ---------------------------------------------------------------------------------

    def _unit(self, s: Session, actor: Actor, code: str | None) -> Unit:
        if not code and not actor.unit_id:
            raise ValidationFailed([FieldError("unit", "property.required",
                                               "name the unit responsible for the source (--unit CODE)")])
        if not code:
            unit = s.get(Unit, actor.unit_id)
        else:
            unit = s.scalar(select(Unit).where(Unit.code == code))
        if unit is None or not unit_in_scope(actor, unit):
            raise ValidationFailed([FieldError("unit", "unit.unknown", f"no unit '{code or ''}' in your scope")])
        return unit

    def source(self, s: Session, actor: Actor, name: str, *, kind: str = "folder", unit: str | None = None,
               classification: int = 1) -> WatchSource:
        """The source called ``name`` (created in the actor's unit, or ``unit``, on first use)."""
        name = (name or "").strip()
        errors = []
        if not name:
            errors.append(FieldError("source", "property.required", "name the source (--source NAME)"))
        elif len(name) > 120:
            errors.append(FieldError("source", "string.too_long", "at most 120 characters"))
        if kind not in SOURCE_KINDS:
            errors.append(FieldError("kind", "enum", f"one of {', '.join(SOURCE_KINDS)}"))
        if errors:
            raise ValidationFailed(errors)
        src = s.scalar(select(WatchSource).where(WatchSource.name == name))
        if src is not None:
            owner = s.get(Unit, src.unit_id)
            if owner is None or not unit_in_scope(actor, owner):
                # a source of another unit: same answer as a name clash, nothing about its content
                raise ValidationFailed([FieldError("source", "source.taken",
                                                   f"the source name '{name}' is used by another unit")])
            return src
        owner = self._unit(s, actor, unit)
        src = WatchSource(name=name, kind=kind, unit_id=owner.id, classification=classification,
                          created_by=actor.user_id)
        s.add(src)
        s.flush()
        return src

    def sources(self, actor: Actor) -> list[dict[str, Any]]:
        actor.require("watch.read")
        with self.db.read() as s:
            rows = s.execute(select(WatchSource, Unit.code, func.count(WatchItem.id))
                             .join(Unit, Unit.id == WatchSource.unit_id)
                             .outerjoin(WatchItem, WatchItem.source_id == WatchSource.id)
                             .group_by(WatchSource.id, Unit.code).order_by(WatchSource.name)).all()
            out = [{"id": src.id, "name": src.name, "kind": src.kind, "unit": code, "items": n,
                    "created_at": _iso(src.created_at)}
                   for src, code, n in rows if actor.national or _in_scope(actor, s.get(Unit, src.unit_id))]
        return out

    # -- feeds -----------------------------------------------------------------------------------

    def add_feed(self, actor: Actor, name: str, url: str, *, unit: str | None = None) -> dict[str, Any]:
        """Configure an RSS/Atom feed: only configured addresses are ever fetched."""
        actor.require("watch.manage")
        url = (url or "").strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > 500 or " " in url:
            raise ValidationFailed([FieldError("url", "url.format", "an http(s) address of at most 500 characters")])
        with self.db.write() as s:
            src = self.source(s, actor, name, kind="rss", unit=unit)
            if src.kind != "rss":
                raise ValidationFailed([FieldError("source", "source.kind",
                                                   f"the source '{name}' is a {src.kind} source, not a feed")])
            src.url = url
            out = {"id": src.id, "name": src.name, "url": url}
        self.writer.record(actor, AuditEvent("watch.feed.add", "WatchSource", str(out["id"]), details={"url": url}))
        return out

    def fetch_feeds(self, actor: Actor, *, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
        """Fetch every configured feed in the actor's scope and ingest its entries (for cron: ``amane
        watch feeds fetch``). A feed that times out or fails is reported, the others go on."""
        from amane.watch.sources import read_feed

        actor.require("watch.ingest")
        with self.db.read() as s:
            feeds = [(src.name, src.url, s.get(Unit, src.unit_id)) for src in s.scalars(
                select(WatchSource).where(WatchSource.kind == "rss", WatchSource.url.is_not(None))
                .order_by(WatchSource.name))]
        allowed = {url for _n, url, _u in feeds if url}
        out: dict[str, dict[str, Any]] = {}
        for name, url, unit in feeds:
            if url is None or not _in_scope(actor, unit):
                continue
            out[name] = self.ingest(actor, read_feed(url, name, allowed=allowed, timeout=timeout), source=name,
                                    kind="rss").as_dict()
        return out

    @staticmethod
    def check_crawl(seeds: Sequence[str], *, max_pages: int = 200, max_depth: int = 2, delay: float = 1.0,
                    timeout: float = 15.0) -> list[str]:
        """The seeds normalised, or ValidationFailed naming each field out of its rule (nothing is
        fetched or written either way)."""
        from amane.watch.crawl import normalise_url

        errors: list[FieldError] = []
        cleaned = [normalise_url(u) for u in seeds]
        if not seeds or len(seeds) > 50:
            errors.append(FieldError("seeds", "seeds.count", "give 1 to 50 addresses to start from"))
        bad = [u for u, c in zip(seeds, cleaned, strict=True) if c is None or len(u) > 500]
        if bad:
            errors.append(FieldError("seeds", "url.format", f"not an http(s) address: {bad[0][:100]}"))
        for name, value, low, high in (("max_pages", max_pages, 1, 10_000), ("max_depth", max_depth, 0, 10),
                                       ("delay", delay, 0, 60), ("timeout", timeout, 1, 300)):
            if not low <= value <= high:
                errors.append(FieldError(name, "range", f"between {low} and {high}"))
        if errors:
            raise ValidationFailed(errors)
        return [c for c in cleaned if c]

    def crawl(self, actor: Actor, seeds: Sequence[str], *, source: str, unit: str | None = None,
              max_pages: int = 200, max_depth: int = 2, delay: float = 1.0, timeout: float = 15.0,
              robots: bool = True, proxy: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Collect pages from ``seeds`` (and the pages they link to on the same hosts, within the
        limits) and ingest them (``amane.watch.crawl``). Audited with the seeds and limits before the
        first request; the proxy is the setting ``watch_proxy`` unless given."""
        from amane.watch.crawl import Crawler, CrawlLimits

        actor.require("watch.ingest")
        seeds = self.check_crawl(seeds, max_pages=max_pages, max_depth=max_depth, delay=delay, timeout=timeout)
        proxy = proxy if proxy is not None else (self.proxy or None)
        limits = CrawlLimits(max_pages=max_pages, max_depth=max_depth, delay=delay, timeout=timeout, robots=robots)
        self.writer.record(actor, AuditEvent("watch.crawl", "WatchSource", source, details={
            "seeds": list(seeds), "max_pages": max_pages, "max_depth": max_depth,
            "robots": robots, "proxy": bool(proxy)}))
        crawler = Crawler(list(seeds), source, limits=limits, proxy=proxy, progress=progress)
        report = self.ingest(actor, crawler, source=source, kind="crawl", unit=unit)
        report.extra = {"fetched": crawler.stats.fetched, "kept": crawler.stats.kept,
                        "queued": crawler.stats.queued}
        return report

    # -- ingest ----------------------------------------------------------------------------------

    def _terms(self, s: Session, unit: Unit) -> list[Any]:
        from amane.watch.watchlist import Term

        # the unit's own terms and those of every unit above it (paths are prefixes of its path)
        rows = s.scalars(select(WatchTerm).where(WatchTerm.active.is_(True))).all()
        paths = {u.id: u.path for u in s.scalars(select(Unit).where(Unit.id.in_({r.unit_id for r in rows})))}
        return [Term(str(r.id), r.kind, r.pattern, r.category, r.label) for r in rows
                if unit.path.startswith(paths.get(r.unit_id, "\0"))]

    def _index(self, s: Session, unit_id: int) -> Any:
        from amane.watch.dedup import NearDuplicateIndex

        index = NearDuplicateIndex(threshold=NEAR_THRESHOLD)
        rows = s.execute(select(WatchItem.id, WatchItem.signature)
                         .where(WatchItem.unit_id == unit_id, WatchItem.signature.is_not(None),
                                WatchItem.duplicate_of.is_(None))
                         .order_by(WatchItem.id.desc()).limit(NEAR_WINDOW)).all()
        for iid, sig in rows:
            if sig is not None:
                index.add(str(iid), bytes(sig))
        return index

    def ingest_path(self, actor: Actor, path: Path, *, source: str, fmt: str = "auto",
                    progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Read ``path`` (a file or a folder) with the watch readers and ingest what they give."""
        from amane.watch.sources import FORMATS, read_path

        actor.require("watch.ingest")
        if fmt not in FORMATS:
            raise ValidationFailed([FieldError("format", "enum", f"one of {', '.join(FORMATS)}")])
        if not Path(path).exists():
            raise ValidationFailed([FieldError("path", "path.missing", f"{path} does not exist")])
        kind = fmt if fmt in ("telegram", "jsonl", "rss", "html", "text", "pdf") else "folder"
        return self.ingest(actor, read_path(Path(path), source, fmt, progress=progress), source=source, kind=kind)

    def ingest(self, actor: Actor, docs: Iterable[Any], *, source: str, kind: str = "folder",
               unit: str | None = None) -> IngestReport:
        """Process and store ``docs`` (``RawDoc`` or ``Skip`` from the readers) in batches."""
        from amane.watch.pipeline import Pipeline
        from amane.watch.sources import Skip
        from amane.watch.watchlist import Watchlist

        actor.require("watch.ingest")
        started = time.perf_counter()
        report = IngestReport(source)
        with self.db.write() as s:
            src = self.source(s, actor, source, kind=kind, unit=unit)
            src_id, unit_id, classification = src.id, src.unit_id, src.classification
            owner = s.get(Unit, unit_id)
            assert owner is not None
            terms = self._terms(s, owner)
            index = self._index(s, unit_id)
        pipeline = Pipeline(watchlist=Watchlist(terms) if terms else None, index=index)
        alerted: list[int] = []
        batch: list[Any] = []
        keymap: dict[str, int] = {}

        pending: list[Any] = []

        def flush() -> None:
            if not pending:
                return
            # documents already stored (a re-run ingest) are counted, not processed again
            with self.db.read() as s:
                have = set(s.scalars(select(WatchItem.external_id).where(
                    WatchItem.source_id == src_id,
                    WatchItem.external_id.in_([d.external_id[:300] for d in pending]))))
            fresh = []
            for d in pending:
                if d.external_id[:300] in have:
                    report.already += 1
                else:
                    have.add(d.external_id[:300])
                    fresh.append(d)
            pending.clear()
            try:
                batch.extend(pipeline.process_batch(fresh))
            except Exception:  # noqa: BLE001 - find the bad document: one by one, the rest goes on
                for d in fresh:
                    try:
                        batch.append(pipeline.process(d))
                    except Exception as exc:  # noqa: BLE001 - one bad document never stops the batch
                        report.skipped.append({"location": d.location, "reason": "pipeline.error",
                                               "message": f"{type(exc).__name__}: {exc}"[:300]})
            if batch:
                alerted.extend(self._write_batch(actor, batch, src_id, unit_id, classification, index, report,
                                                 keymap))
                batch.clear()

        for doc in docs:
            if isinstance(doc, Skip):
                report.skipped.append({"location": doc.location, "reason": doc.reason, "message": doc.message})
                continue
            if not doc.text or not doc.text.strip():
                report.skipped.append({"location": doc.location, "reason": "empty", "message": "no text"})
                continue
            if len(doc.text) > MAX_TEXT:
                doc.text = doc.text[:MAX_TEXT]
            pending.append(doc)
            if len(pending) >= BATCH:
                flush()
        flush()
        report.seconds = time.perf_counter() - started
        if alerted:
            self._notify_unit(unit_id, source, len(alerted))
        self.writer.record(actor, AuditEvent("watch.ingest", "WatchSource", str(src_id), details={
            k: v for k, v in report.as_dict().items() if k not in ("skipped",)} | {"skipped": len(report.skipped)}))
        return report

    def _write_batch(self, actor: Actor, batch: list[Any], src_id: int, unit_id: int, classification: int,
                     index: Any, report: IngestReport, keymap: dict[str, int]) -> list[int]:
        """One transaction: the batch's new items, their selectors and alerts."""
        alerted: list[int] = []
        with self.db.write() as s:
            ext_ids = [p.doc.external_id[:300] for p in batch]
            existing = set(s.scalars(select(WatchItem.external_id).where(
                WatchItem.source_id == src_id, WatchItem.external_id.in_(ext_ids))))
            hashes = {p.content_hash for p in batch}
            first_of: dict[str, int] = dict(s.execute(
                select(WatchItem.content_hash, func.min(WatchItem.id))
                .where(WatchItem.unit_id == unit_id, WatchItem.content_hash.in_(hashes))
                .group_by(WatchItem.content_hash)).all())
            all_selectors = {(sel.kind, sel.value) for p in batch for sel in p.selectors}
            known = self.matcher.known(s, actor, all_selectors) if all_selectors else set()
            if all_selectors:
                known |= {(k, v) for k, v in s.execute(
                    select(WatchIndicator.kind, WatchIndicator.value)
                    .where(tuple_(WatchIndicator.kind, WatchIndicator.value).in_(list(all_selectors)))).all()}
            for p in batch:
                ext = p.doc.external_id[:300]
                if ext in existing:
                    report.already += 1
                    continue
                existing.add(ext)
                dup = first_of.get(p.content_hash)
                near = None
                if dup is None and p.near_duplicate_of:
                    # the index holds stored items by id and this ingest's documents by pipeline key
                    k = p.near_duplicate_of
                    near = int(k) if k.isdigit() else keymap.get(k)
                cls = p.classification
                scores = dict(cls.scores) if cls is not None else {}
                top = cls.categories[0] if cls is not None and cls.categories else None
                evidence = {c.category: [[e.start, e.end, e.term] for e in c.evidence]
                            for c in (cls.categories if cls is not None else ())}
                hits = [{"term": h.term_id, "start": h.start, "end": h.end, "matched": h.matched} for h in p.hits]
                item = WatchItem(
                    source_id=src_id, unit_id=unit_id, external_id=ext, location=p.doc.location[:500],
                    media_type=p.doc.media_type[:16], url=(p.doc.url or None) and p.doc.url[:1000],
                    author=(p.doc.author or None) and p.doc.author[:300],
                    title=(p.doc.title or None) and p.doc.title[:500], text=p.text or p.doc.text,
                    published=p.doc.published, collected_at=utcnow(), content_hash=p.content_hash,
                    signature=p.signature, duplicate_of=dup, near_duplicate_of=near,
                    language=p.language.language, script=p.language.script, scores=scores,
                    top_category=top.category if top else None, top_score=top.score if top else 0.0,
                    marks={"evidence": evidence, "hits": hits}, classification=classification, status="new")
                s.add(item)
                s.flush()
                keymap[p.key] = item.id
                for sel in p.selectors:
                    s.add(WatchSelector(item_id=item.id, kind=sel.kind[:16], value=sel.value[:300],
                                        start=sel.start, end=sel.end))
                if dup is not None:
                    report.duplicates += 1
                    continue
                first_of[p.content_hash] = item.id
                if near is not None:
                    report.near_duplicates += 1
                elif p.signature:
                    index.add(str(item.id), p.signature)
                report.ingested += 1
                if top:
                    report.categories[top.category] += 1
                reasons: list[dict[str, Any]] = []
                for c in (cls.categories if cls is not None else ()):
                    if c.score >= ALERT_SCORE:
                        reasons.append({"rule": "category", "category": c.category, "score": round(c.score, 3)})
                for term_id in dict.fromkeys(h.term_id for h in p.hits):
                    reasons.append({"rule": "watchlist", "term": term_id})
                for k, v in dict.fromkeys((sel.kind, sel.value) for sel in p.selectors):
                    if (k, v) in known:
                        reasons.append({"rule": "known_selector", "kind": k, "value": v})
                if reasons:
                    score = alert_score(reasons)
                    alert = WatchAlert(item_id=item.id, unit_id=unit_id, reasons=reasons, score=score,
                                       classification=classification, status="open")
                    s.add(alert)
                    s.flush()
                    alerted.append(alert.id)
                    report.alerts += 1
        return alerted

    def _notify_unit(self, unit_id: int, source: str, n: int) -> None:
        """One inbox message per ingest to the unit's users who triage watch alerts."""
        with self.db.write() as s:
            users = s.execute(select(User.id, UserRole.role).join(UserRole, UserRole.user_id == User.id)
                              .where(User.unit_id == unit_id, User.active.is_(True))).all()
            roles: dict[int, set[str]] = {}
            for uid, role in users:
                roles.setdefault(uid, set()).add(role)
            for uid, rs in roles.items():
                if "watch.triage" in capabilities_of(rs):
                    notify(s, uid, "watch.alerts", {"count": n, "source": source}, link="/watch/alerts")

    # -- items -----------------------------------------------------------------------------------

    def _item(self, s: Session, actor: Actor, iid: int) -> WatchItem:
        item = s.scalar(select(WatchItem).where(WatchItem.id == iid, visible_watch_items(actor)))
        if item is None:
            raise NotFound("watch item", str(iid))
        return item

    def items(self, actor: Actor, *, category: str | None = None, source: str | None = None,
              status: str | None = None, language: str | None = None, since: str | datetime | None = None,
              q: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
        actor.require("watch.read")
        since_dt = parse_since(since)
        conds: list[Any] = [visible_watch_items(actor)]
        if category == "none":
            conds.append(WatchItem.top_category.is_(None))
        elif category:
            conds.append(WatchItem.top_category == category)
        if status:
            conds.append(WatchItem.status == status)
        if language:
            conds.append(WatchItem.language == language)
        if since_dt:
            conds.append(WatchItem.collected_at >= since_dt)
        if q:
            conds.append(WatchItem.text.contains(q.strip()[:200], autoescape=True))
        per_page = max(1, min(per_page, 500))
        with self.db.read() as s:
            if source:
                conds.append(WatchItem.source_id.in_(select(WatchSource.id).where(WatchSource.name == source)))
            total = s.scalar(select(func.count()).select_from(WatchItem).where(*conds)) or 0
            rows = s.execute(select(WatchItem, WatchSource.name, OwnerUnit.code)
                             .join(WatchSource, WatchSource.id == WatchItem.source_id)
                             .join(OwnerUnit, OwnerUnit.id == WatchSource.unit_id)
                             .where(*conds).order_by(WatchItem.id.desc())
                             .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
            out = [_item_summary(it, name, code) for it, name, code in rows]
        self.writer.record(actor, AuditEvent("list", "WatchItem", "", details={
            "category": category, "source": source, "status": status, "q": q, "ids": [o["id"] for o in out]}))
        return out, int(total)

    def item(self, actor: Actor, iid: int) -> dict[str, Any]:
        """An item with its text, highlights (category evidence, watchlist hits, selectors), its
        alert and the records that hold its selectors (within the actor's need-to-know)."""
        actor.require("watch.read")
        with self.db.read() as s:
            it = self._item(s, actor, iid)
            src = s.get(WatchSource, it.source_id)
            unit = s.get(Unit, it.unit_id)
            data = _item_summary(it, src.name if src else "", unit.code if unit else "")
            data["text"] = it.text
            ranked = sorted((it.scores or {}).items(), key=lambda kv: -kv[1])
            data["scores"] = {k: round(float(v), 3) for k, v in ranked}
            data["marks"] = it.marks
            data["labels"] = it.labels
            data["location"] = it.location
            data["case_id"] = it.case_id
            sels = s.scalars(select(WatchSelector).where(WatchSelector.item_id == it.id)
                             .order_by(WatchSelector.start)).all()
            data["selectors"] = [{"kind": x.kind, "value": x.value, "start": x.start, "end": x.end} for x in sels]
            term_ids = {int(h["term"]) for h in (it.marks or {}).get("hits", []) if str(h.get("term", "")).isdigit()}
            terms = ({t.id: t for t in s.scalars(select(WatchTerm).where(WatchTerm.id.in_(term_ids)))}
                     if term_ids else {})
            data["terms"] = {str(t.id): {"kind": t.kind, "pattern": t.pattern, "label": t.label,
                                         "category": t.category} for t in terms.values()}
            alert = s.scalar(select(WatchAlert).where(WatchAlert.item_id == it.id, visible_watch_alerts(actor)))
            data["alert"] = self._alert_dict(s, alert) if alert else None
            indicators = s.execute(select(WatchIndicator).where(tuple_(WatchIndicator.kind, WatchIndicator.value).in_(
                [(x.kind, x.value) for x in sels]))).scalars().all() if sels else []
            data["indicators"] = [{"kind": i.kind, "value": i.value, "source": i.source_name, "tlp": i.tlp,
                                   "labels": i.labels} for i in indicators]
            selector_pairs = [(x.kind, x.value) for x in sels]
            if it.duplicate_of or it.near_duplicate_of:
                first = it.duplicate_of or it.near_duplicate_of
                data["first_seen"] = first if s.scalar(select(WatchItem.id).where(
                    WatchItem.id == first, visible_watch_items(actor))) else None
        self.writer.record(actor, AuditEvent("read", "WatchItem", str(iid)))
        data["record_hits"] = [h.as_dict() for h in self.matcher.match(actor, selector_pairs, context="WatchItem",
                                                                        context_id=str(iid))]
        return data

    # -- alerts and triage -----------------------------------------------------------------------

    def _alert_dict(self, s: Session, a: WatchAlert) -> dict[str, Any]:
        names = {}
        if a.triaged_by:
            names = {a.triaged_by: s.scalar(select(User.username).where(User.id == a.triaged_by))}
        return {"id": a.id, "item_id": a.item_id, "reasons": a.reasons, "score": round(a.score, 3),
                "status": a.status, "created_at": _iso(a.created_at), "note": a.note,
                "triaged_by": names.get(a.triaged_by) if a.triaged_by else None, "triaged_at": _iso(a.triaged_at),
                "allowed": list(ALERTS.allowed(a.status))}

    def alerts(self, actor: Actor, *, status: str | None = "open", category: str | None = None,
               page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
        actor.require("watch.read")
        conds: list[Any] = [visible_watch_alerts(actor)]
        if status:
            conds.append(WatchAlert.status == status)
        if category:
            conds.append(WatchItem.top_category == category)
        per_page = max(1, min(per_page, 500))
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(WatchAlert)
                             .join(WatchItem, WatchItem.id == WatchAlert.item_id).where(*conds)) or 0
            rows = s.execute(select(WatchAlert, WatchItem, WatchSource.name, OwnerUnit.code)
                             .join(WatchItem, WatchItem.id == WatchAlert.item_id)
                             .join(WatchSource, WatchSource.id == WatchItem.source_id)
                             .join(OwnerUnit, OwnerUnit.id == WatchAlert.unit_id)
                             .where(*conds).order_by(WatchAlert.score.desc(), WatchAlert.id.desc())
                             .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
            out = [self._alert_dict(s, a) | {"item": _item_summary(it, name, code)} for a, it, name, code in rows]
        self.writer.record(actor, AuditEvent("list", "WatchAlert", "", details={
            "status": status, "ids": [o["id"] for o in out]}))
        return out, int(total)

    def triage(self, actor: Actor, alert_id: int, verdict: str, *, labels: Sequence[str] | None = None,
               note: str = "", case_id: int | None = None) -> dict[str, Any]:
        """Record the analyst's verdict (and the categories they confirm: the classifier's feedback)."""
        from amane.watch.classify import CATEGORIES

        actor.require("watch.triage")
        errors = []
        if verdict not in VERDICTS:
            errors.append(FieldError("verdict", "enum", f"one of {', '.join(VERDICTS)}"))
        bad = [x for x in (labels or ()) if x not in CATEGORIES]
        if bad:
            errors.append(FieldError("labels", "enum", f"unknown categories {', '.join(bad)}; "
                                                       f"allowed: {', '.join(CATEGORIES)}"))
        if len(note or "") > 2000:
            errors.append(FieldError("note", "string.too_long", "at most 2000 characters"))
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            a = s.scalar(select(WatchAlert).where(WatchAlert.id == alert_id, visible_watch_alerts(actor))
                         .with_for_update())
            if a is None:
                raise NotFound("watch alert", str(alert_id))
            ALERTS.check(a.status, verdict)
            item = s.get(WatchItem, a.item_id)
            assert item is not None
            if case_id is not None:
                if verdict != "escalated":
                    raise ValidationFailed([FieldError("case_id", "watch.case_needs_escalation",
                                                       "a case is given only when escalating")])
                if s.scalar(select(Case.id).where(Case.id == case_id, visible_cases(actor))) is None:
                    raise NotFound("case", str(case_id))
                item.case_id = case_id
            a.status = verdict
            a.triaged_by = actor.user_id
            a.triaged_at = utcnow()
            a.note = (note or "").strip()
            item.status = verdict
            if labels is not None:
                item.labels = sorted(set(labels))
            elif verdict == "not_relevant":
                item.labels = []
            elif verdict in ("relevant", "escalated") and item.labels is None and item.top_category:
                item.labels = [item.top_category]
            out = self._alert_dict(s, a)
        self.writer.record(actor, AuditEvent("watch.triage", "WatchAlert", str(alert_id), details={
            "verdict": verdict, "labels": list(labels) if labels is not None else None, "case_id": case_id}))
        return out

    def feedback(self, actor: Actor) -> list[tuple[str, frozenset[str]]]:
        """Analyst-confirmed (text, categories) pairs of the items in scope: the classifier's feedback."""
        actor.require("watch.triage")
        with self.db.read() as s:
            rows = s.execute(select(WatchItem.text, WatchItem.labels)
                             .where(visible_watch_items(actor), WatchItem.labels.is_not(None))).all()
        self.writer.record(actor, AuditEvent("watch.feedback", "WatchItem", "", details={"items": len(rows)}))
        return [(t, frozenset(labels or ())) for t, labels in rows]

    # -- watchlists ------------------------------------------------------------------------------

    def add_term(self, actor: Actor, kind: str, pattern: str, *, category: str | None = None, label: str = "",
                 unit: str | None = None) -> dict[str, Any]:
        from amane.watch.classify import CATEGORIES
        from amane.watch.watchlist import TERM_KINDS, validate_term

        actor.require("watch.manage")
        errors = []
        if kind not in TERM_KINDS:
            errors.append(FieldError("kind", "enum", f"one of {', '.join(TERM_KINDS)}"))
        else:
            try:
                validate_term(kind, pattern)
            except ValueError as exc:
                errors.append(FieldError("pattern", "watch.term", str(exc)))
        if category and category not in CATEGORIES:
            errors.append(FieldError("category", "enum", f"one of {', '.join(CATEGORIES)}"))
        if len(label or "") > 200:
            errors.append(FieldError("label", "string.too_long", "at most 200 characters"))
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            owner = self._unit(s, actor, unit)
            t = WatchTerm(unit_id=owner.id, kind=kind, pattern=pattern.strip(), category=category or None,
                          label=(label or "").strip(), created_by=actor.user_id)
            s.add(t)
            s.flush()
            out = self._term_dict(t, owner.code)
        self.writer.record(actor, AuditEvent("watch.term.add", "WatchTerm", str(out["id"]), details={
            "kind": kind, "pattern": pattern}))
        return out

    @staticmethod
    def _term_dict(t: WatchTerm, unit: str) -> dict[str, Any]:
        return {"id": t.id, "unit": unit, "kind": t.kind, "pattern": t.pattern, "category": t.category,
                "label": t.label, "active": t.active, "created_at": _iso(t.created_at)}

    def terms(self, actor: Actor) -> list[dict[str, Any]]:
        """The watchlist terms that apply to the actor's unit (its own and those of units above it),
        and, for national roles or managers, those of the units below."""
        actor.require("watch.read")
        with self.db.read() as s:
            rows = s.execute(select(WatchTerm, Unit).join(Unit, Unit.id == WatchTerm.unit_id)
                             .where(WatchTerm.active.is_(True)).order_by(WatchTerm.id)).all()
            out = [self._term_dict(t, u.code) for t, u in rows
                   if actor.national or u.path.startswith(actor.unit_path) or actor.unit_path.startswith(u.path)]
        self.writer.record(actor, AuditEvent("list", "WatchTerm", "", details={"n": len(out)}))
        return out

    def remove_term(self, actor: Actor, term_id: int) -> None:
        actor.require("watch.manage")
        with self.db.write() as s:
            t = s.get(WatchTerm, term_id)
            unit = s.get(Unit, t.unit_id) if t is not None else None
            if t is None or unit is None or not t.active or not unit_in_scope(actor, unit):
                raise NotFound("watch term", str(term_id))
            t.active = False
        self.writer.record(actor, AuditEvent("watch.term.remove", "WatchTerm", str(term_id)))

    # -- dashboard -------------------------------------------------------------------------------

    def dashboard(self, actor: Actor, *, days: int = 30, today: date | None = None) -> dict[str, Any]:
        """Volume by category and by source per day over the last ``days`` days, open alerts."""
        actor.require("watch.read")
        days = max(1, min(days, 366))
        end = today or utcnow().date()
        start = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(days=days - 1)
        visible = visible_watch_items(actor)
        with self.db.read() as s:
            # a post counts on the day it was published (collected, when the source gives no date)
            when = func.coalesce(WatchItem.published, WatchItem.collected_at)
            rows = s.execute(select(when, WatchItem.top_category, WatchSource.name, WatchItem.language)
                             .join(WatchSource, WatchSource.id == WatchItem.source_id)
                             .where(visible, when >= start, WatchItem.duplicate_of.is_(None))).all()
            open_alerts = s.scalar(select(func.count()).select_from(WatchAlert)
                                   .where(visible_watch_alerts(actor), WatchAlert.status == "open")) or 0
        dates = [(start + timedelta(days=i)).date().isoformat() for i in range(days)]
        by_cat: dict[str, list[int]] = {}
        by_src: dict[str, list[int]] = {}
        langs: Counter[str] = Counter()
        pos = {d: i for i, d in enumerate(dates)}
        for at, cat, src, lang in rows:
            i = pos.get(at.date().isoformat())
            if i is None:
                continue
            by_cat.setdefault(cat or "none", [0] * days)[i] += 1
            by_src.setdefault(src, [0] * days)[i] += 1
            langs[lang] += 1
        self.writer.record(actor, AuditEvent("watch.dashboard", "WatchItem", "", details={"days": days}))
        return {"dates": dates, "by_category": by_cat, "by_source": by_src, "languages": dict(langs),
                "total": len(rows), "open_alerts": int(open_alerts)}

    # -- exchange --------------------------------------------------------------------------------

    def _export_items(self, actor: Actor, *, since: datetime | None, item_ids: Sequence[int] | None,
                      statuses: Sequence[str]) -> list[Any]:
        from amane.watch.exchange import ExportItem, ExportSelector

        conds: list[Any] = [visible_watch_items(actor), WatchItem.duplicate_of.is_(None)]
        if item_ids:
            conds.append(WatchItem.id.in_(list(item_ids)))
        else:
            conds.append(WatchItem.status.in_(list(statuses)))
        if since:
            conds.append(WatchItem.collected_at >= since)
        out = []
        with self.db.read() as s:
            rows = s.execute(select(WatchItem, WatchSource.name)
                             .join(WatchSource, WatchSource.id == WatchItem.source_id)
                             .where(*conds).order_by(WatchItem.id)).all()
            if item_ids and len(rows) != len(set(item_ids)):
                missing = sorted(set(item_ids) - {it.id for it, _ in rows})
                raise NotFound("watch item", ",".join(map(str, missing)))
            sel_rows = s.execute(select(WatchSelector.item_id, WatchSelector.kind, WatchSelector.value)
                                 .where(WatchSelector.item_id.in_([it.id for it, _ in rows]))).all() if rows else []
        per_item: dict[int, Counter[tuple[str, str]]] = {}
        for iid, kind, value in sel_rows:
            if kind in SELECTOR_KINDS_EXPORTED:
                per_item.setdefault(iid, Counter())[(kind, value)] += 1
        for it, src in rows:
            seen = it.published or it.collected_at
            cats = tuple(it.labels) if it.labels is not None else ((it.top_category,) if it.top_category else ())
            sels = tuple(ExportSelector(k, v, seen, seen, n) for (k, v), n in sorted(per_item.get(it.id, {}).items()))
            out.append(ExportItem(f"amane-watch-{it.id}", src, it.url, it.published, it.title, it.text, cats,
                                  it.language, sels))
        return out

    def export(self, actor: Actor, *, since: str | datetime | None = None, tlp: str = "amber", fmt: str = "stix",
               item_ids: Sequence[int] | None = None,
               statuses: Sequence[str] = ("relevant", "escalated")) -> dict[str, Any]:
        """The selected items (by id, or those triaged relevant/escalated since a date) as a STIX 2.1
        bundle or a MISP event, every object marked with the TLP level."""
        from amane.watch.exchange import TLP_LEVELS, to_misp_event, to_stix_bundle

        actor.require("watch.export")
        errors = []
        if tlp not in TLP_LEVELS:
            errors.append(FieldError("tlp", "enum", f"one of {', '.join(TLP_LEVELS)}"))
        if fmt not in ("stix", "misp"):
            errors.append(FieldError("format", "enum", "one of stix, misp"))
        if errors:
            raise ValidationFailed(errors)
        since_dt = parse_since(since)
        items = self._export_items(actor, since=since_dt, item_ids=item_ids, statuses=statuses)
        with self.db.read() as s:
            unit = s.get(Unit, actor.unit_id) if actor.unit_id else None
            producer = unit.name_en if unit is not None and unit.name_en else (actor.unit_code or "Amane")
        if fmt == "stix":
            data = to_stix_bundle(items, tlp=tlp, identity_name=producer)
        else:
            data = to_misp_event(items, tlp=tlp, info=f"Amane watch export ({producer})")
        self.writer.record(actor, AuditEvent("export", "WatchItem", "", details={
            "format": fmt, "tlp": tlp, "since": _iso(since_dt), "items": [i.id for i in items]}))
        return data

    def import_stix(self, actor: Actor, data: bytes | str, *, source_name: str = "",
                    unit: str | None = None) -> dict[str, Any]:
        """Store a partner's indicators once per STIX id (re-importing changes nothing)."""
        from amane.watch.exchange import parse_stix_bundle

        actor.require("watch.export")
        try:
            parsed = parse_stix_bundle(data)
        except ValueError as exc:
            raise ValidationFailed([FieldError("bundle", "stix.invalid", str(exc))]) from None
        added = 0
        with self.db.write() as s:
            owner = self._unit(s, actor, unit)
            # a partner's indicator may OR several values under one STIX id: the key is the triple
            ids = list({i.stix_id for i in parsed.indicators})
            rows = s.execute(select(WatchIndicator.stix_id, WatchIndicator.kind, WatchIndicator.value)
                             .where(WatchIndicator.stix_id.in_(ids))).all() if ids else []
            have = {(a, b, c) for a, b, c in rows}
            for ind in parsed.indicators:
                key = (ind.stix_id[:100], ind.kind[:16], ind.value[:300])
                if key in have:
                    continue
                have.add(key)
                s.add(WatchIndicator(stix_id=ind.stix_id[:100], unit_id=owner.id, kind=ind.kind[:16],
                                     value=ind.value[:300], tlp=ind.tlp, labels=list(ind.labels),
                                     description=ind.description[:5000],
                                     source_name=(source_name or ind.source_name)[:200], created=ind.created,
                                     imported_by=actor.user_id))
                added += 1
        out = {"indicators": len(parsed.indicators), "added": added, "already": len(parsed.indicators) - added,
               "skipped": [{"object": o, "reason": r} for o, r in parsed.skipped]}
        self.writer.record(actor, AuditEvent("import", "WatchIndicator", "", details={
            k: v for k, v in out.items() if k != "skipped"} | {"skipped": len(parsed.skipped)}))
        return out

    def indicators(self, actor: Actor) -> builtins.list[dict[str, Any]]:
        actor.require("watch.read")
        with self.db.read() as s:
            rows = s.scalars(select(WatchIndicator).order_by(WatchIndicator.id.desc()).limit(1000)).all()
            out = [{"id": r.id, "stix_id": r.stix_id, "kind": r.kind, "value": r.value, "tlp": r.tlp,
                    "labels": r.labels, "source": r.source_name, "imported_at": _iso(r.imported_at)} for r in rows]
        self.writer.record(actor, AuditEvent("list", "WatchIndicator", "", details={"n": len(out)}))
        return out

