"""REST API for procedures: complaints (with the public filing and tracking endpoints), incident
reports, case files, and the inbox. Thin: parse, call a service, render."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from amane.api.deps import client_address, current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.errors import NotFound, RateLimited

router = APIRouter(prefix="/api/v1")
Svc = Depends(services_dep)
Who = Depends(current_actor)


class RateLimiter:
    """Sliding-window limit per client address for the public endpoints (in-process: each worker
    keeps its own window, so the effective limit is per worker)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                raise RateLimited(int(self.window_s - (now - q[0])) + 1)
            q.append(now)
            if len(self._hits) > 10000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window_s]:
                    del self._hits[k]


public_limit = RateLimiter(10, 3600.0)
track_limit = RateLimiter(30, 600.0)


# -- complaints ------------------------------------------------------------------------------

class ComplaintIn(BaseModel):
    data: dict[str, Any]
    unit: str | None = Field(default=None, max_length=32)


class PublicComplaintIn(BaseModel):
    data: dict[str, Any]
    unit: str = Field(max_length=32, description="Code of the station the complaint is addressed to")


class TrackIn(BaseModel):
    tracking_number: str = Field(max_length=32)
    secret_code: str = Field(max_length=32)


@router.post("/public/complaints", status_code=201, tags=["public"])
def public_file_complaint(body: PublicComplaintIn, request: Request, svc: Services = Svc) -> dict[str, Any]:
    """A citizen files a complaint (no account). Keep the tracking number and the secret code:
    they are shown once. Limited to 10 a hour per address."""
    ip = client_address(request)
    public_limit.check(ip)
    return svc.complaints.file_online(body.data, unit=body.unit, source=ip).as_dict()


@router.post("/public/complaints/status", tags=["public"])
def public_track(body: TrackIn, request: Request, svc: Services = Svc) -> dict[str, Any]:
    """The status of a complaint. A wrong code answers like an unknown number (404)."""
    ip = client_address(request)
    track_limit.check(ip)
    return svc.complaints.track(body.tracking_number, body.secret_code, source=ip).as_dict()


