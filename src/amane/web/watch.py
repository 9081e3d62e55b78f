"""Pages of the cyber and open-source watch: the dashboard (volume by category over time, by
source, language shares, open alerts), the item list and the item view (text with the evidence,
watchlist hits and selectors highlighted, scores, the records that hold its selectors), the
alert triage queue, the watchlist editor, the upload form with its ingest report and the
STIX/MISP export.

Thin like the other pages: parse, call :class:`~amane.services.watch.WatchService` (need-to-know,
the ``watch.*`` capabilities and audit live there), render. An item or alert the user may not
see answers with the same 404 page as a missing one, because the service raises the same error.

Two small things are written by hand here because no library does them for this case: the
stacked-bar chart geometry (inline SVG like the monitoring pages: no chart library, no request
leaves the server, nothing styled inline under the page's CSP) and :func:`highlight_segments`,
which cuts a text at every boundary of possibly overlapping spans so that each piece is rendered
as escaped text inside one element carrying the classes of every span covering it (no nesting,
no raw HTML).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from amane.api import jobs
from amane.api.deps import services
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.web.i18n import has, t
from amane.web.monitoring import _nice_max as _round_max
from amane.web.monitoring import fmt_int, fmt_num, fmt_pct, ltr
from amane.web.routes import (
    SECURITY_HEADERS,
    Form,
    Problem,
    Who,
    _int,
    page_lang,
    redirect,
    render,
    safe_next,
    scope_units,
    unit_map,
)

router = APIRouter(include_in_schema=False)

#: Days offered on the dashboard.
DASH_DAYS = (7, 30, 90)
PER_PAGE = 50
#: The engine's vocabularies, copied so that the pages load without the classifier (scikit-learn) and
#: STIX libraries; ``tests/web/test_watch_pages.py`` checks they equal ``amane.watch``'s own.
#: Categories of the classifier (``amane.watch.classify.CATEGORIES``), in the order the pages show them.
CATEGORIES = ("drugs", "migrant_smuggling", "human_trafficking", "terrorism", "carding", "hacking", "weapons",
              "other")
ALERT_STATUSES = ("open", "relevant", "not_relevant", "escalated")
ITEM_STATUSES = ("new", "relevant", "not_relevant", "escalated")
LANGUAGES = ("ar", "fr", "en", "darija_ar", "darija_latn", "mixed", "unknown")
VERDICTS = ("relevant", "not_relevant", "escalated")
TERM_KINDS = ("keyword", "phrase", "regex", "name")
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
EXPORT_FORMATS = ("stix", "misp")
INGEST_FORMATS = ("auto", "html", "text", "pdf", "telegram", "jsonl", "rss")
#: Upload suffixes kept for the readers' format detection (as the API does).
SUFFIXES = (".json", ".jsonl", ".ndjson", ".html", ".htm", ".txt", ".pdf", ".xml", ".rss", ".atom", ".zip")


# --------------------------------------------------------------------------- labels and errors


def category_label(cat: str | None, lang: str) -> str:
    key = f"watch.categories.{cat or 'none'}"
    return t(key, lang) if has(key, lang) else str(cat)


def language_label(code: str | None, lang: str) -> str:
    key = f"watch.languages.{code or 'unknown'}"
    return t(key, lang) if has(key, lang) else str(code)


def problem_of(err: FieldError, lang: str) -> Problem:
    """The broken rule in the page language, naming the field; the service's own words as detail."""
    key = f"watch.rules.{err.rule}"
    msg = t(key, lang, message=ltr(err.message)) if has(key, lang) else err.message
    fkey = f"watch.fields.{err.field}"
    name = t(fkey, lang) if has(fkey, lang) else err.field
    if name:
        msg = f"{name} : {msg}" if lang == "fr" else f"{name}: {msg}"
    return Problem(msg, f"{err.field} · {err.rule} — {err.message}")


def problems_by_field(exc: ValidationFailed, lang: str) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for err in exc.errors:
        out.setdefault(err.field, []).append(problem_of(err, lang))
    return out


