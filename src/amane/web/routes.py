"""The web UI: server-rendered pages (Jinja2 + htmx) in Arabic, French and English.

Thin, like the API: parse the request, call a service, render. Access rules and audit live
in the services; a page never decides what a user may see. Pages are signed in with the
session cookie (``amane_session``); every form POST carries the session's CSRF token (a
hidden ``csrf`` field, or the ``X-CSRF-Token`` header that htmx sends from ``<body
hx-headers>``), checked here with :func:`secrets.compare_digest`.
"""

from __future__ import annotations

import inspect
import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from amane.api.deps import SESSION_COOKIE, client_address, services
from amane.model.schema import EntitySchema, Property, Registry
from amane.model.types import LOCAL_TZ
from amane.services.audit_log import AuditQuery
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.entities import EntityView, ListQuery, VersionView
from amane.services.errors import (
    AuditUnavailable,
    AuthFailed,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from amane.services.roles import CLEARANCE_LABELS, CLEARANCES
from amane.services.search import PersonQuery
from amane.services.units import UnitView
from amane.store.tables import User
from amane.web.i18n import LANG_COOKIE, LANGUAGES, direction, has, normalise, t

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
LOGIN_CSRF_COOKIE = "amane_login_csrf"
PER_PAGE = 50
#: Selects with more choices than this become a text input with a suggestion list.
MAX_SELECT = 200
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=FileSystemLoader(str(WEB_DIR / "templates")),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------- request context


class LoginRequired(Exception):
    """No valid session: the page handler turns it into a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__("sign in first")
        self.next_url = next_url


@dataclass
class Me:
    """What the top bar shows about the signed-in user (read once per request)."""

    name: str
    unit: UnitView | None
    clearance: str


def page_lang(request: Request) -> str:
    """Cookie ``amane_lang``, else the user's language, else the configured default."""
    chosen = normalise(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    actor: Actor | None = getattr(request.state, "web_actor", None)
    if actor is not None and normalise(actor.language):
        return str(normalise(actor.language))
    svc: Services = request.app.state.services
    return normalise(svc.settings.default_language) or "fr"


def unit_map(request: Request) -> dict[str, UnitView]:
    cached: dict[str, UnitView] | None = getattr(request.state, "web_units", None)
    if cached is None:
        cached = {u.code: u for u in services(request).units.all()}
        request.state.web_units = cached
    return cached


def page_actor(request: Request) -> Actor:
    """The signed-in user behind the session cookie, or a redirect to the login page."""
    svc = services(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    found = svc.auth.session_actor(token, source=client_address(request)) if token else None
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    actor, csrf = found
    actor = actor.with_request(source=client_address(request))
    request.state.web_actor = actor
    request.state.csrf = csrf
    with svc.db.read() as s:
        full_name = (s.scalar(select(User.full_name).where(User.id == actor.user_id))
                     if actor.user_id else None)
    request.state.me = Me(
        name=full_name or actor.username,
        unit=unit_map(request).get(actor.unit_code),
        clearance=CLEARANCES[actor.clearance],
    )
    return actor


def _csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


async def csrf_form(request: Request, actor: Actor = Depends(page_actor)) -> FormData:
    """The posted form, once its CSRF token matched the session's (403 otherwise)."""
    form = await request.form()
    sent = str(form.get("csrf") or "") or request.headers.get("x-csrf-token", "")
    if not _csrf_ok(sent, getattr(request.state, "csrf", "")):
        raise Forbidden("csrf")
    return form


Who = Depends(page_actor)
Form = Depends(csrf_form)


# --------------------------------------------------------------------------- rendering helpers


def local_time(value: Any) -> str:
    """A timestamp in Moroccan local time (``2024-05-01 14:05``)."""
    if value is None or value == "":
        return ""
    when: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if when is None:
        return str(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def fmt_dt(value: Any) -> Markup:
    """:func:`local_time` kept left-to-right as one unit inside Arabic text."""
    return Markup('<span class="ts" dir="ltr">{}</span>').format(local_time(value))


def display_items(prop: Property | None, value: Any, lang: str) -> list[str]:
    """A stored value as display strings, one per item (multiple values stay apart, so each can be
    isolated for bidirectional text)."""
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    if prop is None:
        return [str(v) for v in items]
    return [prop.display(v, lang) for v in items]


_WHY_ROLES = (("given name", "given"), ("family name", "family"), ("father's name", "father"),
              ("mother's name", "mother"))


def localise_why(why: str, lang: str) -> str:
    """The search engine's explanation ("family name: العلوي ≈ Alaoui; given name: ...") with its
    words in the page language; the names and the marks (=, ≈, ~) stay as they are."""
    if why == "identifier: exact match":
        return t("records.why_parts.identifier", lang)
    parts = []
    for part in why.split("; "):
        for english, key in _WHY_ROLES:
            if part.startswith(english + ": "):
                part = t(f"records.why_parts.{key}", lang) + ": " + part[len(english) + 2:]
                break
        if part.endswith(": no match"):
            part = part[: -len(": no match")] + ": " + t("records.why_parts.no_match", lang)
        parts.append(part)
    return "؛ ".join(parts) if lang == "ar" else "; ".join(parts)


def render(request: Request, template: str, ctx: Mapping[str, Any] | None = None, *, status: int = 200,
           headers: Mapping[str, str] | None = None) -> HTMLResponse:
    lang = page_lang(request)
    units: dict[str, UnitView] = getattr(request.state, "web_units", None) or {}

    def tr(key: str, **values: Any) -> str:
        return t(key, lang, **values)

    def unit_name(code: str | None) -> str:
        if not code:
            return ""
        u = units.get(code)
        return u.name(lang) if u else code

    def clearance_label(name: str | int) -> str:
        key = CLEARANCES[name] if isinstance(name, int) else name
        return CLEARANCE_LABELS.get(key, {}).get(lang, key)

    def schema_label(name: str, plural: bool = False) -> str:
        svc: Services = request.app.state.services
        if name not in svc.registry:
            return name
        sch = svc.registry.get(name)
        return sch.plural_for(lang) if plural else sch.label_for(lang)

    def caption(view: Any) -> str:
        """A record's caption in the page language (enum labels translated), else the stored one."""
        svc: Services = request.app.state.services
        data = getattr(view, "data", None)
        if isinstance(data, Mapping) and view.schema in svc.registry:
            return svc.registry.get(view.schema).caption(data, lang) or str(view.caption)
        return str(getattr(view, "caption", ""))

    actor: Actor | None = getattr(request.state, "web_actor", None)
    context: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "dir": direction(lang),
        "languages": LANGUAGES,
        "t": tr,
        "actor": actor,
        "me": getattr(request.state, "me", None),
        "csrf": getattr(request.state, "csrf", "") if actor is not None else "",
        "path": request.url.path,
        "fmt_dt": fmt_dt,
        "list_sep": "، " if lang == "ar" else ", ",
        "unit_name": unit_name,
        "clearance_label": clearance_label,
        "schema_label": schema_label,
        "caption": caption,
        "has_t": lambda key: has(key, lang),
        "why_local": lambda why: localise_why(str(why), lang),
        "demo_notice": request.app.state.services.settings.demo_notice,
    }
    context.update(ctx or {})
    html = env.get_template(template).render(context)
    all_headers = dict(SECURITY_HEADERS)
    all_headers.update(headers or {})
    return HTMLResponse(html, status_code=status, headers=all_headers)


def error_message(err: FieldError, lang: str, schema: EntitySchema | None = None) -> str:
    """The localised message for a broken rule (the service's own message when none is known)."""
    key = f"rules.{err.rule}"
    if err.rule.endswith(".too_long") and not has(key, lang):
        key = "rules.too_long"
    if not has(key, lang):
        return err.message
    values: dict[str, Any] = {}
    if err.rule == "property.required_any" and schema is not None:
        names = [n for group in schema.required_any for n in group]
        sep = "، " if lang == "ar" else ", "
        values["fields"] = sep.join(schema.properties[n].label_for(lang) for n in names)
    return t(key, lang, **values)


@dataclass
class Problem:
    message: str
    detail: str


def group_errors(exc: ValidationFailed, lang: str,
                 schema: EntitySchema | None = None) -> dict[str, list[Problem]]:
    """Errors by form field: ``data.<prop>`` (item indexes folded), or the field name; ``""`` for the form."""
    out: dict[str, list[Problem]] = {}
    for err in exc.errors:
        name = err.field
        if name.startswith("data."):
            name = ".".join(name.split(".")[:2])
        elif name == "data":
            name = ""
        out.setdefault(name, []).append(Problem(error_message(err, lang, schema), err.message))
    return out


def _int(raw: str | None, default: int, *, low: int = 1, high: int = 100_000) -> int:
    try:
        return max(low, min(high, int(str(raw).strip())))
    except (TypeError, ValueError):
        return default


def safe_next(url: str | None) -> str:
    """Only local paths: never another host (no open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or url.startswith("/\\"):
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    return url


def get_schema(svc: Services, name: str) -> EntitySchema:
    if name not in svc.registry:
        raise NotFound("schema", name)
    return svc.registry.get(name)


def _set_cookie(response: Response, svc: Services, name: str, value: str, *, max_age: int | None = None,
                path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                        secure=svc.settings.secure_cookies)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- forms from the schema


@dataclass
class FormField:
    name: str
    label: str
    kind: str
    required: bool = False
    multiple: bool = False
    value: Any = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    errors: list[Problem] = field(default_factory=list)


def _value_to_input(prop: Property, value: Any) -> Any:
    """A stored (clean) value as the text a form input shows."""
    if value is None or value == "" or value == []:
        return {"lat": "", "lon": ""} if prop.input_kind == "coordinates" else ""
    if prop.input_kind == "coordinates" and isinstance(value, Mapping):
        return {"lat": str(value.get("lat", "")), "lon": str(value.get("lon", ""))}
    if prop.multiple:
        items = value if isinstance(value, list) else [value]
        if prop.options() is not None:
            return [str(v) for v in items]
        return "\n".join(str(v) for v in items)
    if isinstance(value, bool):
        return "true" if value else "false"
    if prop.input_kind == "datetime-local" and isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if prop.type.name == "integer" else str(value)
    return str(value)


def values_from_data(schema: EntitySchema, data: Mapping[str, Any]) -> dict[str, Any]:
    return {p.name: _value_to_input(p, data.get(p.name)) for p in schema.properties.values()}


def values_from_form(schema: EntitySchema, form: FormData) -> dict[str, Any]:
    """What the user typed, per property (kept to re-fill the form after an error)."""
    out: dict[str, Any] = {}
    for p in schema.properties.values():
        key = f"data.{p.name}"
        if p.input_kind == "coordinates":
            out[p.name] = {"lat": str(form.get(key + ".lat") or "")[:64],
                           "lon": str(form.get(key + ".lon") or "")[:64]}
        elif p.multiple and p.options() is not None and len(p.options() or []) <= MAX_SELECT:
            out[p.name] = [str(v) for v in form.getlist(key)]
        else:
            out[p.name] = str(form.get(key) or "")
    return out


_SPLIT = re.compile(r"[\r\n,]+")


def data_from_values(schema: EntitySchema, values: Mapping[str, Any]) -> dict[str, Any]:
    """The record data sent to the service: empty inputs left out, multiple values split."""
    data: dict[str, Any] = {}
    for p in schema.properties.values():
        raw = values.get(p.name)
        if p.input_kind == "coordinates" and isinstance(raw, Mapping):
            lat, lon = str(raw.get("lat", "")).strip(), str(raw.get("lon", "")).strip()
            if lat or lon:
                data[p.name] = {"lat": lat.replace(",", "."), "lon": lon.replace(",", ".")}
        elif isinstance(raw, list):
            items = [v for v in raw if v.strip()]
            if items:
                data[p.name] = items
        elif p.multiple:
            items = [v.strip() for v in _SPLIT.split(str(raw or "")) if v.strip()]
            if items:
                data[p.name] = items
        elif raw is not None and str(raw).strip():
            data[p.name] = str(raw)
    return data


def build_fields(schema: EntitySchema, values: Mapping[str, Any], errors: Mapping[str, list[Problem]],
                 lang: str, registry: Registry) -> list[FormField]:
    fields: list[FormField] = []
    for p in schema.properties.values():
        name = f"data.{p.name}"
        kind = p.input_kind
        options = p.options()
        ff = FormField(name=name, label=p.label_for(lang), kind=kind, required=p.required,
                       multiple=p.multiple, value=values.get(p.name, ""), errors=list(errors.get(name, [])))
        if options is not None:
            labelled = [(code, labels.get(lang) or labels.get("fr") or code) for code, labels in options]
            ff.options = labelled
            if len(labelled) > MAX_SELECT:
                ff.kind = "datalist"
                ff.hint = t("form.code_hint", lang)
            else:
                ff.kind = "multiselect" if p.multiple else "select"
        elif p.multiple:
            ff.kind = "multitext"
            ff.hint = t("form.multiple_hint", lang)
        elif kind == "entity":
            targets = [registry.get(n).label_for(lang) for n in p.range if n in registry]
            ff.hint = t("form.entity_hint", lang) + (f" ({', '.join(targets)})" if targets else "")
        fields.append(ff)
    return fields


def scope_units(actor: Actor, units: Mapping[str, UnitView]) -> list[UnitView]:
    """Units the actor may pick as owner: their own unit's subtree (every unit if national)."""
    out = []
    for u in units.values():
        if actor.national:
            out.append(u)
            continue
        code: str | None = u.code
        seen = 0
        while code and seen < 64:
            if code == actor.unit_code:
                out.append(u)
                break
            parent = units.get(code)
            code = parent.parent if parent else None
            seen += 1
    return out


def _render_form(request: Request, actor: Actor, schema: EntitySchema, *, values: Mapping[str, Any],
                 errors: Mapping[str, list[Problem]], meta: Mapping[str, Any], view: EntityView | None = None,
                 conflict_version: int | None = None, status: int = 200) -> HTMLResponse:
    lang = page_lang(request)
    units = unit_map(request)
    owners = scope_units(actor, units)
    owner = str(meta.get("owner_unit") or actor.unit_code)
    if owner and owner not in {u.code for u in owners} and owner in units:
        owners = [units[owner], *owners]
    ctx = {
        "schema": schema,
        "fields": build_fields(schema, values, errors, lang, services(request).registry),
        "form_errors": errors.get("", []),
        "meta_errors": {k: v for k, v in errors.items() if k and not k.startswith("data.")},
        "has_errors": bool(errors),
        "owners": owners,
        "owner": owner,
        "levels": CLEARANCES[: actor.clearance + 1],
        "classification": str(meta.get("classification") or "unclassified"),
        "reason": str(meta.get("reason") or ""),
        "version": meta.get("version"),
        "view": view,
        "conflict_version": conflict_version,
    }
    return render(request, "form.html", ctx, status=status)


# --------------------------------------------------------------------------- sign in / out, language


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    svc = services(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    nxt = safe_next(request.query_params.get("next"))
    res = render(request, "login.html", {"login_csrf": token, "next": nxt, "error": "", "username": ""})
    _set_cookie(res, svc, LOGIN_CSRF_COOKIE, token, path="/login")
    return res


async def _login_form_data(request: Request) -> FormData:
    return await request.form()


@router.post("/login")
def login_submit(request: Request, form: FormData = Depends(_login_form_data)) -> Response:
    svc = services(request)
    username = str(form.get("username") or "")[:64]
    nxt = safe_next(str(form.get("next") or "/"))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    fresh = secrets.token_urlsafe(24)
    if not _csrf_ok(str(form.get("csrf") or ""), expected):
        res = render(request, "login.html", {"login_csrf": fresh, "next": nxt, "error": t("login.expired",
                     page_lang(request)), "username": username}, status=400)
        _set_cookie(res, svc, LOGIN_CSRF_COOKIE, fresh, path="/login")
        return res
    try:
        result = svc.auth.login(username, str(form.get("password") or "")[:1024],
                                str(form.get("otp") or "")[:16], source=client_address(request))
    except AuthFailed:
        res = render(request, "login.html", {"login_csrf": fresh, "next": nxt, "error": t("login.failed",
                     page_lang(request)), "username": username}, status=401)
        _set_cookie(res, svc, LOGIN_CSRF_COOKIE, fresh, path="/login")
        return res
    done = redirect(nxt)
    _set_cookie(done, svc, SESSION_COOKIE, result.session_token, max_age=svc.settings.session_absolute_s)
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.post("/logout")
def logout(request: Request, form: FormData = Form) -> Response:
    svc = services(request)
    svc.auth.logout(request.cookies.get(SESSION_COOKIE, ""))
    res = redirect("/login")
    res.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                      secure=svc.settings.secure_cookies)
    return res


@router.get("/lang/{code}")
def set_language(code: str, request: Request) -> Response:
    lang = normalise(code)
    if lang is None or len(code) != 2:
        raise NotFound("language", code)
    back = "/"
    referer = request.headers.get("referer", "")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc and parts.netloc == request.headers.get("host"):
            back = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    res = redirect(back)
    res.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True, samesite="lax",
                   secure=services(request).settings.secure_cookies)
    return res


# --------------------------------------------------------------------------- pages


@router.get("/")
def home(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    units = unit_map(request)
    chain: list[UnitView] = []
    code: str | None = actor.unit_code
    while code and code in units and len(chain) < 32:
        chain.append(units[code])
        code = units[code].parent
    counts: list[tuple[EntitySchema, int]] = []
    recent: list[EntityView] = []
    if actor.can("records.read"):
        counts = [(s, svc.entities.count(actor, ListQuery(schema=s.name))) for s in svc.registry.entities()]
        recent = svc.entities.list(actor, ListQuery(per_page=10)).items
    return render(request, "home.html", {"unit": chain[0] if chain else None, "parents": chain[1:],
                                         "counts": counts, "recent": recent})


@router.get("/records")
def records_index(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    return render(request, "records.html", {"entities": svc.registry.entities(),
                                            "relations": svc.registry.relations()})


@router.get("/records/view/{eid}")
def record_view(eid: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    view = svc.entities.get(actor, eid)
    schema = svc.registry.get(view.schema)
    relations = svc.entities.relations(actor, eid)
    wanted = {rid for _, rid in schema.references(view.data)}
    rel_rows = []
    for rel in relations:
        rel_schema = svc.registry.get(rel.schema) if rel.schema in svc.registry else None
        others = [rid for _, rid in rel_schema.references(rel.data) if rid != eid] if rel_schema else []
        wanted.update(others)
        rel_rows.append((rel, rel_schema, others))
    captions = svc.entities.captions(actor, wanted, lang=lang)
    rows: list[tuple[Property, list[str], list[tuple[str, tuple[str, str] | None]]]] = []
    for p in schema.properties.values():
        value = view.data.get(p.name)
        if value is None or value == "" or value == []:
            continue
        if p.input_kind == "entity":
            ids = value if isinstance(value, list) else [value]
            rows.append((p, [], [(i, captions.get(i)) for i in ids]))
        else:
            rows.append((p, display_items(p, value, lang), []))
    identity = svc.resolution.identity(actor, eid) if schema.name == "Person" else None
    qp = request.query_params
    return render(request, "detail.html", {"view": view, "schema": schema, "rows": rows,
                                           "relations": rel_rows, "captions": captions, "identity": identity,
                                           "undone": qp.get("undone", ""), "error": qp.get("error", "")})


@router.get("/records/view/{eid}/history")
def record_history(eid: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    view = svc.entities.get(actor, eid)
    schema = svc.registry.get(view.schema)
    versions = svc.entities.history(actor, eid)
    entries = []
    for i, v in enumerate(versions):
        before = versions[i + 1] if i + 1 < len(versions) else None
        entries.append((v, diff_versions(schema, before, v, lang)))
    return render(request, "history.html", {"view": view, "schema": schema, "entries": entries})


@dataclass
class Change:
    label: str
    before: list[str]
    after: list[str]


def diff_versions(schema: EntitySchema, before: VersionView | None, after: VersionView,
                  lang: str) -> list[Change]:
    """What changed from one version to the next, property by property (plus owner and classification)."""
    old: Mapping[str, Any] = before.data if before else {}
    new: Mapping[str, Any] = after.data
    out: list[Change] = []
    names = list(schema.properties) + sorted((set(old) | set(new)) - set(schema.properties))
    for name in names:
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        prop = schema.properties.get(name)
        label = prop.label_for(lang) if prop else name
        out.append(Change(label, display_items(prop, a, lang), display_items(prop, b, lang)))
    if before is not None and before.owner_unit != after.owner_unit:
        out.append(Change(t("records.owner_unit", lang), [before.owner_unit], [after.owner_unit]))
    if before is not None and before.classification != after.classification:
        labels = CLEARANCE_LABELS
        out.append(Change(t("records.classification", lang),
                          [labels.get(before.classification, {}).get(lang, before.classification)],
                          [labels.get(after.classification, {}).get(lang, after.classification)]))
    return out


@router.get("/records/view/{eid}/edit")
def record_edit_form(eid: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    actor.require("records.update")
    view = svc.entities.get(actor, eid)
    schema = svc.registry.get(view.schema)
    meta = {"owner_unit": view.owner_unit, "classification": view.classification, "version": view.version}
    return _render_form(request, actor, schema, values=values_from_data(schema, view.data), errors={},
                        meta=meta, view=view)


@router.post("/records/view/{eid}/edit")
def record_edit_submit(eid: str, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    svc = services(request)
    lang = page_lang(request)
    view = svc.entities.get(actor, eid)
    schema = svc.registry.get(view.schema)
    values = values_from_form(schema, form)
    meta = {"owner_unit": str(form.get("owner_unit") or "")[:32],
            "classification": str(form.get("classification") or "")[:32],
            "reason": str(form.get("reason") or "")[:500], "version": str(form.get("version") or "")[:12]}
    try:
        version_text = str(meta["version"]).strip()
        if not version_text.isdigit():
            raise ValidationFailed([FieldError("version", "version.format", "the version must be a number")])
        updated = svc.entities.update(actor, eid, data_from_values(schema, values),
                                      expected_version=int(version_text), partial=False,
                                      classification=meta["classification"] or None,
                                      owner_unit=meta["owner_unit"] or None, reason=str(meta["reason"]))
    except ValidationFailed as exc:
        return _render_form(request, actor, schema, values=values, errors=group_errors(exc, lang, schema),
                            meta=meta, view=view, status=422)
    except Conflict as exc:
        current = exc.extra.get("current_version")
        return _render_form(request, actor, schema, values=values, errors={}, meta=meta, view=view,
                            conflict_version=int(current) if isinstance(current, int) else view.version,
                            status=409)
    return redirect(f"/records/view/{updated.id}")


@router.get("/records/{schema_name}")
def record_list(schema_name: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    schema = get_schema(svc, schema_name)
    qp = request.query_params
    q = (qp.get("q") or "").strip()[:200]
    purpose = (qp.get("purpose") or "").strip()[:500]
    page = _int(qp.get("page"), 1)
    errors: dict[str, list[Problem]] = {}
    result = None
    hits = None
    try:
        if schema.name == "Person" and q:
            # a name in either script, any order, typos: ranked by the person search engine
            hits = svc.persons.search(actor.with_request(purpose=purpose), PersonQuery(q, limit=50))
        else:
            result = svc.entities.list(actor.with_request(purpose=purpose),
                                       ListQuery(schema=schema.name, q=q or None, page=page, per_page=PER_PAGE))
    except ValidationFailed as exc:
        errors = group_errors(exc, lang, schema)
    pages = max(1, math.ceil(result.total / result.per_page)) if result else 1

    def page_url(n: int) -> str:
        params = {k: v for k, v in (("q", q), ("purpose", purpose), ("page", str(n))) if v}
        return f"/records/{schema.name}?{urlencode(params)}"

    return render(request, "list.html", {
        "schema": schema, "q": q, "purpose": purpose, "needs_purpose": schema.name == "Person",
        "result": result, "hits": hits, "errors": errors, "page": page, "pages": pages, "page_url": page_url,
    })


@router.get("/records/{schema_name}/new")
def record_new_form(schema_name: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    schema = get_schema(svc, schema_name)
    actor.require("records.create")
    return _render_form(request, actor, schema, values=values_from_data(schema, {}), errors={},
                        meta={"owner_unit": actor.unit_code, "classification": "unclassified"})


@router.post("/records/{schema_name}/new")
def record_new_submit(schema_name: str, request: Request, actor: Actor = Who,
                      form: FormData = Form) -> Response:
    svc = services(request)
    lang = page_lang(request)
    schema = get_schema(svc, schema_name)
    values = values_from_form(schema, form)
    meta = {"owner_unit": str(form.get("owner_unit") or "")[:32],
            "classification": str(form.get("classification") or "")[:32]}
    try:
        view = svc.entities.create(actor, schema.name, data_from_values(schema, values),
                                   owner_unit=meta["owner_unit"] or None,
                                   classification=meta["classification"] or None)
    except ValidationFailed as exc:
        return _render_form(request, actor, schema, values=values, errors=group_errors(exc, lang, schema),
                            meta=meta, status=422)
    except Conflict as exc:
        errs = ValidationFailed([FieldError(exc.field or "", exc.rule, str(exc))])
        return _render_form(request, actor, schema, values=values, errors=group_errors(errs, lang, schema),
                            meta=meta, status=409)
    return redirect(f"/records/view/{view.id}")


def _parse_day(raw: str, field_name: str, *, end: bool = False) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed([FieldError(field_name, "audit.date", "use YYYY-MM-DD")]) from None
    at = datetime.combine(day, time.min, tzinfo=UTC)
    return at + timedelta(days=1) if end else at


@router.get("/audit")
def audit_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    svc = services(request)
    lang = page_lang(request)
    qp = request.query_params
    names = ("username", "object_id", "action", "unit", "since", "until")
    terms = {k: (qp.get(k) or "").strip()[:100] for k in names}
    page = _int(qp.get("page"), 1)
    errors: dict[str, list[Problem]] = {}
    items: list[dict[str, Any]] = []
    total = 0
    try:
        since = _parse_day(terms["since"], "since")
        until = _parse_day(terms["until"], "until", end=True)
        query = AuditQuery(username=terms["username"] or None, object_id=terms["object_id"] or None,
                           action=terms["action"] or None, unit=terms["unit"] or None, since=since,
                           until=until, page=page, per_page=PER_PAGE)
        items, total = svc.audit_log.search(actor, query)
    except Forbidden:
        raise NotFound("page", "audit") from None  # not an auditor: the page does not exist for them
    except ValidationFailed as exc:
        for err in exc.errors:
            errors.setdefault(err.field, []).append(Problem(t("audit.bad_date", lang), err.message))
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        params = {k: v for k, v in terms.items() if v}
        params["page"] = str(n)
        return f"/audit?{urlencode(params)}"

    return render(request, "audit.html", {"terms": terms, "items": items, "total": total, "errors": errors,
                                          "page": page, "pages": pages, "page_url": page_url})


@router.get("/units")
def units_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    return render(request, "units.html", {"units": list(unit_map(request).values())})


# --------------------------------------------------------------------------- error pages


def _is_web(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path == "/api" or path.startswith("/static/"))


def error_page(request: Request, status: int) -> HTMLResponse:
    code = str(status) if has(f"errors.{status}.title", "fr") else "500"
    try:
        return render(request, "error.html", {"status": status, "code": code}, status=status)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        log.exception("rendering the error page failed")
        return HTMLResponse("<!doctype html><title>Error</title><h1>Error</h1>", status_code=status,
                            headers=SECURITY_HEADERS)


def _install_error_pages(app: FastAPI) -> None:
    from amane.api.problems import problem

    def wrap(exc_class: type[Exception] | int, status_of: Any) -> None:
        original = app.exception_handlers.get(exc_class)

        async def handler(request: Request, exc: Exception) -> Response:
            if _is_web(request):
                if isinstance(exc, LoginRequired):
                    url = "/login?" + urlencode({"next": exc.next_url})
                    if request.headers.get("hx-request"):
                        return Response(status_code=204, headers={"HX-Redirect": url})
                    return redirect(url)
                status = status_of(exc)
                if status >= 500:
                    log.error("error on %s", request.url.path, exc_info=exc)
                return error_page(request, status)
            if original is not None:
                result = original(request, exc)
                if inspect.isawaitable(result):
                    result = await result
                return result
            if isinstance(exc, LoginRequired):
                return problem(401, "Not signed in")
            return problem(500, "Internal error", type_="/problems/internal")

        app.add_exception_handler(exc_class, handler)

    wrap(LoginRequired, lambda e: 303)
    wrap(NotFound, lambda e: 404)
    wrap(Forbidden, lambda e: 403)
    wrap(AuditUnavailable, lambda e: 503)
    wrap(ValidationFailed, lambda e: 400)
    wrap(RequestValidationError, lambda e: 400)
    wrap(StarletteHTTPException, lambda e: e.status_code)
    wrap(Exception, lambda e: 500)


# --------------------------------------------------------------------------- install


def install(app: FastAPI) -> None:
    """Mount the static files and the pages, and serve the API docs from local assets."""
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.router.routes[:] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path == "/api/docs")
    ]

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Amane API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None},
        )

    from amane.web.attachments import router as attachments_router
    from amane.web.labs import router as labs_router
    from amane.web.monitoring import router as monitoring_router
    from amane.web.procedures import router as procedures_router
    from amane.web.review import router as review_router
    from amane.web.watch import router as watch_router

    app.include_router(router)
    app.include_router(review_router)
    app.include_router(attachments_router)
    app.include_router(procedures_router)
    app.include_router(monitoring_router)
    app.include_router(watch_router)
    app.include_router(labs_router)
    _install_error_pages(app)