@router.post("/complaints", status_code=201, tags=["complaints"])
def take_complaint(body: ComplaintIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Register a complaint at the station; give the receipt (number and code) to the complainant."""
    receipt = svc.complaints.take(actor, body.data, unit=body.unit)
    return {**receipt.as_dict(), "id": receipt.complaint_id}


@router.get("/complaints", tags=["complaints"])
def list_complaints(status: str | None = None, page: int = Query(default=1, ge=1),
                    per_page: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
                    actor: Actor = Who) -> dict[str, Any]:
    items, total = svc.complaints.list(actor, status=status, page=page, per_page=per_page)
    return {"items": [c.as_dict() for c in items], "total": total, "page": page, "per_page": per_page}


@router.get("/complaints/{cid}", tags=["complaints"])
def get_complaint(cid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.complaints.get(actor, cid).as_dict()


class ComplaintDecisionIn(BaseModel):
    decision: str = Field(pattern="^(accept|redirect|close)$")
    reason: str = Field(default="", max_length=1000)
    unit: str | None = Field(default=None, max_length=32, description="Target unit of a redirect")
    incident_id: str | None = Field(default=None, max_length=32, description="Join this incident on accept")
    version: int | None = None


@router.post("/complaints/{cid}/decision", tags=["complaints"])
def decide_complaint(cid: int, body: ComplaintDecisionIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Accept (the facts become or join an incident), redirect to another unit, or close."""
    if body.decision == "accept":
        view = svc.complaints.accept(actor, cid, incident_id=body.incident_id, version=body.version)
    elif body.decision == "redirect":
        view = svc.complaints.redirect(actor, cid, unit=body.unit or "", reason=body.reason, version=body.version)
    else:
        view = svc.complaints.close(actor, cid, reason=body.reason, version=body.version)
    return view.as_dict()


# -- reports ---------------------------------------------------------------------------------

class ReportIn(BaseModel):
    content: dict[str, Any]
    incident_id: str | None = Field(default=None, max_length=32)
    complaint_id: int | None = None
    unit: str | None = Field(default=None, max_length=32)


class ReportEditIn(BaseModel):
    content: dict[str, Any]
    version: int
    reason: str = Field(default="", max_length=1000)


class ReportActionIn(BaseModel):
    action: str = Field(pattern="^(submit|approve|return)$")
    version: int
    reason: str = Field(default="", max_length=1000)


@router.post("/reports", status_code=201, tags=["reports"])
def create_report(body: ReportIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.reports.create(actor, body.content, incident_id=body.incident_id, complaint_id=body.complaint_id,
                              unit=body.unit).as_dict()


@router.get("/reports", tags=["reports"])
def list_reports(state: str | None = None, mine: bool = False, page: int = Query(default=1, ge=1),
                 per_page: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
                 actor: Actor = Who) -> dict[str, Any]:
    items, total = svc.reports.list(actor, state=state, mine=mine, page=page, per_page=per_page)
    return {"items": [r.as_dict() for r in items], "total": total, "page": page, "per_page": per_page}


@router.get("/reports/{rid}", tags=["reports"])
def get_report(rid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.reports.get(actor, rid).as_dict()


@router.get("/reports/{rid}/versions", tags=["reports"])
def report_versions(rid: int, svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [v.as_dict() for v in svc.reports.versions(actor, rid)]


@router.put("/reports/{rid}", tags=["reports"])
def edit_report(rid: int, body: ReportEditIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Edit a draft or returned report; an approved one takes a correction with a reason."""
    current = svc.reports.get(actor, rid)
    if current.state == "approved":
        return svc.reports.correct(actor, rid, body.content, reason=body.reason, version=body.version).as_dict()
    return svc.reports.update(actor, rid, body.content, version=body.version).as_dict()


@router.post("/reports/{rid}/actions", tags=["reports"])
def report_action(rid: int, body: ReportActionIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    if body.action == "submit":
        return svc.reports.submit(actor, rid, version=body.version).as_dict()
    if body.action == "approve":
        return svc.reports.approve(actor, rid, version=body.version).as_dict()
    return svc.reports.return_to_author(actor, rid, reason=body.reason, version=body.version).as_dict()


# -- cases -----------------------------------------------------------------------------------

class CaseIn(BaseModel):
    title: str = Field(max_length=300)
    incidents: list[str] = Field(max_length=200)
    lead: str = Field(max_length=64)
    members: list[str] = Field(default_factory=list, max_length=100)
    supervisors: list[str] = Field(default_factory=list, max_length=100)
    summary: str = Field(default="", max_length=20000)
    unit: str | None = Field(default=None, max_length=32)
    classification: str | None = Field(default=None, max_length=16)


class TransitionIn(BaseModel):
    state: str = Field(max_length=24)
    reason: str = Field(default="", max_length=1000)
    version: int | None = None


class MemberIn(BaseModel):
    username: str = Field(max_length=64)
    role: str = Field(default="member", max_length=16)


class TaskIn(BaseModel):
    title: str = Field(max_length=300)
    assignee: str = Field(max_length=64)
    due_date: str | None = Field(default=None, max_length=10)
    details: str = Field(default="", max_length=5000)


class TaskStatusIn(BaseModel):
    status: str = Field(max_length=16)


class NoteIn(BaseModel):
    text: str = Field(max_length=20000)


class IncidentLinkIn(BaseModel):
    incident_id: str = Field(max_length=32)


@router.post("/cases", status_code=201, tags=["cases"])
def open_case(body: CaseIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.open(actor, title=body.title, incidents=body.incidents, lead=body.lead, members=body.members,
                          supervisors=body.supervisors, summary=body.summary, unit=body.unit,
                          classification=body.classification).as_dict()


@router.get("/cases", tags=["cases"])
def list_cases(state: str | None = None, mine: bool = False, page: int = Query(default=1, ge=1),
               per_page: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
               actor: Actor = Who) -> dict[str, Any]:
    items, total = svc.cases.list(actor, state=state, mine=mine, page=page, per_page=per_page)
    return {"items": [c.as_dict() for c in items], "total": total, "page": page, "per_page": per_page}


@router.get("/cases/{cid}", tags=["cases"])
def get_case(cid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.get(actor, cid).as_dict()


@router.post("/cases/{cid}/state", tags=["cases"])
def case_state(cid: int, body: TransitionIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Move the case; an illegal transition is a 409 listing the allowed ones."""
    return svc.cases.transition(actor, cid, body.state, reason=body.reason, version=body.version).as_dict()


@router.post("/cases/{cid}/team", tags=["cases"])
def case_add_member(cid: int, body: MemberIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.add_member(actor, cid, body.username, role=body.role).as_dict()


@router.delete("/cases/{cid}/team/{username}", tags=["cases"])
def case_remove_member(cid: int, username: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.remove_member(actor, cid, username).as_dict()


@router.post("/cases/{cid}/tasks", status_code=201, tags=["cases"])
def case_add_task(cid: int, body: TaskIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.add_task(actor, cid, title=body.title, assignee=body.assignee, due_date=body.due_date,
                              details=body.details).as_dict()


@router.post("/cases/{cid}/tasks/{tid}/status", tags=["cases"])
def case_task_status(cid: int, tid: int, body: TaskStatusIn, svc: Services = Svc,
                     actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.set_task_status(actor, cid, tid, body.status).as_dict()


@router.post("/cases/{cid}/notes", tags=["cases"])
def case_add_note(cid: int, body: NoteIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.add_note(actor, cid, body.text).as_dict()


@router.post("/cases/{cid}/incidents", tags=["cases"])
def case_add_incident(cid: int, body: IncidentLinkIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.cases.add_incident(actor, cid, body.incident_id).as_dict()


@router.get("/incidents/{eid}/case-hint", tags=["cases"])
def case_hint(eid: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Hit/no-hit: the units to contact about case files on this incident that you cannot open."""
    return {"incident": eid, "contact_units": svc.cases.hint(actor, eid)}


# -- inbox -----------------------------------------------------------------------------------

@router.get("/inbox", tags=["inbox"])
def inbox(unread: bool = False, limit: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
          actor: Actor = Who) -> dict[str, Any]:
    items, n_unread = svc.inbox.list(actor, unread_only=unread, limit=limit)
    return {"items": [n.as_dict() for n in items], "unread": n_unread}


class ReadIn(BaseModel):
    ids: list[int] | None = Field(default=None, max_length=1000)


@router.post("/inbox/read", tags=["inbox"])
def inbox_read(body: ReadIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"marked": svc.inbox.mark_read(actor, body.ids)}


@router.put("/entities/{eid}/subscription", status_code=204, tags=["inbox"])
def subscribe(eid: str, svc: Services = Svc, actor: Actor = Who) -> None:
    """Tell me when this record is viewed or changed."""
    svc.inbox.subscribe(actor, eid)


@router.delete("/entities/{eid}/subscription", status_code=204, tags=["inbox"])
def unsubscribe(eid: str, svc: Services = Svc, actor: Actor = Who) -> None:
    svc.inbox.unsubscribe(actor, eid)


# -- attachments and documents ---------------------------------------------------------------

_KINDS = {"complaints": "complaint", "reports": "report", "cases": "case", "evidence": "evidence"}


@router.post("/{kind}/{oid}/attachments", status_code=201, tags=["attachments"])
def upload_attachment(kind: str, oid: int, file: UploadFile, svc: Services = Svc,
                      actor: Actor = Who) -> dict[str, Any]:
    """Attach a file (photo, scan, PDF, audio...). The type is decided by the content; the size
    limit is ``AMANE_ATTACHMENTS_MAX_BYTES``."""
    if kind not in _KINDS:
        raise NotFound("resource", kind)
    return svc.attachments.upload(actor, _KINDS[kind], oid, file.file, filename=file.filename).as_dict()


@router.get("/{kind}/{oid}/attachments", tags=["attachments"])
def list_attachments(kind: str, oid: int, svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    if kind not in _KINDS:
        raise NotFound("resource", kind)
    return [a.as_dict() for a in svc.attachments.list(actor, _KINDS[kind], oid)]


@router.get("/attachments/{aid}", tags=["attachments"])
def download_attachment(aid: int, svc: Services = Svc, actor: Actor = Who) -> StreamingResponse:
    """The file, streamed; its SHA-256 is checked on the way (a damaged file aborts the download)."""
    view, chunks = svc.attachments.download(actor, aid)
    return StreamingResponse(chunks, media_type=view.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}",
        "Content-Length": str(view.size), "X-Content-SHA256": view.sha256,
        "X-Content-Type-Options": "nosniff"})


def _file(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "X-Content-Type-Options": "nosniff"})


@router.get("/reports/{rid}/pdf", tags=["documents"])
def report_pdf(rid: int, lang: str = Query(default="fr", pattern="^(ar|fr|en)$"), svc: Services = Svc,
               actor: Actor = Who) -> Response:
    """The incident report as a PDF in Arabic, French or English."""
    view, pdf = svc.documents.report_pdf(actor, rid, lang=lang)
    return _file(pdf, "application/pdf", f"{view.reference}-{lang}.pdf")


@router.get("/cases/{cid}/pdf", tags=["documents"])
def case_pdf(cid: int, lang: str = Query(default="fr", pattern="^(ar|fr|en)$"), svc: Services = Svc,
             actor: Actor = Who) -> Response:
    view, pdf = svc.documents.case_pdf(actor, cid, lang=lang)
    return _file(pdf, "application/pdf", f"{view.reference}-{lang}.pdf")


@router.get("/cases/{cid}/export", tags=["documents"])
def case_export(cid: int, lang: str = Query(default="fr", pattern="^(ar|fr|en)$"), svc: Services = Svc,
                actor: Actor = Who) -> Response:
    """The case file as a ZIP: its PDF, its reports' PDFs, its attachments and a manifest of hashes."""
    view, data = svc.documents.case_export(actor, cid, lang=lang)
    return _file(data, "application/zip", f"{view.reference}.zip")