def conflict_problem(exc: Conflict, lang: str) -> Problem:
    """An illegal triage step, with the steps that are allowed from the alert's state."""
    state = str(exc.extra.get("state") or "")
    raw: Any = exc.extra.get("allowed") or []
    allowed = [str(a) for a in raw]
    sep = "، " if lang == "ar" else ", "
    if allowed:
        msg = t("watch.rules.state.transition", lang, state=t(f"watch.status.{state}", lang),
                allowed=sep.join(t(f"watch.status.{a}", lang) for a in allowed))
    else:
        msg = t("watch.rules.state.final", lang, state=t(f"watch.status.{state}", lang))
    return Problem(msg, f"{exc.field or 'state'} · {exc.rule} — {exc}")


# --------------------------------------------------------------------------- highlighting


@dataclass
class Segment:
    """A piece of the item's text and the marks that cover all of it."""

    text: str
    classes: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()

    @property
    def css(self) -> str:
        """The classes of every covering span; ``ev-multi`` where evidence of several categories overlaps."""
        tokens = list(dict.fromkeys(" ".join(self.classes).split()))
        if sum(1 for x in tokens if x.startswith("ev-")) > 1:
            tokens.append("ev-multi")
        return " ".join(tokens)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str
    title: str


def highlight_segments(text: str, spans: Iterable[Span]) -> list[Segment]:
    """``text`` cut at every span boundary; each piece carries the classes and titles of the spans
    covering it. Spans outside the text are clipped, empty ones dropped; overlapping spans simply
    give a piece several classes."""
    n = len(text)
    clean = [Span(max(0, min(s.start, n)), max(0, min(s.end, n)), s.css, s.title) for s in spans]
    clean = [s for s in clean if s.end > s.start]
    cuts = sorted({0, n, *(s.start for s in clean), *(s.end for s in clean)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if b <= a:
            continue
        covering = [s for s in clean if s.start <= a and s.end >= b]
        classes = tuple(dict.fromkeys(s.css for s in covering))
        titles = tuple(dict.fromkeys(s.title for s in covering if s.title))
        if out and out[-1].classes == classes and out[-1].titles == titles:
            out[-1].text += text[a:b]
        else:
            out.append(Segment(text[a:b], classes, titles))
    return out


def item_spans(item: Mapping[str, Any], lang: str) -> list[Span]:
    """Evidence per category, watchlist hits and selectors of a service item, as spans."""
    spans: list[Span] = []
    marks = item.get("marks") or {}
    for cat, rows in (marks.get("evidence") or {}).items():
        for row in rows or ():
            try:
                start, end = int(row[0]), int(row[1])
            except (TypeError, ValueError, IndexError):
                continue
            spans.append(Span(start, end, f"ev ev-{cat}" if cat in CATEGORIES else "ev ev-other",
                              category_label(cat, lang)))
    terms = item.get("terms") or {}
    for h in marks.get("hits") or ():
        try:
            start, end = int(h["start"]), int(h["end"])
        except (KeyError, TypeError, ValueError):
            continue
        term = terms.get(str(h.get("term"))) or {}
        label = term.get("label") or term.get("pattern") or str(h.get("matched") or "")
        spans.append(Span(start, end, "hit", t("watch.item.hit_title", lang, term=label)))
    for s in item.get("selectors") or ():
        try:
            start, end = int(s["start"]), int(s["end"])
        except (KeyError, TypeError, ValueError):
            continue
        spans.append(Span(start, end, "sel", t("watch.item.selector_title", lang, kind=selector_kind(s["kind"], lang),
                                                   value=s.get("value", ""))))
    return spans


def selector_kind(kind: str, lang: str) -> str:
    key = f"watch.selector_kinds.{kind}"
    return t(key, lang) if has(key, lang) else kind


# --------------------------------------------------------------------------- stacked bars


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    css: str
    title: str


@dataclass
class StackedChart:
    """Geometry of a stacked-bar chart per day (time runs left to right in every language)."""

    id: str
    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    bars: list[Bar]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    dates: list[str]
    series: list[tuple[str, str, list[int]]]  # (key, label, values)
    y_max: float = 0.0

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def _nice_max(v: float) -> float:
    """The monitoring charts' round axis top, at least 1 (counts of posts)."""
    return max(_round_max(v), 1.0)


def stacked_chart(chart_id: str, title: str, dates: Sequence[str], series: Sequence[tuple[str, str, list[int]]],
                  lang: str, *, width: int = 1100, height: int = 230) -> StackedChart:
    left, right, top, bottom = 40, 10, 10, 24
    n = max(1, len(dates))
    totals = [sum(s[2][i] for s in series if i < len(s[2])) for i in range(len(dates))]
    y_max = _nice_max(float(max(totals, default=0)))
    pw, ph = width - left - right, height - top - bottom
    slot = pw / n
    bw = max(1.0, slot * 0.75)
    bars: list[Bar] = []
    for i, d in enumerate(dates):
        base = 0
        for key, label, values in series:
            v = values[i] if i < len(values) else 0
            if not v:
                continue
            y0 = top + ph - ph * base / y_max
            y1 = top + ph - ph * (base + v) / y_max
            bars.append(Bar(round(left + slot * i + (slot - bw) / 2, 2), round(y1, 2), round(bw, 2),
                            round(y0 - y1, 2), f"wc-{key}", f"{d} · {label}: {fmt_int(v, lang)}"))
            base += v
    ticks = [(round(top + ph - ph * f, 1), fmt_int(y_max * f, lang) if (y_max * f).is_integer()
              else fmt_num(y_max * f, lang)) for f in (0, 0.5, 1)]
    step = max(1, math.ceil(len(dates) / 8))
    marks = []
    for i, d in enumerate(dates):
        if i % step == 0:
            day = date.fromisoformat(d)
            marks.append((round(left + slot * i + slot / 2, 1), day.strftime("%d/%m")))
    return StackedChart(chart_id, title, width, height, left, top, right, bottom, bars, marks, ticks, list(dates),
                        list(series), y_max)


# --------------------------------------------------------------------------- common context


def chosen_labels(alert: Mapping[str, Any], item: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """Categories ticked in a triage form: what the user sent, else the labels already confirmed,
    else the categories that raised the alert, else the item's top category."""
    if values.get("labels"):
        return list(values["labels"])
    if item.get("labels") is not None:
        return list(item["labels"])
    raised = [str(r.get("category")) for r in alert.get("reasons") or () if r.get("rule") == "category"]
    return raised or ([str(item["top_category"])] if item.get("top_category") else [])


def _common(request: Request) -> dict[str, Any]:
    lang = page_lang(request)
    return {
        "fmt_int": lambda n: fmt_int(n, lang), "fmt_num": lambda x, d=1: fmt_num(x, lang, d),
        "fmt_pct": lambda x, d=0: fmt_pct(x, lang, d, fraction=True), "ltr": ltr,
        "cat_label": lambda c: category_label(c, lang), "lang_label": lambda c: language_label(c, lang),
        "sel_kind": lambda k: selector_kind(k, lang),
        "status_label": lambda s: t(f"watch.status.{s}", lang) if has(f"watch.status.{s}", lang) else s,
        "categories": CATEGORIES, "chosen_labels": chosen_labels,
    }


def _page(request: Request, template: str, ctx: Mapping[str, Any], *, status: int = 200,
          headers: Mapping[str, str] | None = None) -> HTMLResponse:
    full = _common(request)
    full.update(ctx)
    return render(request, template, full, status=status, headers=headers)


def _choice(raw: str | None, allowed: Sequence[Any], default: Any) -> Any:
    raw = (raw or "").strip()
    for a in allowed:
        if str(a) == raw:
            return a
    return default


def _text(form: FormData, name: str, limit: int = 1000) -> str:
    return str(form.get(name) or "").strip()[:limit]


# --------------------------------------------------------------------------- dashboard


@router.get("/watch")
def dashboard(request: Request, actor: Actor = Who) -> HTMLResponse:
    lang = page_lang(request)
    svc = services(request).watch
    days = _choice(request.query_params.get("days"), DASH_DAYS, 30)
    data = svc.dashboard(actor, days=days)
    sources = svc.sources(actor)
    dates: list[str] = list(data["dates"])
    by_cat: dict[str, list[int]] = data["by_category"]
    order = [c for c in (*CATEGORIES, "none") if c in by_cat] + sorted(c for c in by_cat if c not in CATEGORIES
                                                                       and c != "none")
    series = [(c if c in CATEGORIES or c == "none" else "other", category_label(c, lang), list(by_cat[c]))
              for c in order]
    chart = stacked_chart("watch-volume", t("watch.dash.volume_title", lang, n=days), dates, series, lang)
    cat_rows = sorted(((k, label, sum(v)) for k, label, v in series), key=lambda r: -r[2])
    src_rows = sorted(((name, sum(v)) for name, v in data["by_source"].items()), key=lambda r: (-r[1], r[0]))
    total = sum(data["languages"].values())
    lang_rows = sorted(((code, n, n / total if total else 0.0) for code, n in data["languages"].items()),
                       key=lambda r: -r[1])
    ctx = {"d": data, "days": days, "dash_days": DASH_DAYS, "chart": chart, "cat_rows": cat_rows,
           "cat_max": max((r[2] for r in cat_rows), default=0), "src_rows": src_rows,
           "src_max": max((r[1] for r in src_rows), default=0), "lang_rows": lang_rows,
           "empty": not any(s["items"] for s in sources), "sources": sources}
    return _page(request, "watch_dashboard.html", ctx)


# --------------------------------------------------------------------------- items


@router.get("/watch/items")
def items_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    lang = page_lang(request)
    svc = services(request).watch
    qp = request.query_params
    f = {"category": _choice(qp.get("category"), (*CATEGORIES, "none"), ""),
         "source": (qp.get("source") or "").strip()[:120],
         "status": _choice(qp.get("status"), ITEM_STATUSES, ""),
         "language": _choice(qp.get("language"), LANGUAGES, ""),
         "since": (qp.get("since") or "").strip()[:20], "q": (qp.get("q") or "").strip()[:200]}
    page = _int(qp.get("page"), 1)
    errors: dict[str, list[Problem]] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    try:
        rows, total = svc.items(actor, category=f["category"] or None, source=f["source"] or None,
                                status=f["status"] or None, language=f["language"] or None,
                                since=f["since"] or None, q=f["q"] or None, page=page, per_page=PER_PAGE)
    except ValidationFailed as exc:
        errors = problems_by_field(exc, lang)
    pages = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/watch/items?" + urlencode({k: v for k, v in {**f, "page": n}.items() if v})

    ctx = {"rows": rows, "total": total, "page": page, "pages": pages, "page_url": page_url, "f": f,
           "errors": errors, "sources": svc.sources(actor), "item_statuses": ITEM_STATUSES,
           "languages_list": LANGUAGES}
    return _page(request, "watch_items.html", ctx, status=400 if errors else 200)


def _item_ctx(request: Request, actor: Actor, iid: int) -> dict[str, Any]:
    lang = page_lang(request)
    item = services(request).watch.item(actor, iid)
    text = str(item.get("text") or "")
    segments = highlight_segments(text, item_spans(item, lang))
    present = sorted({c for c in (item.get("marks") or {}).get("evidence", {}) if c in CATEGORIES},
                     key=CATEGORIES.index)
    hit_terms = []
    seen: set[str] = set()
    for h in (item.get("marks") or {}).get("hits") or ():
        key = str(h.get("term"))
        if key in seen:
            continue
        seen.add(key)
        term = (item.get("terms") or {}).get(key) or {}
        hit_terms.append({"id": key, "matched": h.get("matched", ""), **term})
    term_names = {k: str(v.get("label") or v.get("pattern") or k) for k, v in (item.get("terms") or {}).items()}
    return {"it": item, "segments": segments, "legend": present, "hit_terms": hit_terms, "term_names": term_names,
            "has_hits": bool(hit_terms), "has_selectors": bool(item.get("selectors"))}


@router.get("/watch/items/{iid}")
def item_page(iid: int, request: Request, actor: Actor = Who) -> HTMLResponse:
    ctx = _item_ctx(request, actor, iid)
    ctx.update({"triage_errors": [], "values": {}, "done": request.query_params.get("done") == "triage"})
    return _page(request, "watch_item.html", ctx)


# --------------------------------------------------------------------------- alerts


def _alerts_ctx(request: Request, actor: Actor, status: str, page: int) -> dict[str, Any]:
    svc = services(request).watch
    rows, total = svc.alerts(actor, status=status, page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    wanted = {str(r.get("term")) for a in rows for r in a.get("reasons") or () if r.get("rule") == "watchlist"}
    term_names = ({str(x["id"]): str(x.get("label") or x.get("pattern")) for x in svc.terms(actor)
                   if str(x["id"]) in wanted} if wanted else {})
    return {"rows": rows, "total": total, "page": page, "pages": pages, "status": status, "term_names": term_names,
            "statuses": ALERT_STATUSES,
            "page_url": lambda n: "/watch/alerts?" + urlencode({"status": status, "page": n}),
            "errors": {}, "values": {}, "done": request.query_params.get("done") == "triage"}


@router.get("/watch/alerts")
def alerts_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    qp = request.query_params
    status = _choice(qp.get("status"), ALERT_STATUSES, "open")
    ctx = _alerts_ctx(request, actor, status, _int(qp.get("page"), 1))
    return _page(request, "watch_alerts.html", ctx)


@router.post("/watch/alerts/{alert_id}/triage")
def triage(alert_id: int, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    """Record a verdict; back to the page the form came from, or that page again with the error."""
    lang = page_lang(request)
    svc = services(request).watch
    verdict = _text(form, "verdict", 16)
    # ticked categories are the analyst's labels; none ticked leaves the service's default
    labels = [str(x)[:32] for x in form.getlist("labels")] or None
    note = str(form.get("note") or "").strip()[:2100]
    raw_case = _text(form, "case_id", 20)
    back = safe_next(_text(form, "next", 500) or "/watch/alerts")
    values = {"verdict": verdict, "note": note, "case_id": raw_case, "labels": labels or []}
    problems: list[Problem] = []
    case_id: int | None = None
    if raw_case:
        if raw_case.isdigit():
            case_id = int(raw_case)
        else:
            problems.append(problem_of(FieldError("case_id", "integer", "a case number (digits)"), lang))
    if not problems:
        try:
            svc.triage(actor, alert_id, verdict, labels=labels, note=note, case_id=case_id)
        except ValidationFailed as exc:
            problems = [problem_of(e, lang) for e in exc.errors]
        except Conflict as exc:
            problems = [conflict_problem(exc, lang)]
        except NotFound as exc:
            if exc.what != "case":
                raise
            problems = [problem_of(FieldError("case_id", "case.unknown", f"no case {case_id} you may see"), lang)]
        else:
            sep = "&" if "?" in back else "?"
            return redirect(f"{back}{sep}done=triage")
    # the page the form came from, with the message beside the alert
    if back.startswith("/watch/items/"):
        item_id = back.split("?")[0].rsplit("/", 1)[-1]
        if item_id.isdigit():
            ctx = _item_ctx(request, actor, int(item_id))
            ctx.update({"triage_errors": problems, "values": values, "done": False})
            return _page(request, "watch_item.html", ctx, status=409 if any(
                "state.transition" in p.detail for p in problems) else 422)
    params = dict(parse_qsl(urlsplit(back).query))
    ctx = _alerts_ctx(request, actor, _choice(params.get("status"), ALERT_STATUSES, "open"),
                      _int(params.get("page"), 1))
    ctx.update({"errors": {alert_id: problems}, "values": {alert_id: values}})
    status = 409 if any("state.transition" in p.detail for p in problems) else 422
    return _page(request, "watch_alerts.html", ctx, status=status)


# --------------------------------------------------------------------------- watchlist terms


def _terms_page(request: Request, actor: Actor, *, errors: Mapping[str, list[Problem]] | None = None,
                values: Mapping[str, str] | None = None, status: int = 200) -> HTMLResponse:
    removable = {u.code for u in scope_units(actor, unit_map(request))}
    ctx = {"terms": services(request).watch.terms(actor), "errors": dict(errors or {}), "removable": removable,
           "values": dict(values or {}), "term_kinds": TERM_KINDS,
           "done": request.query_params.get("done", "") if status == 200 else ""}
    return _page(request, "watch_terms.html", ctx, status=status)


@router.get("/watch/terms")
def terms_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    return _terms_page(request, actor)


@router.post("/watch/terms")
def term_add(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    lang = page_lang(request)
    values = {"kind": _text(form, "kind", 16), "pattern": _text(form, "pattern", 600),
              "category": _text(form, "category", 32), "label": _text(form, "label", 300),
              "unit": _text(form, "unit", 32).upper()}
    try:
        services(request).watch.add_term(actor, values["kind"], values["pattern"], category=values["category"] or None,
                                         label=values["label"], unit=values["unit"] or None)
    except ValidationFailed as exc:
        return _terms_page(request, actor, errors=problems_by_field(exc, lang), values=values, status=422)
    return redirect("/watch/terms?done=added")


@router.post("/watch/terms/{term_id}/remove")
def term_remove(term_id: int, request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    services(request).watch.remove_term(actor, term_id)
    return redirect("/watch/terms?done=removed")


# --------------------------------------------------------------------------- upload


def _upload_page(request: Request, *, report: Mapping[str, Any] | None = None,
                 errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
                 status: int = 200) -> HTMLResponse:
    ctx = {"report": report, "skipped": _skipped(report, page_lang(request)), "errors": dict(errors or {}),
           "values": dict(values or {"format": "auto"}), "formats": INGEST_FORMATS}
    return _page(request, "watch_upload.html", ctx, status=status)


@router.get("/watch/upload")
def upload_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("watch.ingest")
    return _upload_page(request)


@router.post("/watch/upload")
async def upload_submit(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    """Ingest the uploaded file (in a worker thread) and show the report on the page."""
    actor.require("watch.ingest")
    lang = page_lang(request)
    values = {"source": _text(form, "source", 200), "format": _text(form, "format", 16) or "auto"}
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_page(request, errors={"file": [problem_of(FieldError("file", "property.required",
                                                                            "choose a file"), lang)]},
                            values=values, status=422)
    if values["format"] not in INGEST_FORMATS:
        return _upload_page(request, errors={"format": [problem_of(FieldError(
            "format", "enum", f"one of {', '.join(INGEST_FORMATS)}"), lang)]}, values=values, status=422)
    name = os.path.basename(file.filename)
    suffix = Path(name).suffix.lower()
    folder = tempfile.mkdtemp(prefix="amane-watch-web-")
    try:
        # the user's file name (made safe) so that the report's locations are the ones they know
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:80] or "upload"
        path = Path(folder) / (stem + (suffix if suffix in SUFFIXES else ""))
        with open(path, "wb") as out:
            await run_in_threadpool(shutil.copyfileobj, file.file, out, 1024 * 1024)
        svc = services(request).watch
        report = await run_in_threadpool(lambda: svc.ingest_path(actor, path, source=values["source"],
                                                                 fmt=values["format"]).as_dict())
    except ValidationFailed as exc:
        return _upload_page(request, errors=problems_by_field(exc, lang), values=values, status=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _upload_page(request, report=report, values=values)


# --------------------------------------------------------------------------- crawl

CRAWL_DEFAULTS = {"seeds": "", "source": "", "max_pages": "50", "max_depth": "1", "delay": "1", "timeout": "15",
                  "robots": "on"}


def _skipped(report: Mapping[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """The report's skipped parts with their reason in the page language."""
    out = []
    for s in (report or {}).get("skipped", []):
        key = f"watch.skip_reasons.{s.get('reason')}"
        out.append({**s, "reason_label": t(key, lang) if has(key, lang) else s.get("reason", "")})
    return out


def _crawl_page(request: Request, *, errors: Mapping[str, list[Problem]] | None = None,
                values: Mapping[str, str] | None = None, status: int = 200) -> HTMLResponse:
    ctx = {"errors": dict(errors or {}), "values": dict(values or CRAWL_DEFAULTS), "job": None}
    return _page(request, "watch_crawl.html", ctx, status=status)


@router.get("/watch/crawl")
def crawl_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("watch.ingest")
    return _crawl_page(request)


def _number(form: FormData, name: str, errors: list[FieldError], *, integer: bool) -> float:
    raw = _text(form, name, 32).replace(",", ".")
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        errors.append(FieldError(name, "integer" if integer else "number", "a number is expected"))
        return 0


@router.post("/watch/crawl")
def crawl_submit(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    """Check the form (field errors shown in place, nothing fetched), then collect in a background
    job and send the user to its progress page."""
    actor.require("watch.ingest")
    lang = page_lang(request)
    values = {k: _text(form, k, 30_000 if k == "seeds" else 200) for k in CRAWL_DEFAULTS}
    values["robots"] = "on" if form.get("robots") else ""
    seeds = [line.strip() for line in values["seeds"].splitlines() if line.strip()]
    errors: list[FieldError] = []
    if not values["source"]:
        errors.append(FieldError("source", "property.required", "give the collection a name"))
    max_pages = int(_number(form, "max_pages", errors, integer=True))
    max_depth = int(_number(form, "max_depth", errors, integer=True))
    delay = _number(form, "delay", errors, integer=False)
    timeout = _number(form, "timeout", errors, integer=False)
    svc = services(request).watch
    try:
        seeds = svc.check_crawl(seeds, max_pages=max_pages, max_depth=max_depth, delay=delay, timeout=timeout)
    except ValidationFailed as exc:  # the service's rules, but for a field already flagged as not a number
        flagged = {e.field for e in errors}
        errors.extend(e for e in exc.errors if e.field not in flagged)
    if errors:
        return _crawl_page(request, errors=problems_by_field(ValidationFailed(errors), lang), values=values, status=422)
    source, robots = values["source"], bool(values["robots"])

    def work(progress: jobs.Progress) -> dict[str, Any]:
        report = svc.crawl(actor, seeds, source=source, max_pages=max_pages, max_depth=max_depth, delay=delay,
                           timeout=timeout, robots=robots,
                           progress=lambda done, total: progress("crawl", done, total))
        return report.as_dict()

    job = jobs.start("crawl", actor.username, work, label=source, directory=jobs.folder(services(request)))
    return redirect(f"/watch/crawl/{job.id}")


@router.get("/watch/crawl/{job_id}")
def crawl_job(job_id: str, request: Request, actor: Actor = Who) -> HTMLResponse:
    """The job's progress (the page polls itself with htmx until it is finished), then its report."""
    actor.require("watch.ingest")
    job = jobs.get("crawl", actor.username, job_id, directory=jobs.folder(services(request)))
    report = job.result if job.finished else None
    ctx = {"job": job, "report": report, "skipped": _skipped(report, page_lang(request)), "errors": {},
           "values": CRAWL_DEFAULTS}
    return _page(request, "watch_crawl.html", ctx)


# --------------------------------------------------------------------------- export


def _export_page(request: Request, *, errors: Mapping[str, list[Problem]] | None = None,
                 values: Mapping[str, str] | None = None, status: int = 200) -> HTMLResponse:
    ctx = {"errors": dict(errors or {}), "values": dict(values or {"tlp": "amber", "format": "stix", "since": ""}),
           "tlp_levels": TLP_LEVELS, "export_formats": EXPORT_FORMATS}
    return _page(request, "watch_export.html", ctx, status=status)


@router.get("/watch/export")
def export_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    actor.require("watch.export")
    return _export_page(request)


@router.post("/watch/export")
def export_submit(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    """The bundle as a JSON file to save (``Content-Disposition: attachment``)."""
    lang = page_lang(request)
    values = {"since": _text(form, "since", 30), "tlp": _text(form, "tlp", 16), "format": _text(form, "format", 8)}
    try:
        data = services(request).watch.export(actor, since=values["since"] or None, tlp=values["tlp"],
                                              fmt=values["format"])
    except ValidationFailed as exc:
        return _export_page(request, errors=problems_by_field(exc, lang), values=values, status=422)
    stamp = date.today().isoformat()
    name = f"amane-watch-{values['format']}-{values['tlp'].replace('+', '-')}-{stamp}.json"
    headers = dict(SECURITY_HEADERS)
    headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return JSONResponse(data, headers=headers)


# --------------------------------------------------------------------------- partner indicators

#: Largest STIX bundle accepted from the web form (the parser's own limit).
STIX_MAX_BYTES = 64 * 2**20


def _indicators_page(request: Request, actor: Actor, *, report: Mapping[str, Any] | None = None,
                     errors: Mapping[str, list[Problem]] | None = None, values: Mapping[str, str] | None = None,
                     status: int = 200) -> HTMLResponse:
    rows = services(request).watch.indicators(actor)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    skipped = [{"object": o["object"], "rule": o["reason"].split(":", 1)[0],
                "detail": o["reason"].split(":", 1)[1].strip() if ":" in o["reason"] else ""}
               for o in (report or {}).get("skipped", [])]
    ctx = {"indicators": rows, "kinds": sorted(kinds.items(), key=lambda kv: -kv[1]), "report": report,
           "skipped": skipped, "errors": dict(errors or {}), "values": dict(values or {})}
    return _page(request, "watch_indicators.html", ctx, status=status)


@router.get("/watch/indicators")
def indicators_page(request: Request, actor: Actor = Who) -> HTMLResponse:
    """Partners' indicators held (they make a selector "known" when it appears in collected
    content), and, for those who may exchange, the import of a partner's STIX bundle."""
    actor.require("watch.read")
    return _indicators_page(request, actor)


@router.post("/watch/indicators")
async def indicators_import(request: Request, actor: Actor = Who, form: FormData = Form) -> Response:
    """Import a partner's STIX 2.1 bundle (idempotent: indicators already held are counted, not
    added again) and show the report."""
    actor.require("watch.export")
    lang = page_lang(request)
    values = {"source": _text(form, "source", 200)}
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _indicators_page(request, actor, errors={"file": [problem_of(FieldError(
            "file", "property.required", "choose a STIX bundle (.json)"), lang)]}, values=values, status=422)
    data = await file.read(STIX_MAX_BYTES + 1)
    if len(data) > STIX_MAX_BYTES:
        return _indicators_page(request, actor, errors={"file": [problem_of(FieldError(
            "file", "file.too_large", f"at most {STIX_MAX_BYTES // 2**20} MiB"), lang)]}, values=values, status=413)
    svc = services(request).watch
    try:
        report = await run_in_threadpool(svc.import_stix, actor, data,
                                         source_name=values["source"] or os.path.basename(file.filename))
    except ValidationFailed as exc:
        return _indicators_page(request, actor, errors=problems_by_field(exc, lang), values=values, status=422)
    return _indicators_page(request, actor, report=report, values=values)


__all__ = ["Segment", "Span", "highlight_segments", "item_spans", "router", "stacked_chart"]
