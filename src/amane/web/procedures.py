"""Pages of the digitised procedures: the citizen's public complaint form and status page,
complaints at the station and their decisions, incident reports (procès-verbaux) with their
approval, investigation case files, and the inbox.

Thin like the other pages: parse the form, call a service, render. The services decide who
may see and do what (need-to-know, capabilities, state machines); a button is shown only
when the user can probably act, but the service remains the real check. Bad input
re-renders the form with the field errors (422) and changes nothing; a refused transition
(409) says which transitions are allowed.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from amane.api import procedures as api_proc
from amane.api.deps import client_address, services
from amane.model.schema import EntitySchema
from amane.services.cases import STATES as CASE_STATES
from amane.services.cases import TASK_STATUSES, CaseView
from amane.services.complaints import STATES as COMPLAINT_STATES
from amane.services.complaints import ComplaintView, Receipt
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, RateLimited, ValidationFailed
from amane.services.procedures import EventView
from amane.services.reports import EDITABLE, ROLES, ReportView
from amane.services.reports import STATES as REPORT_STATES
from amane.services.roles import CLEARANCES
from amane.services.units import UnitView
from amane.web.i18n import has, t
from amane.web.routes import Form as CsrfForm
from amane.web.routes import (
    Problem,
    Who,
    _csrf_ok,
    _int,
    _set_cookie,
    build_fields,
    data_from_values,
    display_items,
    env,
    error_message,
    page_lang,
    redirect,
    render,
    safe_next,
    scope_units,
    unit_map,
    values_from_data,
    values_from_form,
)

router = APIRouter(include_in_schema=False)

PUBLIC_CSRF_COOKIE = "amane_public_csrf"
#: Units a citizen may address a complaint to (and a complaint may be redirected to).
RECEIVING_KINDS = ("regional_service", "provincial_service", "district", "station")
PER_PAGE = 50
#: The new-report form always offers at least this many rows of involved persons.
MIN_PERSON_ROWS = 5
MAX_PERSON_ROWS = 200
#: Fields of an incident record (or a complaint) that prefill a new report.
REPORT_FACTS = ("title", "offence_category", "occurred_from", "occurred_to", "commune", "address", "narrative")
COMPLAINT_STATUSES = ("received", "accepted", "closed")
_ROW = re.compile(r"^involved\[(\d+)\]")
_LIST_ITEM = re.compile(r"^(objects)\[\d+\]")
_SPLIT = re.compile(r"[\s,;]+")


# --------------------------------------------------------------------------- shared helpers


def _file_error(request: Request) -> str:
    """The message of a refused upload (redirected here by ``web.attachments``)."""
    rule = request.query_params.get("file_error", "")
    if not rule:
        return ""
    lang = page_lang(request)
    key = f"proc.files.errors.{rule}"
    return t(key, lang) if has(key, lang) else (request.query_params.get("file_detail", "") or rule)[:300]


def _unread(request: Request) -> int:
    """The signed-in user's unread notifications (the badge in the top navigation)."""
    actor: Actor | None = getattr(request.state, "web_actor", None)
    if actor is None:
        return 0
    cached: int | None = getattr(request.state, "web_unread", None)
    if cached is None:
        try:
            cached = services(request).inbox.unread_count(actor)
        except Exception:  # noqa: BLE001 - a badge must never break a page
            cached = 0
        request.state.web_unread = cached
    return cached


env.globals["inbox_unread"] = _unread


