"""Pages of entity resolution: the duplicate review queue, resolution runs with progress, and
undoing a merge from a person's page. Thin like the other pages: the rules live in
``amane.services.resolution``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from amane.api import jobs
from amane.api.deps import services
from amane.services.context import Actor
from amane.services.errors import Conflict, ValidationFailed
from amane.services.resolution import STATUSES
from amane.web.routes import Form, Who, _int, page_lang, redirect, render

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
#: Fields shown side by side, in this order.
FIELDS = ("given_name", "family_name", "given_name_ar", "family_name_ar", "father_name", "mother_name",
          "birth_date", "birth_place", "address", "sex", "national_id", "phone")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _start_job(request: Request, actor: Actor, unit: str) -> jobs.Job:
    svc = services(request)

    def work(progress: jobs.Progress) -> dict[str, Any]:
        res = svc.resolution.run(actor, unit=unit or None, progress=progress)
        result = {k: v for k, v in res.as_dict().items() if k != "clusters"}
        result["clusters"] = len(res.clusters)
        return result

    return jobs.start("resolve", actor.username, work, directory=jobs.folder(services(request)))


@router.get("/review")
def review_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    actor.require("persons.resolve")
    qp = request.query_params
    status = qp.get("status") or "pending"
    if status not in STATUSES:
        status = "pending"
    page = _int(qp.get("page"), 1)
    items, total = svc.resolution.candidates(actor, status=status, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    lang = page_lang(request)
    person = svc.registry.get("Person")
    labels = {f: person.properties[f].label_for(lang) for f in FIELDS if f in person.properties}

    def page_url(n: int) -> str:
        return "/review?" + urlencode({"status": status, "page": str(n)})

    return render(request, "review.html", {
        "items": items, "total": total, "status": status, "statuses": STATUSES, "page": page, "pages": pages,
        "page_url": page_url, "fields": FIELDS, "labels": labels, "error": qp.get("error", ""),
        "done": qp.get("done", ""), "slug": _slug,
    })


@router.post("/review/candidates/{cid}")
def review_decide(cid: int, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    svc = services(request)
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")
    back = {"status": "pending", "page": str(form.get("page") or "1")}
    try:
        svc.resolution.decide(actor, cid, decision, reason=reason)
        back["done"] = f"{decision}:{cid}"
    except ValidationFailed as exc:
        back["error"] = exc.errors[0].rule if exc.errors else "invalid"
    except Conflict:
        back["error"] = "candidate.decided"
    return redirect("/review?" + urlencode(back))


@router.post("/review/runs")
def review_run(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    actor.require("persons.resolve")
    unit = str(form.get("unit") or "").strip()[:32]
    job = _start_job(request, actor, unit)
    return redirect(f"/review/runs/{job.id}")


@router.get("/review/runs/{job_id}")
def review_run_page(job_id: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    job = jobs.get("resolve", actor.username, job_id, directory=jobs.folder(services(request)))
    partial = bool(request.headers.get("hx-request"))
    return render(request, "review_run.html", {"job": job, "partial": partial, "elapsed": job.elapsed})


@router.post("/records/view/{eid}/merges/{mid}/undo")
def undo_merge(eid: str, mid: int, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    svc = services(request)
    params: dict[str, str] = {}
    try:
        svc.resolution.undo(actor, mid, reason=str(form.get("reason") or ""))
        params["undone"] = str(mid)
    except ValidationFailed as exc:
        params["error"] = exc.errors[0].rule if exc.errors else "invalid"
    except Conflict:
        params["error"] = "merge.undone"
    return redirect(f"/records/view/{eid}?" + urlencode(params))
