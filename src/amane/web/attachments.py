"""Attachment upload and download from the complaint, report and case pages. Registered before
the procedure pages (their ``/{kind}/{id}/{action}`` routes would otherwise take these paths);
the rules are ``services.attachments``: the object's own need-to-know, type by content, size
limit, audited downloads that check the file's hash while streaming."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from amane.api.deps import services
from amane.services.context import Actor
from amane.services.errors import NotFound, ValidationFailed
from amane.web.routes import Form, Who, error_message, page_lang, redirect

router = APIRouter(include_in_schema=False)
KINDS = {"complaints": "complaint", "reports": "report", "cases": "case", "evidence": "evidence"}


@router.post("/{kind}/{oid}/attachments")
def upload(kind: str, oid: int, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    if kind not in KINDS:
        raise NotFound("page", kind)
    svc = services(request)
    file = form.get("file")
    params: dict[str, str] = {}
    if not isinstance(file, UploadFile) or not file.filename:
        params["file_error"] = "property.required"
    else:
        try:
            svc.attachments.upload(actor, KINDS[kind], oid, file.file, filename=file.filename)
            params["done"] = "attached"
        except ValidationFailed as exc:
            params["file_error"] = exc.errors[0].rule if exc.errors else "invalid"
            params["file_detail"] = error_message(exc.errors[0], page_lang(request))[:300] if exc.errors else ""
    return redirect(f"/{kind}/{oid}?" + urlencode(params) + "#attachments")


@router.get("/attachments/{aid}")
def download(aid: int, request: Request, actor: Actor = Who) -> StreamingResponse:
    view, chunks = services(request).attachments.download(actor, aid)
    return StreamingResponse(chunks, media_type=view.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}",
        "Content-Length": str(view.size), "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox"})
