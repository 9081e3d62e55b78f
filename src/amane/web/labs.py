"""Pages of the evidence register and the laboratories: the register (filters), an item's page
(details, hashes, custody log with the chain verification, transfer / receive / refuse), the
lab request board (columns by state for a lab; "my requests" for investigators; "assigned to
me" for technicians), a request's page with its actions, the new-request form, and the lab
statistics.

Thin like the other pages: parse the form, call ``services.evidence`` / ``services.labs``,
render. The services decide who may see and do what; a button is shown only when the user can
probably act. Bad input re-renders with the field errors (422) and changes nothing; a refused
transition (409) says which transitions are allowed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from amane.api.deps import services
from amane.services import evidence as ev_svc
from amane.services import labs as lab_svc
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.evidence import ItemView
from amane.services.labs import LabRequestView
from amane.web.i18n import has, t
from amane.web.routes import Form as CsrfForm
from amane.web.routes import Problem, Who, _int, page_lang, redirect, render, unit_map

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
BOARD_LIMIT = 500
_SPLIT = re.compile(r"[\s,;]+")


# --------------------------------------------------------------------------- helpers


def _text(form: FormData, name: str, limit: int = 1000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _version(form: FormData) -> int | None:
    raw = _text(form, "version", 12)
    return int(raw) if raw.isdigit() else None


def rule_text(err: FieldError, lang: str) -> str:
    for key in (f"lab.rules.{err.rule}", f"rules.{err.rule}"):
        if has(key, lang):
            return t(key, lang)
    return err.message


def errors_of(exc: ValidationFailed, lang: str) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for err in exc.errors:
        out.setdefault(err.field, []).append(Problem(rule_text(err, lang), err.message))
    return out


def state_text(what: str, state: str, lang: str) -> str:
    key = f"{what}.states.{state}"
    return t(key, lang) if has(key, lang) else state


def conflict_message(exc: Conflict, what: str, lang: str) -> str:
    """A refused change in words: for an illegal transition, the allowed ones."""
    sep = "، " if lang == "ar" else ", "
    state = str(exc.extra.get("state") or "")
    if exc.rule == "state.transition":
        allowed = [str(a) for a in (exc.extra.get("allowed") or [])]  # type: ignore[attr-defined]
        if allowed:
            return t("lab.conflict.transition", lang, state=state_text(what, state, lang),
                     allowed=sep.join(state_text(what, a, lang) for a in allowed))
        return t("lab.conflict.final", lang, state=state_text(what, state, lang))
    key = f"lab.rules.{exc.rule}"
    return t(key, lang) if has(key, lang) else str(exc)


def _page(request: Request, template: str, ctx: Mapping[str, Any], *, status: int = 200) -> HTMLResponse:
    lang = page_lang(request)
    full: dict[str, Any] = {
        "ev_state": lambda s: state_text("ev", s, lang),
        "lab_state": lambda s: state_text("lab", s, lang),
        "exam_label": lambda code: t(f"lab.exam.{code}", lang) if has(f"lab.exam.{code}", lang) else code,
        "category_label": lambda code: lab_svc.label(lab_svc.CATEGORY_LABELS, code, lang),
        "kind_label": lambda code: lab_svc.label(lab_svc.KIND_LABELS, code, lang),
        "event_kind_label": lambda code: lab_svc.label(lab_svc.EVENT_LABELS, code, lang),
        "days": lambda n: "—" if n is None else t("lab.fields.days", lang, n=f"{n:.1f}"),
    }
    full.update(ctx)
    return render(request, template, full, status=status)


def _tabs(actor: Actor, request: Request) -> list[tuple[str, str]]:
    """The section's tabs: the register, the lab board, and the statistics for lab chiefs."""
    tabs = [("/evidence", "ev.tabs.register"), ("/labs", "ev.tabs.labs")]
    if services(request).labs.chief_labs(actor):
        tabs.append(("/labs/stats", "ev.tabs.stats"))
    return tabs


