"""REST API of lab requests (submit, read, list, accept with a technician, reject, start,
complete with results and the report file, cancel), lab statistics, and the printable custody
sheet of an evidence item. Thin: parse, call ``services.labs``, render."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from amane.api.deps import current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor

router = APIRouter(prefix="/api/v1", tags=["labs"])
Svc = Depends(services_dep)
Who = Depends(current_actor)


class RequestIn(BaseModel):
    lab: str = Field(max_length=32, description="Code of the laboratory unit (kind lab)")
    exam_type: str = Field(max_length=24, description="dna, fingerprints, ballistics, drugs_toxicology, documents "
                                                      "or digital")
    items: list[int] = Field(max_length=100, description="Ids of the evidence items to examine")
    questions: str = Field(max_length=5000, description="What the lab is asked")
    priority: str = Field(default="routine", max_length=16, description="routine or urgent")
    case_id: int | None = None


@router.get("/labs")
def list_labs(svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    """Laboratory units a request can be sent to."""
    return [{"code": u.code, "name_ar": u.name_ar, "name_fr": u.name_fr, "name_en": u.name_en}
            for u in svc.labs.labs()]


@router.get("/labs/{code}/technicians")
def technicians(code: str, svc: Services = Svc, actor: Actor = Who) -> list[str]:
    return svc.labs.technicians(actor, code)


@router.get("/labs/{code}/stats")
def lab_stats(code: str, since: date | None = None, until: date | None = None, svc: Services = Svc,
              actor: Actor = Who) -> dict[str, Any]:
    """Workload (open requests by state, technician, examination type) and turnaround (median and
    90th percentile days from submission to completion, by type) over ``[since, until]``."""
    return svc.labs.stats(actor, code, since=since, until=until).as_dict()


@router.post("/lab-requests", status_code=201)
def submit(body: RequestIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.labs.submit(actor, lab=body.lab, exam_type=body.exam_type, items=body.items,
                           questions=body.questions, priority=body.priority, case_id=body.case_id).as_dict()


@router.get("/lab-requests")
def list_requests(lab: str | None = None, state: str | None = None, exam_type: str | None = None,
                  mine: bool = False, assigned: bool = False, open_only: bool = Query(default=False, alias="open"),
                  page: int = Query(default=1, ge=1), per_page: int = Query(default=50, ge=1, le=500),
                  svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Requests you may see; ``mine``: yours; ``assigned``: those you examine; ``open``: not finished."""
    items, total = svc.labs.list(actor, lab=lab, state=state, exam_type=exam_type, mine=mine, assigned=assigned,
                                 open_only=open_only, page=page, per_page=per_page)
    return {"items": [i.as_dict() for i in items], "total": total, "page": page, "per_page": per_page}


@router.get("/lab-requests/{rid}")
def get_request(rid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.labs.get(actor, rid).as_dict()


class AcceptIn(BaseModel):
    technician: str = Field(max_length=64, description="Username of a technician of the lab")
    version: int | None = None


@router.post("/lab-requests/{rid}/accept")
def accept(rid: int, body: AcceptIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Lab chief: accept and assign (409 lists the allowed transitions)."""
    return svc.labs.accept(actor, rid, technician=body.technician, version=body.version).as_dict()


class ReasonIn(BaseModel):
    reason: str = Field(max_length=1000)
    version: int | None = None


@router.post("/lab-requests/{rid}/reject")
def reject(rid: int, body: ReasonIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.labs.reject(actor, rid, reason=body.reason, version=body.version).as_dict()


class VersionIn(BaseModel):
    version: int | None = None


@router.post("/lab-requests/{rid}/start")
def start(rid: int, body: VersionIn | None = None, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.labs.start(actor, rid, version=body.version if body else None).as_dict()


@router.post("/lab-requests/{rid}/complete")
def complete(rid: int, results: str = Form(max_length=50000), version: int | None = Form(default=None),
             file: UploadFile | None = File(default=None, description="The lab's signed report"),
             svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Record the results (form field) and attach the report (multipart ``file``)."""
    return svc.labs.complete(actor, rid, results=results, report=file.file if file is not None else None,
                             filename=file.filename if file is not None else None, version=version).as_dict()


@router.post("/lab-requests/{rid}/cancel")
def cancel(rid: int, body: ReasonIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Requester: withdraw an open request (reason required)."""
    return svc.labs.cancel(actor, rid, reason=body.reason, version=body.version).as_dict()


@router.get("/lab-requests/{rid}/report")
def report(rid: int, svc: Services = Svc, actor: Actor = Who) -> StreamingResponse:
    """The lab's report, streamed; its SHA-256 is checked on the way."""
    view, chunks = svc.labs.report(actor, rid)
    return StreamingResponse(chunks, media_type=view.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}",
        "Content-Length": str(view.size), "X-Content-SHA256": view.sha256, "X-Content-Type-Options": "nosniff"})


@router.get("/evidence/{iid}/custody-sheet", tags=["evidence", "documents"])
def custody_sheet(iid: int, lang: str = Query(default="fr", pattern="^(ar|fr|en)$"), svc: Services = Svc,
                  actor: Actor = Who) -> Response:
    """The printable custody sheet (PDF): item, hashes, every custody event, chain verification."""
    item, chain, pdf = svc.labs.custody_sheet(actor, iid, lang=lang)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.reference)}-custody-{lang}.pdf",
        "X-Chain-Verified": "true" if chain.ok else "false", "X-Content-Type-Options": "nosniff"})
