"""REST API of the cyber and open-source watch: ingest an uploaded collection, crawl sites (a
background job), classify a text,
list and read items (with highlights and record hits), alert triage, watchlist terms, dashboard
figures, STIX/MISP export and STIX import. Thin: parse, call ``services.watch``, render."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from amane.api import jobs
from amane.api.deps import current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.errors import FieldError, ValidationFailed
from amane.services.watch import classification_payload

router = APIRouter(prefix="/api/v1/watch", tags=["watch"])
Svc = Depends(services_dep)
Who = Depends(current_actor)
#: Upload suffixes kept for the reader's format detection.
SUFFIXES = (".json", ".jsonl", ".ndjson", ".html", ".htm", ".txt", ".pdf", ".xml", ".rss", ".atom", ".zip")


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=200_000)
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)


@router.post("/classify")
def classify_text(body: TextIn, actor: Actor = Who) -> dict[str, Any]:
    """Language, categories with scores and evidence spans, and selectors of one text (nothing stored)."""
    actor.require("watch.read")
    return classification_payload(body.text, body.threshold)


@router.post("/ingest", status_code=201)
async def ingest(file: UploadFile = File(description="A Telegram Desktop export (result.json), a JSON Lines "
                                                     "file, an HTML/text/PDF page or a saved RSS/Atom feed"),
                 source: str = Form(max_length=120), format: str = Form(default="auto"),  # noqa: A002
                 unit: str | None = Form(default=None), svc: Services = Svc,
                 actor: Actor = Who) -> dict[str, Any]:
    """Ingest one uploaded collection; the answer counts what was ingested, duplicated, alerted and
    skipped (with the reason for each skipped part)."""
    actor.require("watch.ingest")
    name = os.path.basename(file.filename or "upload")
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in SUFFIXES else ""
    folder = tempfile.mkdtemp(prefix="amane-watch-")
    try:
        path = Path(folder) / (("result" if name == "result.json" else "upload") + suffix)
        with open(path, "wb") as f:
            shutil.copyfileobj(file.file, f, 1024 * 1024)
        report = await run_in_threadpool(_ingest, svc, actor, path, source, format, unit)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _ingest(svc: Services, actor: Actor, path: Path, source: str, fmt: str, unit: str | None) -> dict[str, Any]:
    from amane.watch.sources import FORMATS, read_path

    if fmt not in FORMATS:
        raise ValidationFailed([FieldError("format", "enum", f"one of {', '.join(FORMATS)}")])
    kind = fmt if fmt in ("telegram", "jsonl", "rss", "html", "text", "pdf") else "folder"
    return svc.watch.ingest(actor, read_path(path, source, fmt), source=source, kind=kind, unit=unit).as_dict()


class CrawlIn(BaseModel):
    seeds: list[str] = Field(min_length=1, max_length=50, description="http(s) addresses to start from")
    source: str = Field(min_length=1, max_length=120)
    unit: str | None = Field(default=None, max_length=32, description="unit responsible for a new source")
    max_pages: int = 200
    max_depth: int = 2
    delay: float = 1.0
    timeout: float = 15.0
    robots: bool = True


def _crawl_status(job: Any) -> dict[str, Any]:
    return {"id": job.id, "source": job.label, "finished": job.finished, "stage": job.stage, "done": job.done,
            "total": job.total, "elapsed_s": round(job.elapsed, 1), "result": job.result,
            "error": job.error or None}


@router.post("/crawls", status_code=202)
def start_crawl(body: CrawlIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Collect pages from the seeds (and the pages they link to on the same sites, within the limits)
    in the background; bad input is refused before anything is fetched. Follow the job at
    ``GET /api/v1/watch/crawls/{id}``: pages fetched, then the ingest report. The proxy is the
    server's ``AMANE_WATCH_PROXY`` setting."""
    actor.require("watch.ingest")
    seeds = svc.watch.check_crawl(body.seeds, max_pages=body.max_pages, max_depth=body.max_depth,
                                  delay=body.delay, timeout=body.timeout)

    def work(progress: jobs.Progress) -> dict[str, Any]:
        report = svc.watch.crawl(actor, seeds, source=body.source, unit=body.unit, max_pages=body.max_pages,
                                 max_depth=body.max_depth, delay=body.delay, timeout=body.timeout,
                                 robots=body.robots, progress=lambda done, total: progress("crawl", done, total))
        return report.as_dict()

    job = jobs.start("crawl", actor.username, work, label=body.source, directory=jobs.folder(svc))
    return _crawl_status(job)