# --------------------------------------------------------------------------- evidence register


@router.get("/evidence")
def evidence_list(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    qp = request.query_params
    f = {k: (qp.get(k) or "").strip()[:64] for k in ("state", "kind", "category", "seal_number", "view")}
    if f["state"] not in ev_svc.STATES.transitions:
        f["state"] = ""
    if f["kind"] not in ev_svc.KINDS:
        f["kind"] = ""
    if f["category"] not in ev_svc.CATEGORIES:
        f["category"] = ""
    if f["view"] not in ("all", "held", "pending"):
        f["view"] = "all"
    page = _int(qp.get("page"), 1)
    items, total = svc.evidence.list(actor, state=f["state"] or None, kind=f["kind"] or None,
                                     category=f["category"] or None, seal_number=f["seal_number"] or None,
                                     held=f["view"] == "held", pending=f["view"] == "pending", page=page,
                                     per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/evidence?" + urlencode({k: v for k, v in (*f.items(), ("page", str(n))) if v})

    return _page(request, "ev_list.html", {
        "items": items, "total": total, "f": f, "states": list(ev_svc.STATES.transitions), "kinds": ev_svc.KINDS,
        "categories": ev_svc.CATEGORIES, "page": page, "pages": pages, "page_url": page_url,
        "tabs": _tabs(actor, request),
    })


def _item_page(request: Request, actor: Actor, item: ItemView, *, which: str = "",
               errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
               conflict: str = "", status: int = 200) -> HTMLResponse:
    svc = services(request)
    chain = svc.evidence.verify_chain(actor, item.id)
    mine = item.custodian == actor.username
    traces: dict[str, Any] = {}
    if item.kind == "digital":
        traces = {"scans": svc.traces.scans(actor, item.id),
                  "selectors": svc.traces.selectors(actor, item.id, limit=50),
                  "hits": svc.traces.hits(actor, item.id),
                  "can_scan": actor.can("lab.work") or actor.can("evidence.custody")}
        traces["histogram"] = {}
        for sc in traces["scans"]:
            if sc["status"] == "done" and sc["kind"] == "traces":
                traces["histogram"] = sc["counts"]
        traces["active"] = any(sc["status"] in ("queued", "running") for sc in traces["scans"])
    from amane.web.procedures import _file_error

    return _page(request, "ev_item.html", {
        "traces": traces,
        "attachments": svc.attachments.list(actor, "evidence", item.id), "file_error": _file_error(request),
        "item": item, "chain": chain, "which": which, "errors": errors or {}, "values": values or {},
        "conflict": conflict, "done": request.query_params.get("done", ""),
        "can_transfer": mine and "in_transfer" in item.allowed and actor.can("evidence.custody"),
        "can_receive": item.state == "in_transfer" and item.pending_to == actor.username,
        "can_request": actor.can("evidence.custody") and item.state not in ("returned", "destroyed"),
        "tabs": _tabs(actor, request),
    }, status=status)


EV_FIELDS = ("seal_number", "kind", "category", "description", "case_id", "incident_id", "storage_location",
             "place", "purpose", "classification")


def _ev_form(request: Request, actor: Actor, *, values: Mapping[str, str],
             errors: Mapping[str, list[Problem]], status: int = 200) -> HTMLResponse:
    from amane.services.roles import CLEARANCES

    return _page(request, "ev_form.html", {
        "values": values, "errors": errors, "kinds": ev_svc.KINDS, "categories": ev_svc.CATEGORIES,
        "clearances": CLEARANCES[: actor.clearance + 1], "tabs": _tabs(actor, request)}, status=status)


@router.get("/evidence/new")
def evidence_new(request: Request, actor: Actor = Who) -> HTMLResponse:
    """Register a seized item: physical, or digital with its content uploaded and hashed on intake."""
    actor.require("evidence.register")
    values = {k: "" for k in EV_FIELDS} | {"kind": "physical", "classification": "restricted"}
    return _ev_form(request, actor, values=values, errors={})


@router.post("/evidence/new")
def evidence_register(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    values = {k: _text(form, k, 20000 if k == "description" else 1000) for k in EV_FIELDS}
    upload = form.get("content")
    content = upload.file if isinstance(upload, UploadFile) and upload.filename else None
    errors: dict[str, list[Problem]] = {}
    case_id = None
    if values["case_id"]:
        if not values["case_id"].isdigit():
            errors["case_id"] = [Problem(t("ev.new.case_number", lang), "integer")]
        else:
            case_id = int(values["case_id"])
    if errors:
        return _ev_form(request, actor, values=values, errors=errors, status=422)
    try:
        view = svc.evidence.register(
            actor, seal_number=values["seal_number"], kind=values["kind"], category=values["category"],
            description=values["description"], case_id=case_id, incident_id=values["incident_id"] or None,
            storage_location=values["storage_location"], place=values["place"], purpose=values["purpose"],
            classification=values["classification"] or None, content=content if values["kind"] == "digital"
            else None)
    except ValidationFailed as exc:
        return _ev_form(request, actor, values=values, errors=errors_of(exc, lang), status=422)
    except Conflict as exc:
        return _ev_form(request, actor, values=values, status=409,
                        errors={exc.field or "seal_number": [Problem(conflict_message(exc, "ev", lang), exc.rule)]})
    return redirect(f"/evidence/{view.id}?done=register")


@router.get("/evidence/{iid}")
def evidence_item(iid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    return _item_page(request, actor, services(request).evidence.get(actor, iid))


def _apply(request: Request, what: str, which: str, values: Mapping[str, str], change: Callable[[], Any],
           again: Callable[..., HTMLResponse], done_url: str) -> Response:
    """Run ``change()``; on bad input (422) or a refused change (409) the page ``again`` with the
    message beside the form ``which``; else back to ``done_url``."""
    lang = page_lang(request)
    try:
        change()
    except ValidationFailed as exc:
        return again(which=which, values=values, errors=errors_of(exc, lang), status=422)
    except Conflict as exc:
        return again(which=which, values=values, conflict=conflict_message(exc, what, lang), status=409)
    return redirect(done_url)


def _item_change(request: Request, actor: Actor, iid: int, which: str, values: Mapping[str, str],
                 change: Callable[[], Any]) -> Response:
    def again(**kw: Any) -> HTMLResponse:
        return _item_page(request, actor, services(request).evidence.get(actor, iid), **kw)

    return _apply(request, "ev", which, values, change, again, f"/evidence/{iid}?done={which}#custody")


@router.post("/evidence/{iid}/scan")
def evidence_scan(iid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    values = {k: _text(form, k) for k in ("path", "out_dir", "kind")}
    return _item_change(request, actor, iid, "scan", values, lambda: services(request).traces.queue(
        actor, iid, values["path"], out_dir=values["out_dir"] or None, kind=values["kind"] or "traces"))


@router.post("/evidence/{iid}/transfer")
def evidence_transfer(iid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"to_user": _text(form, "to_user", 64), "purpose": _text(form, "purpose"),
              "place": _text(form, "place", 300)}
    return _item_change(request, actor, iid, "transfer", values, lambda: svc.evidence.transfer(
        actor, iid, to_user=values["to_user"], purpose=values["purpose"], place=values["place"]))


@router.post("/evidence/{iid}/receive")
def evidence_receive(iid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"place": _text(form, "place", 300), "storage_location": _text(form, "storage_location", 300)}
    return _item_change(request, actor, iid, "receive", values, lambda: svc.evidence.receive(
        actor, iid, place=values["place"], storage_location=values["storage_location"] or None))


@router.post("/evidence/{iid}/refuse")
def evidence_refuse(iid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"reason": _text(form, "reason"), "place": _text(form, "place", 300)}
    return _item_change(request, actor, iid, "refuse", values, lambda: svc.evidence.refuse(
        actor, iid, reason=values["reason"], place=values["place"]))


# --------------------------------------------------------------------------- lab board


def _my_lab(request: Request, actor: Actor) -> str:
    """The actor's own lab unit code when the actor works in one, else ``""``."""
    u = unit_map(request).get(actor.unit_code)
    return actor.unit_code if u is not None and u.kind == "lab" else ""


@router.get("/labs")
def lab_board(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    qp = request.query_params
    labs = svc.labs.labs()
    codes = [u.code for u in labs]
    own = _my_lab(request, actor)
    views = ["mine", "lab"] + (["assigned"] if actor.can("lab.work") else [])
    which = qp.get("view") or ("lab" if own else "mine")
    if which not in views:
        which = "mine"
    lab = (qp.get("lab") or own or "").strip().upper()
    if lab not in codes:
        lab = own or (codes[0] if codes else "")
    if which == "lab" and lab:
        items, total = svc.labs.list(actor, lab=lab, per_page=BOARD_LIMIT)
    else:
        items, total = svc.labs.list(actor, mine=which == "mine", assigned=which == "assigned",
                                     per_page=BOARD_LIMIT)
    columns = {st: [r for r in items if r.state == st] for st in lab_svc.STATES.transitions}
    return _page(request, "lab_board.html", {
        "which": which, "views": views, "lab": lab, "labs": labs, "columns": columns, "total": total,
        "shown": len(items), "tabs": _tabs(actor, request),
    })


# --------------------------------------------------------------------------- new request


REQUEST_FIELDS = ("lab", "exam_type", "items", "questions", "priority", "case_id")


def _ids(raw: str) -> list[int]:
    return [int(p) for p in _SPLIT.split(raw) if p.isdigit()][: lab_svc.MAX_ITEMS + 1]


def _request_form(request: Request, actor: Actor, *, values: Mapping[str, str],
                  errors: Mapping[str, list[Problem]], status: int = 200) -> HTMLResponse:
    svc = services(request)
    held, _ = svc.evidence.list(actor, held=True, per_page=200)
    return _page(request, "lab_form.html", {
        "values": values, "errors": errors, "labs": svc.labs.labs(), "exam_types": lab_svc.EXAM_TYPES,
        "priorities": lab_svc.PRIORITIES, "held": [i for i in held if i.state in ("in_custody", "at_lab")],
        "chosen": set(_ids(values.get("items", ""))), "tabs": _tabs(actor, request),
    }, status=status)


@router.get("/labs/requests/new")
def lab_request_form(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("evidence.custody")
    item = (request.query_params.get("item") or "").strip()[:12]
    values = {k: "" for k in REQUEST_FIELDS}
    values.update(items=item if item.isdigit() else "", priority="routine")
    return _request_form(request, actor, values=values, errors={})


@router.post("/labs/requests/new")
def lab_request_submit(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    values = {k: _text(form, k, 5000) for k in REQUEST_FIELDS}
    picked = [str(v) for v in form.getlist("item") if str(v).isdigit()]
    if picked:
        merged = dict.fromkeys([*_ids(values["items"]), *(int(p) for p in picked)])
        values["items"] = ", ".join(str(i) for i in merged)
    case_raw = values["case_id"]
    if case_raw and not case_raw.isdigit():
        return _request_form(request, actor, values=values, status=422, errors={
            "case_id": [Problem(t("lab.rules.number", lang), "a case number")]})
    try:
        view = svc.labs.submit(actor, lab=values["lab"], exam_type=values["exam_type"], items=_ids(values["items"]),
                               questions=values["questions"], priority=values["priority"] or "routine",
                               case_id=int(case_raw) if case_raw else None)
    except ValidationFailed as exc:
        return _request_form(request, actor, values=values, errors=errors_of(exc, lang), status=422)
    return redirect(f"/labs/requests/{view.id}?done=submitted")


# --------------------------------------------------------------------------- a request


def _request_page(request: Request, actor: Actor, view: LabRequestView, *, which: str = "",
                  errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
                  conflict: str = "", status: int = 200) -> HTMLResponse:
    svc = services(request)
    chief = view.lab in svc.labs.chief_labs(actor) and "unit_chief" in actor.roles
    worker = view.technician == actor.username or chief
    return _page(request, "lab_request.html", {
        "view": view, "which": which, "errors": errors or {}, "values": values or {}, "conflict": conflict,
        "done": request.query_params.get("done", ""),
        "can_accept": chief and "accepted" in view.allowed,
        "technicians": svc.labs.technicians(actor, view.lab) if chief and "accepted" in view.allowed else [],
        "can_start": worker and "in_progress" in view.allowed,
        "can_complete": worker and "completed" in view.allowed,
        "can_cancel": view.requester == actor.username and "cancelled" in view.allowed,
        "tabs": _tabs(actor, request),
    }, status=status)


@router.get("/labs/requests/{rid}")
def lab_request_view(rid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    return _request_page(request, actor, services(request).labs.get(actor, rid))


def _request_change(request: Request, actor: Actor, rid: int, which: str, values: Mapping[str, str],
                    change: Callable[[], Any]) -> Response:
    def again(**kw: Any) -> HTMLResponse:
        return _request_page(request, actor, services(request).labs.get(actor, rid), **kw)

    return _apply(request, "lab", which, values, change, again, f"/labs/requests/{rid}?done={which}")


@router.post("/labs/requests/{rid}/{action}")
def lab_request_action(rid: int, action: str, request: Request, actor: Actor = Who,
                             form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"technician": _text(form, "technician", 64), "reason": _text(form, "reason"),
              "results": _text(form, "results", 50000)}
    version = _version(form)
    changes: dict[str, Callable[[], Any]] = {
        "accept": lambda: svc.labs.accept(actor, rid, technician=values["technician"], version=version),
        "reject": lambda: svc.labs.reject(actor, rid, reason=values["reason"], version=version),
        "start": lambda: svc.labs.start(actor, rid, version=version),
        "cancel": lambda: svc.labs.cancel(actor, rid, reason=values["reason"], version=version),
    }
    if action == "complete":
        upload = form.get("report")
        has_file = isinstance(upload, UploadFile) and bool(upload.filename)

        def complete() -> Any:
            file = upload if isinstance(upload, UploadFile) and has_file else None
            return svc.labs.complete(actor, rid, results=values["results"], version=version,
                                     report=file.file if file is not None else None,
                                     filename=file.filename if file is not None else None)

        changes["complete"] = complete
    if action not in changes:
        raise NotFound("page", action)
    return _request_change(request, actor, rid, action, values, changes[action])


# --------------------------------------------------------------------------- statistics


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10]) if raw else None
    except ValueError:
        return None


@router.get("/labs/stats")
def lab_stats_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    qp = request.query_params
    mine = svc.labs.chief_labs(actor)
    lab = (qp.get("lab") or "").strip().upper()
    if lab not in mine:
        lab = _my_lab(request, actor) if _my_lab(request, actor) in mine else (mine[0] if mine else "")
    since, until = _date(qp.get("since")), _date(qp.get("until"))
    stats, errors = None, {}
    if lab:
        try:
            stats = svc.labs.stats(actor, lab, since=since, until=until)
        except ValidationFailed as exc:
            errors = errors_of(exc, lang)
    return _page(request, "lab_stats.html", {
        "labs": mine, "lab": lab, "stats": stats, "errors": errors, "since": qp.get("since", "")[:10],
        "until": qp.get("until", "")[:10], "open_states": lab_svc.OPEN_STATES, "tabs": _tabs(actor, request),
    }, status=422 if errors else 200)