def _text(form: FormData, name: str, limit: int = 1000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _version(form: FormData) -> int | None:
    raw = _text(form, "version", 12)
    return int(raw) if raw.isdigit() else None


def rule_message(err: FieldError, lang: str, schema: EntitySchema | None = None) -> str:
    """The procedures' own wording of a broken rule, else the generic one."""
    key = f"proc.rules.{err.rule}"
    if has(key, lang):
        return t(key, lang)
    return error_message(err, lang, schema)


def field_errors(exc: ValidationFailed, lang: str, schema: EntitySchema | None = None,
                 *, prefix: str = "", labelled: bool = False) -> dict[str, list[Problem]]:
    """Errors by form input: ``data.<prop>`` for a property of ``schema``, ``involved.<row>``
    for a row of involved persons, ``objects``, or the service's field name; ``""`` for the form."""
    out: dict[str, list[Problem]] = {}
    for err in exc.errors:
        name = err.field.removeprefix(prefix) if prefix else err.field
        row = _ROW.match(name)
        item = _LIST_ITEM.match(name)
        if row:
            name = f"involved.{row.group(1)}"
        elif item:
            name = item.group(1)
        elif name in ("data", "content"):
            name = ""
        else:
            base = name.removeprefix("data.").split(".")[0]
            if schema is not None and base in schema.properties:
                name = f"data.{base}"
        message = rule_message(err, lang, schema)
        if labelled and schema is not None and name.startswith("data."):
            # shown away from the field (e.g. the complaint must be completed before accepting)
            message = t("proc.common.field_problem", lang, field=schema.properties[name[5:]].label_for(lang),
                        problem=message)
        out.setdefault(name, []).append(Problem(message, err.message))
    return out


def state_label(what: str, state: str, lang: str) -> str:
    key = f"proc.states.{what}.{state}"
    return t(key, lang) if has(key, lang) else state


def conflict_text(exc: Conflict, what: str, lang: str) -> str:
    """A refused change in words: for an illegal transition, the allowed ones."""
    sep = "، " if lang == "ar" else ", "
    if exc.rule == "state.transition":
        state = str(exc.extra.get("state") or "")
        raw: Any = exc.extra.get("allowed") or []
        allowed = [str(a) for a in raw]
        if allowed:
            return t("proc.conflict.transition", lang, state=state_label(what, state, lang),
                     allowed=sep.join(state_label(what, a, lang) for a in allowed))
        return t("proc.conflict.final", lang, state=state_label(what, state, lang))
    if exc.rule == "version.stale":
        return t("proc.conflict.stale", lang, version=exc.extra.get("current_version", "?"))
    key = f"proc.rules.{exc.rule}"
    if has(key, lang):
        current = exc.extra.get("state")
        return t(key, lang, state=state_label(what, str(current), lang) if current else "")
    return str(exc)


def tx(key: str, lang: str, **values: Any) -> Markup:
    """``t()`` with each value isolated for bidirectional text (a Latin name in Arabic text keeps
    its place), as safe HTML."""
    isolated = {k: Markup("<bdi>{}</bdi>").format("—" if v is None else v) for k, v in values.items()}
    try:
        return Markup(escape(t(key, lang))).format(**isolated)
    except (KeyError, IndexError, ValueError):
        return escape(t(key, lang))


def event_summary(ev: EventView, what: str, lang: str) -> Markup:
    """One line about what an event changed (states, task, member...), in the page language."""
    d = ev.details
    if "from" in d and "to" in d and ev.kind != "redirected":
        return escape(f"{state_label(what, str(d['from']), lang)} → {state_label(what, str(d['to']), lang)}")
    if ev.kind == "redirected":
        return Markup("<bdi>{}</bdi> → <bdi>{}</bdi>").format(d.get("from", ""), d.get("to", ""))
    if ev.kind == "received":
        return escape(t("proc.channels." + str(d.get("channel")), lang) if d.get("channel") else "")
    if ev.kind == "task":
        return tx("proc.timeline.task", lang, title=d.get("title", ""), assignee=d.get("assignee", ""))
    if ev.kind == "task-status":
        return tx("proc.timeline.task_status", lang, task=d.get("task", ""),
                  status=t(f"proc.task_status.{d.get('status', 'open')}", lang))
    if ev.kind == "team":
        if d.get("removed"):
            return tx("proc.timeline.team_removed", lang, user=d.get("user", ""))
        role = d.get("role", "")
        return tx("proc.timeline.team", lang, user=d.get("user", ""),
                  role=t(f"proc.team_roles.{role}", lang) if role in ("lead", "member", "supervisor") else role)
    if ev.kind == "opened":
        return tx("proc.timeline.opened", lang, lead=d.get("lead", ""))
    return Markup("")


def event_label(ev: EventView, lang: str) -> str:
    key = f"proc.events.{ev.kind}"
    return t(key, lang) if has(key, lang) else ev.kind


def _ctx_common(lang: str) -> dict[str, Any]:
    return {
        "state_label": lambda what, s: state_label(what, s, lang),
        "event_label": lambda ev: event_label(ev, lang),
        "event_summary": lambda ev, what: event_summary(ev, what, lang),
    }


def _render(request: Request, template: str, ctx: Mapping[str, Any], *, status: int = 200,
            headers: Mapping[str, str] | None = None) -> HTMLResponse:
    lang = page_lang(request)
    full = _ctx_common(lang)
    category = services(request).complaints.form.properties["category"]
    full["category_label"] = lambda code: category.display(code, lang) if code else ""
    full.update(ctx)
    return render(request, template, full, status=status, headers=headers)


def _props(schema: EntitySchema, data: Mapping[str, Any], lang: str) -> list[tuple[str, list[str], str]]:
    """(label, display strings, input kind) of the filled properties of ``data``."""
    rows = []
    for p in schema.properties.values():
        value = data.get(p.name)
        if value is None or value == "" or value == []:
            continue
        if p.input_kind == "datetime-local":
            rows.append((p.label_for(lang), [str(value)], "datetime"))
        else:
            rows.append((p.label_for(lang), display_items(p, value, lang), p.input_kind))
    return rows


def receiving_units(units: Mapping[str, UnitView], lang: str) -> list[tuple[str, list[UnitView]]]:
    """Units that receive complaints, grouped under their region (tree order)."""
    groups: dict[str, list[UnitView]] = {}
    labels: dict[str, str] = {}
    for u in units.values():
        if u.kind not in RECEIVING_KINDS:
            continue
        region: UnitView | None = u if u.kind == "regional_service" else None
        code, seen = u.parent, 0
        while region is None and code and seen < 64:
            parent = units.get(code)
            if parent is None:
                break
            if parent.kind == "regional_service":
                region = parent
            code, seen = parent.parent, seen + 1
        key = region.code if region else ""
        labels[key] = region.name(lang) if region else t("proc.units.other", lang)
        groups.setdefault(key, []).append(u)
    return [(labels[k], v) for k, v in groups.items()]


# --------------------------------------------------------------------------- public: file and track


async def _plain_form(request: Request) -> FormData:
    return await request.form()


PlainForm = Depends(_plain_form)


def _public_token(request: Request) -> str:
    return request.cookies.get(PUBLIC_CSRF_COOKIE) or secrets.token_urlsafe(24)


def _with_token(request: Request, res: HTMLResponse, token: str) -> HTMLResponse:
    _set_cookie(res, services(request), PUBLIC_CSRF_COOKIE, token, path="/public")
    return res


def _limited(request: Request, exc: RateLimited) -> HTMLResponse:
    minutes = max(1, math.ceil(exc.retry_after_s / 60))
    return _render(request, "proc_limited.html", {"minutes": minutes}, status=429,
                   headers={"Retry-After": str(exc.retry_after_s)})


def _complaint_form(request: Request, *, public: bool, values: Mapping[str, Any],
                    errors: Mapping[str, list[Problem]], unit: str, token: str = "", message: str = "",
                    actor: Actor | None = None, status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.complaints.form
    units = unit_map(request)
    if public:
        groups = receiving_units(units, lang)
    else:
        assert actor is not None
        groups = [("", scope_units(actor, units))]
    return _render(request, "proc_complaint_form.html", {
        "public": public, "schema": schema,
        "fields": build_fields(schema, values, errors, lang, svc.registry),
        "form_errors": errors.get("", []), "unit_errors": errors.get("unit", []), "has_errors": bool(errors),
        "groups": groups, "unit": unit, "token": token, "message": message,
    }, status=status)


@router.get("/public/complaint")
def public_complaint_form(request: Request) -> HTMLResponse:
    schema = services(request).complaints.form
    token = _public_token(request)
    unit = (request.query_params.get("unit") or "").strip().upper()[:32]
    res = _complaint_form(request, public=True, values=values_from_data(schema, {}), errors={}, unit=unit,
                          token=token)
    return _with_token(request, res, token)


@router.post("/public/complaint")
def public_complaint_submit(request: Request, form: FormData = PlainForm) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.complaints.form
    values = values_from_form(schema, form)
    unit = _text(form, "unit", 32)
    token = _public_token(request)
    if not _csrf_ok(_text(form, "csrf", 200), request.cookies.get(PUBLIC_CSRF_COOKIE, "")):
        fresh = secrets.token_urlsafe(24)
        res = _complaint_form(request, public=True, values=values, errors={}, unit=unit, token=fresh,
                              message=t("proc.public.expired", lang), status=400)
        return _with_token(request, res, fresh)
    ip = client_address(request)
    try:
        api_proc.public_limit.check(ip)
    except RateLimited as exc:
        return _limited(request, exc)
    try:
        receipt = svc.complaints.file_online(data_from_values(schema, values), unit=unit, source=ip)
    except ValidationFailed as exc:
        res = _complaint_form(request, public=True, values=values, errors=field_errors(exc, lang, schema),
                              unit=unit, token=token, status=422)
        return _with_token(request, res, token)
    return _receipt(request, receipt, public=True)


def _receipt(request: Request, receipt: Receipt, *, public: bool) -> HTMLResponse:
    return _render(request, "proc_receipt.html", {"receipt": receipt, "public": public})


def _track_page(request: Request, *, token: str, number: str = "", message: str = "",
                result: Any = None, status: int = 200) -> HTMLResponse:
    res = _render(request, "proc_track.html", {"token": token, "number": number, "message": message,
                                               "result": result}, status=status)
    return _with_token(request, res, token)


@router.get("/public/track")
def public_track_form(request: Request) -> HTMLResponse:
    number = (request.query_params.get("number") or "").strip().upper()[:32]
    return _track_page(request, token=_public_token(request), number=number)


@router.post("/public/track")
def public_track_submit(request: Request, form: FormData = PlainForm) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    number = _text(form, "tracking_number", 32).upper()
    code = _text(form, "secret_code", 32)
    if not _csrf_ok(_text(form, "csrf", 200), request.cookies.get(PUBLIC_CSRF_COOKIE, "")):
        return _track_page(request, token=secrets.token_urlsafe(24), number=number,
                           message=t("proc.public.expired", lang), status=400)
    token = _public_token(request)
    ip = client_address(request)
    try:
        api_proc.track_limit.check(ip)
    except RateLimited as exc:
        return _limited(request, exc)
    try:
        status = svc.complaints.track(number, code, source=ip)
    except NotFound:
        # an unknown number, a wrong code and a locked number all read the same
        return _track_page(request, token=token, number=number, message=t("proc.public.not_found", lang),
                           status=404)
    return _track_page(request, token=token, number=number, result=status)


# --------------------------------------------------------------------------- complaints (staff)


@router.get("/complaints")
def complaints_list(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    qp = request.query_params
    status = qp.get("status") or ""
    if status not in COMPLAINT_STATUSES:
        status = ""
    page = _int(qp.get("page"), 1)
    items, total = svc.complaints.list(actor, status=status or None, page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/complaints?" + urlencode({k: v for k, v in (("status", status), ("page", str(n))) if v})

    return _render(request, "proc_complaints.html", {
        "items": items, "total": total, "status": status, "statuses": COMPLAINT_STATUSES, "page": page,
        "pages": pages, "page_url": page_url, "done": qp.get("done", ""),
    })


@router.get("/complaints/new")
def complaint_new_form(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("complaints.take")
    schema = services(request).complaints.form
    return _complaint_form(request, public=False, values=values_from_data(schema, {}), errors={},
                           unit=actor.unit_code, actor=actor)


@router.post("/complaints/new")
def complaint_new_submit(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.complaints.form
    values = values_from_form(schema, form)
    unit = _text(form, "unit", 32)
    try:
        receipt = svc.complaints.take(actor, data_from_values(schema, values), unit=unit or None)
    except ValidationFailed as exc:
        return _complaint_form(request, public=False, values=values, errors=field_errors(exc, lang, schema),
                               unit=unit, actor=actor, status=422)
    return _receipt(request, receipt, public=False)


def _complaint_page(request: Request, actor: Actor, view: ComplaintView, *, which: str = "",
                    errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
                    conflict: str = "", status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    units = unit_map(request)
    can_decide = actor.can("complaints.decide") and bool(COMPLAINT_STATES.allowed(view.status))
    captions = svc.entities.captions(actor, {view.incident_id}, lang=lang) if view.incident_id else {}
    return _render(request, "proc_complaint.html", {
        "view": view, "props": _props(svc.complaints.form, view.data, lang),
        "can_decide": can_decide, "groups": receiving_units(units, lang) if can_decide else [],
        "which": which, "errors": errors or {}, "values": values or {}, "conflict": conflict,
        "done": request.query_params.get("done", ""), "incident_caption": captions.get(view.incident_id or ""),
        "attachments": svc.attachments.list(actor, "complaint", view.id), "file_error": _file_error(request),
    }, status=status)


@router.get("/complaints/{cid}")
def complaint_view(cid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    return _complaint_page(request, actor, services(request).complaints.get(actor, cid))


@router.post("/complaints/{cid}/{decision}")
def complaint_decide(cid: int, decision: str, request: Request, actor: Actor = Who,
                     form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    if decision not in ("accept", "redirect", "close"):
        raise NotFound("page", decision)
    version = _version(form)
    values = {k: _text(form, k) for k in ("incident_id", "title", "unit", "reason")}
    try:
        if decision == "accept":
            svc.complaints.accept(actor, cid, incident_id=values["incident_id"] or None,
                                  title=values["title"][:200], version=version)
        elif decision == "redirect":
            done = svc.complaints.redirect(actor, cid, unit=values["unit"], reason=values["reason"], version=version)
            in_scope = {u.code for u in scope_units(actor, unit_map(request))}
            if done.unit not in in_scope:  # it left the user's scope: back to the list
                return redirect("/complaints?" + urlencode({"done": "redirected"}))
        else:
            svc.complaints.close(actor, cid, reason=values["reason"], version=version)
    except ValidationFailed as exc:
        view = svc.complaints.get(actor, cid)
        return _complaint_page(request, actor, view, which=decision, values=values,
                               errors=field_errors(exc, lang, svc.complaints.form, labelled=True), status=422)
    except Conflict as exc:
        view = svc.complaints.get(actor, cid)
        return _complaint_page(request, actor, view, which=decision, values=values,
                               conflict=conflict_text(exc, "complaint", lang), status=409)
    return redirect(f"/complaints/{cid}?done={decision}")


# --------------------------------------------------------------------------- reports


@router.get("/reports")
def reports_list(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    qp = request.query_params
    views = ["mine", "all"]
    if actor.can("reports.approve"):
        views.insert(1, "approve")
    which = qp.get("view") or ("mine" if actor.can("reports.write") else "all")
    if which not in views:
        which = "all"
    state = qp.get("state") or ""
    if state not in REPORT_STATES.transitions:
        state = ""
    if which == "approve":
        state = "submitted"
    page = _int(qp.get("page"), 1)
    items, total = svc.reports.list(actor, state=state or None, mine=which == "mine", page=page,
                                    per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/reports?" + urlencode({k: v for k, v in (("view", which), ("state", state), ("page", str(n)))
                                        if v})

    return _render(request, "proc_reports.html", {
        "items": items, "total": total, "views": views, "which": which, "state": state,
        "states": list(REPORT_STATES.transitions), "page": page, "pages": pages, "page_url": page_url,
    })


@dataclass
class PersonRow:
    person: str
    role: str
    errors: list[Problem]


def _person_rows(pairs: list[tuple[str, str]], errors: Mapping[str, list[Problem]]) -> list[PersonRow]:
    n = max(MIN_PERSON_ROWS, len(pairs) + 2)
    rows = [PersonRow(p, r, list(errors.get(f"involved.{i}", []))) for i, (p, r) in enumerate(pairs)]
    rows += [PersonRow("", "", list(errors.get(f"involved.{i}", []))) for i in range(len(rows), n)]
    return rows


def _report_values(form: FormData, schema: EntitySchema) -> tuple[dict[str, Any], list[tuple[str, str]], str]:
    """What was typed: the form's values, the (person, role) rows as typed, the objects text."""
    values = values_from_form(schema, form)
    pairs: list[tuple[str, str]] = []
    for i in range(MAX_PERSON_ROWS):
        pid, role = _text(form, f"involved.{i}.person", 64), _text(form, f"involved.{i}.role", 32)
        if f"involved.{i}.person" not in form and f"involved.{i}.role" not in form:
            break
        pairs.append((pid, role))
    return values, pairs, _text(form, "objects", 20000)


def _report_content(schema: EntitySchema, values: Mapping[str, Any], pairs: list[tuple[str, str]],
                    objects: str) -> dict[str, Any]:
    content = data_from_values(schema, values)
    # a row with a person and no role (or the reverse) is sent as is: the service names the row
    content["involved"] = [{"person": p, "role": r} for p, r in pairs if p or r]
    content["objects"] = [o for o in _SPLIT.split(objects) if o]
    return content


def _report_form(request: Request, actor: Actor, *, mode: str, values: Mapping[str, Any],
                 pairs: list[tuple[str, str]], objects: str, errors: Mapping[str, list[Problem]],
                 view: ReportView | None = None, incident_id: str = "", complaint_id: str = "",
                 reason: str = "", version: int | None = None, conflict: str = "",
                 status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.reports.form
    role_prop = svc.registry.get("Involvement").properties["role"]
    roles = [(r, role_prop.display(r, lang)) for r in ROLES]
    ids = {p for p, _ in pairs if p} | {o for o in _SPLIT.split(objects) if o}
    if incident_id:
        ids.add(incident_id)
    captions = svc.entities.captions(actor, ids, lang=lang) if ids else {}
    return _render(request, "proc_report_form.html", {
        "mode": mode, "view": view, "schema": schema,
        "fields": build_fields(schema, values, errors, lang, svc.registry),
        "rows": _person_rows(pairs, errors), "roles": roles, "objects": objects,
        "object_errors": errors.get("objects", []), "involved_errors": errors.get("involved", []),
        "form_errors": errors.get("", []),
        "meta_errors": {k: v for k, v in errors.items()
                        if k and not k.startswith(("data.", "involved")) and k != "objects"},
        "has_errors": bool(errors), "captions": captions, "incident_id": incident_id,
        "complaint_id": complaint_id, "reason": reason, "version": version, "conflict": conflict,
    }, status=status)


def _facts(data: Mapping[str, Any], *, complaint: bool = False) -> dict[str, Any]:
    if complaint:
        data = {**data, "offence_category": data.get("category"), "address": data.get("place"),
                "narrative": data.get("facts")}
    return {k: data[k] for k in REPORT_FACTS if data.get(k)}


def _involvements(request: Request, actor: Actor, incident_id: str) -> list[tuple[str, str]]:
    """The persons already involved in an incident, as (person, role) rows."""
    out: list[tuple[str, str]] = []
    for rel in services(request).entities.relations(actor, incident_id):
        if rel.schema == "Involvement" and rel.data.get("incident") == incident_id and rel.data.get("person"):
            pair = (str(rel.data["person"]), str(rel.data.get("role") or ""))
            if pair not in out:
                out.append(pair)
    return out


@router.get("/reports/new")
def report_new_form(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    actor.require("reports.write")
    qp = request.query_params
    schema = svc.reports.form
    data: dict[str, Any] = {}
    incident_id = (qp.get("incident_id") or "").strip()[:32]
    complaint_id = ""
    raw_cid = (qp.get("complaint_id") or "").strip()
    if raw_cid:
        if not raw_cid.isdigit():
            raise NotFound("complaint", raw_cid)
        complaint = svc.complaints.get(actor, int(raw_cid))
        complaint_id = str(complaint.id)
        data = _facts(complaint.data, complaint=True)
        data.setdefault("title", complaint.reference)
        incident_id = incident_id or (complaint.incident_id or "")
    pairs: list[tuple[str, str]] = []
    if incident_id:
        incident = svc.entities.get(actor, incident_id)
        if incident.schema != "Incident":
            raise NotFound("incident", incident_id)
        data = {**_facts(incident.data), **data} if complaint_id else _facts(incident.data)
        pairs = _involvements(request, actor, incident_id)
    return _report_form(request, actor, mode="new", values=values_from_data(schema, data), pairs=pairs,
                        objects="", errors={}, incident_id=incident_id, complaint_id=complaint_id)


@router.post("/reports/new")
def report_new_submit(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.reports.form
    values, pairs, objects = _report_values(form, schema)
    incident_id = _text(form, "incident_id", 32)
    complaint_id = _text(form, "complaint_id", 12)
    try:
        if complaint_id and not complaint_id.isdigit():
            raise ValidationFailed([FieldError("complaint_id", "reference.unknown", "not a complaint number")])
        view = svc.reports.create(actor, _report_content(schema, values, pairs, objects),
                                  incident_id=incident_id or None,
                                  complaint_id=int(complaint_id) if complaint_id else None)
    except ValidationFailed as exc:
        return _report_form(request, actor, mode="new", values=values, pairs=pairs, objects=objects,
                            errors=field_errors(exc, lang, schema, prefix="content."), incident_id=incident_id,
                            complaint_id=complaint_id, status=422)
    return redirect(f"/reports/{view.id}")


def _report_page(request: Request, actor: Actor, view: ReportView, *, which: str = "",
                 errors: Mapping[str, list[Problem]] | None = None, reason: str = "", conflict: str = "",
                 status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    role_prop = svc.registry.get("Involvement").properties["role"]
    involved = view.content.get("involved") or []
    objects = view.content.get("objects") or []
    ids = {str(i.get("person")) for i in involved} | {str(o) for o in objects}
    if view.incident_id:
        ids.add(view.incident_id)
    captions = svc.entities.captions(actor, ids, lang=lang) if ids else {}
    author = view.author == actor.username
    approver = actor.can("reports.approve")
    actions = {
        "submit": author and "submitted" in view.allowed and view.state != "approved",
        "approve": approver and not author and "approved" in view.allowed,
        "return": approver and "returned" in view.allowed,
        "edit": author and view.state in EDITABLE,
        "correct": view.state == "approved" and (author or approver),
        "open_case": view.state == "approved" and bool(view.incident_id) and actor.can("cases.open"),
    }
    return _render(request, "proc_report.html", {
        "view": view, "props": _props(svc.reports.form, view.content, lang),
        "involved": [(str(i.get("person")), role_prop.display(i.get("role"), lang)) for i in involved],
        "objects": [str(o) for o in objects], "captions": captions, "actions": actions,
        "versions": svc.reports.versions(actor, view.id), "which": which, "errors": errors or {},
        "reason": reason, "conflict": conflict, "done": request.query_params.get("done", ""),
        "attachments": svc.attachments.list(actor, "report", view.id), "file_error": _file_error(request),
    }, status=status)


@router.get("/reports/{rid}")
def report_view(rid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    return _report_page(request, actor, services(request).reports.get(actor, rid))


@router.post("/reports/{rid}/{action}")
def report_action(rid: int, action: str, request: Request, actor: Actor = Who,
                  form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    if action not in ("submit", "approve", "return", "edit"):
        raise NotFound("page", action)
    version = _version(form)
    reason = _text(form, "reason")
    if action == "edit":
        return _report_edit_submit(request, actor, rid, form)
    try:
        if action == "submit":
            svc.reports.submit(actor, rid, version=version)
        elif action == "approve":
            svc.reports.approve(actor, rid, version=version)
        else:
            svc.reports.return_to_author(actor, rid, reason=reason, version=version)
    except ValidationFailed as exc:
        return _report_page(request, actor, svc.reports.get(actor, rid), which=action, reason=reason,
                            errors=field_errors(exc, lang), status=422)
    except Conflict as exc:
        return _report_page(request, actor, svc.reports.get(actor, rid), which=action, reason=reason,
                            conflict=conflict_text(exc, "report", lang), status=409)
    return redirect(f"/reports/{rid}?done={action}")


@router.get("/reports/{rid}/edit")
def report_edit_form(rid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    view = svc.reports.get(actor, rid)
    content = view.content
    pairs = [(str(i.get("person")), str(i.get("role"))) for i in content.get("involved") or []]
    return _report_form(request, actor, mode="correct" if view.state == "approved" else "edit",
                        values=values_from_data(svc.reports.form, content), pairs=pairs,
                        objects="\n".join(str(o) for o in content.get("objects") or []), errors={}, view=view,
                        incident_id=view.incident_id or "", version=view.version)


def _report_edit_submit(request: Request, actor: Actor, rid: int, form: FormData) -> Response:
    svc = services(request)
    lang = page_lang(request)
    schema = svc.reports.form
    view = svc.reports.get(actor, rid)
    mode = "correct" if view.state == "approved" else "edit"
    values, pairs, objects = _report_values(form, schema)
    version = _version(form)
    reason = _text(form, "reason")
    content = _report_content(schema, values, pairs, objects)
    again: dict[str, Any] = {"values": values, "pairs": pairs, "objects": objects, "view": view,
             "incident_id": view.incident_id or "", "reason": reason, "version": version}
    try:
        if version is None:
            raise ValidationFailed([FieldError("version", "version.format", "the version must be a number")])
        if mode == "correct":
            svc.reports.correct(actor, rid, content, reason=reason, version=version)
        else:
            svc.reports.update(actor, rid, content, version=version)
    except ValidationFailed as exc:
        return _report_form(request, actor, mode=mode, errors=field_errors(exc, lang, schema, prefix="content."),
                            status=422, **again)
    except Conflict as exc:
        return _report_form(request, actor, mode=mode, errors={}, conflict=conflict_text(exc, "report", lang),
                            status=409, **again)
    return redirect(f"/reports/{rid}?done={mode}")


# --------------------------------------------------------------------------- cases


@router.get("/cases")
def cases_list(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    qp = request.query_params
    which = qp.get("view") or "mine"
    if which not in ("mine", "all"):
        which = "mine"
    state = qp.get("state") or ""
    if state not in CASE_STATES.transitions:
        state = ""
    page = _int(qp.get("page"), 1)
    items, total = svc.cases.list(actor, state=state or None, mine=which == "mine", page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/cases?" + urlencode({k: v for k, v in (("view", which), ("state", state), ("page", str(n))) if v})

    return _render(request, "proc_cases.html", {
        "items": items, "total": total, "which": which, "state": state, "states": list(CASE_STATES.transitions),
        "page": page, "pages": pages, "page_url": page_url,
    })


def _names(raw: str) -> list[str]:
    return [n for n in _SPLIT.split(raw) if n][:100]


def _case_form(request: Request, actor: Actor, *, values: Mapping[str, str],
               errors: Mapping[str, list[Problem]], status: int = 200) -> HTMLResponse:
    ids = set(_names(values.get("incidents", "")))
    captions = services(request).entities.captions(actor, ids, lang=page_lang(request)) if ids else {}
    return _render(request, "proc_case_form.html", {
        "values": values, "errors": errors, "has_errors": bool(errors), "form_errors": errors.get("", []),
        "levels": CLEARANCES[: actor.clearance + 1], "captions": captions,
    }, status=status)


CASE_FIELDS = ("title", "summary", "incidents", "lead", "members", "supervisors", "classification")


@router.get("/cases/new")
def case_new_form(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("cases.open")
    incident = (request.query_params.get("incident_id") or "").strip()[:32]
    values = {k: "" for k in CASE_FIELDS}
    values.update(incidents=incident, classification="unclassified")
    return _case_form(request, actor, values=values, errors={})


@router.post("/cases/new")
def case_new_submit(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    lang = page_lang(request)
    values = {k: _text(form, k, 20000 if k == "summary" else 4000) for k in CASE_FIELDS}
    try:
        view = svc.cases.open(actor, title=values["title"], incidents=_names(values["incidents"]),
                              lead=values["lead"], members=_names(values["members"]),
                              supervisors=_names(values["supervisors"]), summary=values["summary"],
                              classification=values["classification"] or None)
    except ValidationFailed as exc:
        return _case_form(request, actor, values=values, errors=field_errors(exc, lang), status=422)
    return redirect(f"/cases/{view.id}")


def _case_page(request: Request, actor: Actor, view: CaseView, *, which: str = "",
               errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
               conflict: str = "", status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    role = next((m.role for m in view.team if m.username == actor.username), None)
    manager = role in ("lead", "supervisor") or actor.can("cases.supervise")
    final = view.state in ("closed", "archived")
    captions = svc.entities.captions(actor, set(view.incidents), lang=lang) if view.incidents else {}
    return _render(request, "proc_case.html", {
        "view": view, "role": role, "manager": manager, "can_work": not final and manager,
        "can_note": not final and (role is not None or actor.can("cases.supervise")),
        "captions": captions, "notes": [e for e in view.events if e.kind == "note"],
        "task_statuses": TASK_STATUSES, "which": which, "errors": errors or {}, "values": values or {},
        "conflict": conflict, "done": request.query_params.get("done", ""),
        "attachments": svc.attachments.list(actor, "case", view.id), "file_error": _file_error(request),
    }, status=status)


@router.get("/cases/{cid}")
def case_view(cid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    return _case_page(request, actor, services(request).cases.get(actor, cid))


def _case_change(request: Request, actor: Actor, cid: int, which: str, values: Mapping[str, str],
                 change: Any) -> Response:
    """Run ``change()``; on bad input or a refused change, the case page again with the message."""
    svc = services(request)
    lang = page_lang(request)
    try:
        change()
    except ValidationFailed as exc:
        return _case_page(request, actor, svc.cases.get(actor, cid), which=which, values=values,
                          errors=field_errors(exc, lang), status=422)
    except Conflict as exc:
        return _case_page(request, actor, svc.cases.get(actor, cid), which=which, values=values,
                          conflict=conflict_text(exc, "case", lang), status=409)
    return redirect(f"/cases/{cid}?done={which}#{which}")


@router.post("/cases/{cid}/state")
def case_state(cid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"target": _text(form, "target", 24), "reason": _text(form, "reason")}
    version = _version(form)
    return _case_change(request, actor, cid, "state", values, lambda: svc.cases.transition(
        actor, cid, values["target"], reason=values["reason"], version=version))


@router.post("/cases/{cid}/tasks")
def case_task_add(cid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {k: _text(form, k, 5000) for k in ("title", "assignee", "due_date", "details")}
    return _case_change(request, actor, cid, "tasks", values, lambda: svc.cases.add_task(
        actor, cid, title=values["title"][:300], assignee=values["assignee"][:64],
        due_date=values["due_date"][:10] or None, details=values["details"]))


@router.post("/cases/{cid}/tasks/{tid}/status")
def case_task_status(cid: int, tid: int, request: Request, actor: Actor = Who,
                     form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"status": _text(form, "status", 16)}
    return _case_change(request, actor, cid, "tasks", values,
                        lambda: svc.cases.set_task_status(actor, cid, tid, values["status"]))


@router.post("/cases/{cid}/notes")
def case_note_add(cid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"text": _text(form, "text", 20000)}
    return _case_change(request, actor, cid, "notes", values, lambda: svc.cases.add_note(actor, cid, values["text"]))


@router.post("/cases/{cid}/team")
def case_member_add(cid: int, request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    values = {"username": _text(form, "username", 64), "role": _text(form, "role", 16) or "member"}
    return _case_change(request, actor, cid, "team", values, lambda: svc.cases.add_member(
        actor, cid, values["username"], role=values["role"]))


# --------------------------------------------------------------------------- inbox


def inbox_message(kind: str, params: Mapping[str, Any], lang: str) -> Markup:
    key = f"proc.inbox.kinds.{kind}"
    if not has(key, lang):
        return escape(kind)
    clean = {k: ("—" if v is None else v) for k, v in params.items()}
    if kind.startswith("record.") and clean.get("action") in ("read", "history", "export", "update", "delete",
                                                              "share", "merge", "unmerge"):
        clean["action"] = t(f"proc.inbox.actions.{clean['action']}", lang)
    if kind == "case.team" and clean.get("role") in ("lead", "member", "supervisor"):
        clean["role"] = t(f"proc.team_roles.{clean['role']}", lang)
    return tx(key, lang, **clean)


@router.get("/inbox")
def inbox_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    items, unread = svc.inbox.list(actor, limit=100)
    request.state.web_unread = unread
    return _render(request, "proc_inbox.html", {
        "items": [(n, inbox_message(n.kind, n.params, lang), safe_next(n.link) if n.link else "") for n in items],
        "unread": unread,
    })


@router.get("/inbox/open/{nid}")
def inbox_open(nid: int, request: Request, actor: Actor = Who) -> Response:
    """Follow a notification's link, marking it read on the way."""
    link = services(request).inbox.open(actor, nid)
    return redirect(safe_next(link) if link else "/inbox")


@router.post("/inbox/read")
def inbox_read(request: Request, actor: Actor = Who, form: FormData = CsrfForm) -> Response:
    svc = services(request)
    raw = [str(v) for v in form.getlist("id")]
    ids = [int(v) for v in raw if v.isdigit()][:1000]
    svc.inbox.mark_read(actor, ids if raw else None)
    return redirect("/inbox")