@router.get("/crawls/{job_id}")
def crawl_status(job_id: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """A crawl you started: progress, then its ingest report (or the error). Anyone else's is 404."""
    actor.require("watch.ingest")
    return _crawl_status(jobs.get("crawl", actor.username, job_id, directory=jobs.folder(svc)))


@router.get("/sources")
def sources(svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"sources": svc.watch.sources(actor)}


@router.get("/items")
def items(category: str | None = None, source: str | None = None, status: str | None = None,
          language: str | None = None, since: str | None = None, q: str | None = Query(default=None, max_length=200),
          page: int = Query(default=1, ge=1), per_page: int = Query(default=50, ge=1, le=200),
          svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    rows, total = svc.watch.items(actor, category=category, source=source, status=status, language=language,
                                  since=since, q=q, page=page, per_page=per_page)
    return {"items": rows, "total": total, "page": page, "per_page": per_page}


@router.get("/items/{iid}")
def item(iid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """One item: text, category scores and evidence spans, watchlist hits, selectors, the records
    that hold them (within your need-to-know), its alert."""
    return svc.watch.item(actor, iid)


@router.get("/alerts")
def alerts(status: str = "open", category: str | None = None, page: int = Query(default=1, ge=1),
           per_page: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
           actor: Actor = Who) -> dict[str, Any]:
    rows, total = svc.watch.alerts(actor, status=None if status == "all" else status, category=category,
                                   page=page, per_page=per_page)
    return {"alerts": rows, "total": total, "page": page, "per_page": per_page}


class TriageIn(BaseModel):
    verdict: str = Field(max_length=16, description="relevant, not_relevant or escalated")
    labels: list[str] | None = Field(default=None, description="Categories you confirm (classifier feedback)")
    note: str = Field(default="", max_length=2000)
    case_id: int | None = None


@router.post("/alerts/{alert_id}/triage")
def triage(alert_id: int, body: TriageIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.watch.triage(actor, alert_id, body.verdict, labels=body.labels, note=body.note, case_id=body.case_id)


@router.get("/terms")
def terms(svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"terms": svc.watch.terms(actor)}


class TermIn(BaseModel):
    kind: str = Field(max_length=16, description="keyword, phrase, regex or name")
    pattern: str = Field(max_length=500)
    category: str | None = Field(default=None, max_length=32)
    label: str = Field(default="", max_length=200)
    unit: str | None = Field(default=None, max_length=32)


@router.post("/terms", status_code=201)
def add_term(body: TermIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.watch.add_term(actor, body.kind, body.pattern, category=body.category, label=body.label,
                              unit=body.unit)


@router.delete("/terms/{term_id}", status_code=204)
def remove_term(term_id: int, svc: Services = Svc, actor: Actor = Who) -> None:
    svc.watch.remove_term(actor, term_id)


@router.get("/dashboard")
def dashboard(days: int = Query(default=30, ge=1, le=366), svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.watch.dashboard(actor, days=days)


@router.get("/export")
def export(since: str | None = None, tlp: str = "amber", format: str = "stix",  # noqa: A002
           items: str | None = Query(default=None, description="Comma-separated item ids"),
           svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """STIX 2.1 bundle (TLP 2.0 markings) or MISP event of the items triaged relevant or escalated
    (or of the given items)."""
    ids = None
    if items:
        try:
            ids = [int(x) for x in items.split(",") if x.strip()]
        except ValueError:
            raise ValidationFailed([FieldError("items", "integer.list", "comma-separated item ids")]) from None
    return svc.watch.export(actor, since=since, tlp=tlp, fmt=format, item_ids=ids)


@router.post("/import", status_code=201)
async def import_bundle(file: UploadFile = File(description="A STIX 2.1 bundle (JSON)"),
                        source_name: str = Form(default="", max_length=200), svc: Services = Svc,
                        actor: Actor = Who) -> dict[str, Any]:
    data = await file.read()
    return await run_in_threadpool(svc.watch.import_stix, actor, data, source_name=source_name or "partner")


@router.get("/indicators")
def indicators(svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"indicators": svc.watch.indicators(actor)}
