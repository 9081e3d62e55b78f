"""Printable PDF documents: the incident report (procès-verbal) and the case summary.

HTML from Jinja2 templates (``templates/``, autoescaped), laid out by WeasyPrint, whose text goes
through Pango and HarfBuzz: Arabic is shaped (joined letter forms, lam-alef ligatures) and laid
out right to left by the Unicode bidi algorithm, and the PDF's text layer keeps the logical
(typed) order of the characters. Fonts come from the system through fontconfig (Debian's
``fonts-noto-core``: Noto Sans, Noto Naskh Arabic; DejaVu as a fallback); nothing is fetched.

Inputs are plain mappings, described in ``docs/documents.md`` and below as ``TypedDict``s (which
only document them: any ``Mapping`` with those keys works, and every key but ``reference`` may be
left out). A value marked *text* is a ``str`` or a ``{"ar": ..., "fr": ..., "en": ...}`` mapping;
a *code* (state, role, classification...) is printed with its label from
:mod:`amane.documents.labels`, or as it is when unknown; a *time* is a ``datetime`` (naive means
UTC), a ``date`` or an ISO 8601 string, printed ``dd/mm/yyyy HH:MM`` in ``tz``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from amane.documents.labels import CODES, LABELS, LANGUAGES
from amane.model.errors import AmaneError, FieldError, ValidationFailed

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_TZ = "Africa/Casablanca"

Lang = Literal["ar", "fr", "en"]
Text = str | Mapping[str, str]
Time = datetime | date | str


# -- input shapes (documentation; any Mapping with these keys works) ---------------------------

class UnitRef(TypedDict):
    """A unit as ``UnitView.as_dict()`` gives it, plus its ancestors."""

    name_ar: str
    name_fr: str
    name_en: str
    #: Ancestors, outermost first (headquarters, directorate, region...), same shape.
    parents: NotRequired[Sequence[Mapping[str, Any]]]


class InvolvedPerson(TypedDict, total=False):
    role: str  # code: complainant, victim, suspect, witness, accused, informant
    name_ar: str  # the name as written in Arabic script
    name_latin: str  # the name in Latin letters
    birth_date: Time
    id_number: str
    notes: str


class ReportObject(TypedDict, total=False):
    kind: Text
    description: str
    identifier: str  # plate, serial number, IMEI...


class Approval(TypedDict, total=False):
    action: str  # code: submitted, returned, approved, corrected
    by: str
    at: Time
    reason: str


class IncidentReport(TypedDict, total=False):
    reference: str  # required
    version: int
    state: str  # code: draft, submitted, approved, returned
    classification: str  # code: unclassified, restricted, confidential, secret
    date: Time  # date of the report
    offence: Text
    place: Text
    occurred_from: Time
    occurred_to: Time
    reported_at: Time
    author: str
    narrative: str  # paragraphs separated by blank lines
    persons: Sequence[InvolvedPerson]
    objects: Sequence[ReportObject]
    approvals: Sequence[Approval]


class TeamMember(TypedDict, total=False):
    role: str  # code: lead, member, supervisor
    name: str
    unit: Text


class CaseTask(TypedDict, total=False):
    title: str
    assignee: str
    due: Time
    state: str  # code: todo, in_progress, done, cancelled


class TimelineEvent(TypedDict, total=False):
    at: Time
    actor: str
    event: Text


class LinkedIncident(TypedDict, total=False):
    reference: str
    offence: Text
    occurred_from: Time
    occurred_to: Time
    place: Text
    state: str


class CaseFile(TypedDict, total=False):
    reference: str  # required
    title: str
    state: str  # code: open, under_investigation, referred, closed, archived
    classification: str
    opened_at: Time
    opened_by: str
    summary: str
    team: Sequence[TeamMember]
    incidents: Sequence[LinkedIncident]
    tasks: Sequence[CaseTask]
    timeline: Sequence[TimelineEvent]


# -- errors -------------------------------------------------------------------------------------

class DocumentInputError(ValidationFailed, ValueError):
    """The input cannot make a document (unknown language, missing reference...)."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        ValidationFailed.__init__(self, [FieldError(field, rule, message)])
        self.field = field
        self.rule = rule

    __hash__ = Exception.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


class DocumentsUnavailable(AmaneError, ImportError):
    """WeasyPrint, or the system libraries it needs, are not installed."""


# -- small formatting helpers -------------------------------------------------------------------

def text_direction(text: str, default: str = "ltr") -> str:
    """``rtl`` or ``ltr`` from the first strong character (what HTML's ``dir=auto`` does)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return default


def _isolate(value: object) -> Markup:
    """Escaped text inside FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE: a name in the other
    script keeps its own direction and does not reorder the punctuation around it."""
    text = "" if value is None else str(value)
    if not text.strip():
        return Markup("")
    return Markup("\u2068") + escape(text) + Markup("\u2069")


def _css_string(text: str) -> Markup:
    """A CSS string literal; every character that could end it or the style element is escaped."""
    out = ['"']
    for ch in text:
        out.append(ch if ch.isalnum() or ch in " .,:;-_()'" else f"\\{ord(ch):06x}")
    out.append('"')
    return Markup("".join(out))


def _localise(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping) and any(f"name_{k}" in value for k in LANGUAGES):
        return _unit_name(value, lang)  # a unit (or anything named like one)
    if isinstance(value, Mapping):
        for key in (lang, "fr", "en", "ar"):
            if value.get(key):
                return str(value[key])
        return next((str(v) for v in value.values() if v), "")
    return str(value)


def _code(value: Any, lang: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str) and value in CODES:
        return CODES[value][lang]
    return _localise(value, lang)


class _Formatter:
    def __init__(self, lang: str, tz: str) -> None:
        self.lang = lang
        self.tz = ZoneInfo(tz)

    def time(self, value: Any, *, with_time: bool = True) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            raw = value
            try:
                value = datetime.fromisoformat(raw) if ("T" in raw or " " in raw) else date.fromisoformat(raw)
            except ValueError:
                return raw  # printed as given rather than refused: a document must always print
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            local = aware.astimezone(self.tz)
            return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        return str(value)

    def window(self, start: Any, end: Any) -> str:
        a, b = self.time(start), self.time(end)
        if a and b:
            if a[:10] == b[:10] and len(b) > 10:
                b = b[11:]
            return f"{LABELS['from'][self.lang]} {a} {LABELS['to'][self.lang]} {b}"
        return a or b


def _paragraphs(text: Any, default_dir: str) -> list[dict[str, str]]:
    if not text:
        return []
    parts = [p.strip("\n") for p in re.split(r"\n\s*\n", str(text).replace("\r\n", "\n"))]
    return [{"text": p, "dir": text_direction(p, default_dir)} for p in parts if p.strip()]


def _items(value: Any) -> list[Mapping[str, Any]]:
    if not value:
        return []
    return [v for v in value if isinstance(v, Mapping)]


# -- templates and the common frame -------------------------------------------------------------

@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bidi"] = _isolate
    return env


@functools.cache
def _stylesheet() -> Markup:
    # Our own file, not user text; inlined so that rendering never opens a URL.
    return Markup((TEMPLATES / "document.css").read_text(encoding="utf-8"))


def _frame(
    record: Mapping[str, Any], *, kind: str, lang: str, unit: Mapping[str, Any], tz: str,
    printed_at: datetime | None, date_key: str,
) -> tuple[dict[str, Any], _Formatter]:
    if lang not in LANGUAGES:
        raise DocumentInputError("lang", "document.lang", f"language must be one of {', '.join(LANGUAGES)}")
    reference = str(record.get("reference") or "").strip()
    if not reference:
        raise DocumentInputError("reference", "document.required", "a document needs a reference number")
    try:
        fmt = _Formatter(lang, tz)
    except (KeyError, ValueError) as exc:
        raise DocumentInputError("tz", "document.timezone", f"unknown time zone {tz!r}") from exc
    now = printed_at or datetime.now(UTC)
    rtl = lang == "ar"
    labels = {key: value[lang] for key, value in LABELS.items()}
    state = record.get("state")
    classification = record.get("classification") or "unclassified"
    return {
        "lang": lang,
        "dir": "rtl" if rtl else "ltr",
        "start": "right" if rtl else "left",
        "end": "left" if rtl else "right",
        "L": labels,
        "title": labels[kind],
        "reference": reference,
        "version": record.get("version") or "",
        "date": fmt.time(record.get(date_key), with_time=False),
        "state": _code(state, lang),
        "watermark": _code(state, lang) if state in ("draft", "returned") else "",
        "marking": _css_string(_code(classification, lang).upper()) if classification != "unclassified" else "",
        "printed_at": fmt.time(now),
        "printed_at_iso": (now if now.tzinfo else now.replace(tzinfo=UTC)).isoformat(),
        "unit": {
            "name": _unit_name(unit, lang),
            "chain": [n for n in (_unit_name(p, lang) for p in _items(unit.get("parents"))) if n],
        },
        "stylesheet": _stylesheet(),
        "page_label": _css_string(labels["page"]),
        "page_of": _css_string(labels["page_of"]),
    }, fmt


def _unit_name(unit: Mapping[str, Any], lang: str) -> str:
    """``name_ar``/``name_fr``/``name_en`` (as the units table has them) or ``name`` as a text."""
    if isinstance(unit.get("name"), Mapping):
        return _localise(unit["name"], lang)
    names = {k: unit.get(f"name_{k}") for k in LANGUAGES}
    return _localise(names, lang) if any(names.values()) else str(unit.get("name") or "")


# -- the two documents --------------------------------------------------------------------------

def incident_report_html(
    report: Mapping[str, Any], *, lang: str, unit: Mapping[str, Any], tz: str = DEFAULT_TZ,
    printed_at: datetime | None = None,
) -> str:
    """The HTML the incident report PDF is made from (also usable as an on-screen preview)."""
    doc, fmt = _frame(report, kind="incident_report", lang=lang, unit=unit, tz=tz, printed_at=printed_at,
                      date_key="date")
    approvals = _items(report.get("approvals"))
    # The approver signs only a report that is approved now (not a draft of a later version).
    signed = report.get("state") in (None, "approved")
    approved = [a for a in approvals if a.get("action") == "approved"] if signed else []
    r = {
        "offence": _localise(report.get("offence"), lang),
        "place": _localise(report.get("place"), lang),
        "time_window": fmt.window(report.get("occurred_from"), report.get("occurred_to")),
        "reported_at": fmt.time(report.get("reported_at")),
        "author": str(report.get("author") or ""),
        "narrative": _paragraphs(report.get("narrative"), doc["dir"]),
        "persons": [{
            "role": _code(p.get("role"), lang),
            "name_ar": str(p.get("name_ar") or ""),
            "name_latin": str(p.get("name_latin") or ""),
            "birth_date": fmt.time(p.get("birth_date"), with_time=False),
            "id_number": str(p.get("id_number") or ""),
            "notes": str(p.get("notes") or ""),
            "notes_dir": text_direction(str(p.get("notes") or ""), doc["dir"]),
        } for p in _items(report.get("persons"))],
        "objects": [{
            "kind": _localise(o.get("kind"), lang),
            "description": str(o.get("description") or ""),
            "description_dir": text_direction(str(o.get("description") or ""), doc["dir"]),
            "identifier": str(o.get("identifier") or ""),
        } for o in _items(report.get("objects"))],
        "approvals": [{
            "action": _code(a.get("action"), lang),
            "by": str(a.get("by") or ""),
            "at": fmt.time(a.get("at")),
            "reason": str(a.get("reason") or ""),
            "reason_dir": text_direction(str(a.get("reason") or ""), doc["dir"]),
        } for a in approvals],
        "approver": str(approved[-1].get("by") or "") if approved else "",
        "approver_label": _code("approved", lang),
    }
    return _environment().get_template("incident_report.html").render(doc=doc, r=r)


def case_summary_html(
    case: Mapping[str, Any], *, lang: str, unit: Mapping[str, Any], tz: str = DEFAULT_TZ,
    printed_at: datetime | None = None,
) -> str:
    """The HTML the case summary PDF is made from."""
    doc, fmt = _frame(case, kind="case_summary", lang=lang, unit=unit, tz=tz, printed_at=printed_at,
                      date_key="opened_at")
    c = {
        "title": str(case.get("title") or ""),
        "opened_at": fmt.time(case.get("opened_at")),
        "opened_by": str(case.get("opened_by") or ""),
        "summary": _paragraphs(case.get("summary"), doc["dir"]),
        "team": [{
            "role": _code(m.get("role"), lang),
            "name": str(m.get("name") or ""),
            "unit": _localise(m.get("unit"), lang),
        } for m in _items(case.get("team"))],
        "incidents": [{
            "reference": str(i.get("reference") or ""),
            "offence": _localise(i.get("offence"), lang),
            "time_window": fmt.window(i.get("occurred_from"), i.get("occurred_to")),
            "place": _localise(i.get("place"), lang),
            "state": _code(i.get("state"), lang),
        } for i in _items(case.get("incidents"))],
        "tasks": [{
            "title": str(t.get("title") or ""),
            "title_dir": text_direction(str(t.get("title") or ""), doc["dir"]),
            "assignee": str(t.get("assignee") or ""),
            "due": fmt.time(t.get("due"), with_time=False),
            "state": _code(t.get("state"), lang),
        } for t in _items(case.get("tasks"))],
        "timeline": [{
            "at": fmt.time(e.get("at")),
            "actor": str(e.get("actor") or ""),
            "event": _localise(e.get("event"), lang),
            "event_dir": text_direction(_localise(e.get("event"), lang), doc["dir"]),
        } for e in _items(case.get("timeline"))],
    }
    return _environment().get_template("case_summary.html").render(doc=doc, c=c)


def render_incident_report(
    report: Mapping[str, Any], *, lang: str, unit: Mapping[str, Any], tz: str = DEFAULT_TZ,
    printed_at: datetime | None = None,
) -> bytes:
    """The incident report as a PDF (A4), in ``lang`` (``ar``, ``fr`` or ``en``)."""
    return html_to_pdf(incident_report_html(report, lang=lang, unit=unit, tz=tz, printed_at=printed_at))


def render_case_summary(
    case: Mapping[str, Any], *, lang: str, unit: Mapping[str, Any], tz: str = DEFAULT_TZ,
    printed_at: datetime | None = None,
) -> bytes:
    """The case summary as a PDF (A4), in ``lang`` (``ar``, ``fr`` or ``en``)."""
    return html_to_pdf(case_summary_html(case, lang=lang, unit=unit, tz=tz, printed_at=printed_at))


def compstat_html(report: Mapping[str, Any], *, lang: str, tz: str = DEFAULT_TZ,
                  printed_at: datetime | None = None) -> str:
    """The HTML of the CompStat PDF, from ``CompStat.as_dict()``."""
    unit = report.get("unit") or {}
    record = {"reference": f"COMPSTAT-{unit.get('code') or 'ALL'}-{report.get('as_of')}",
              "date": report.get("as_of")}
    doc, fmt = _frame(record, kind="compstat", lang=lang, unit=unit, tz=tz, printed_at=printed_at,
                      date_key="date")

    def row(r: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"label": _localise(r.get("label"), lang)}
        for w in ("d7", "d28", "ytd"):
            pct = r.get(f"{w}_change_pct")
            out[w] = (r.get(w, 0), r.get(f"{w}_prev", 0), "—" if pct is None else f"{pct:+.1f} %")
        return out

    groups = []
    cats = list(_items(report.get("categories")))
    from amane.model.schema import load_vocabulary

    group_of = load_vocabulary("offences").group_of
    for g in _items(report.get("groups")):
        members = [row(c) for c in cats if group_of.get(str(c.get("key"))) == g.get("key")]
        groups.append({"head": row(g), "rows": members})
    windows = report.get("windows") or {}
    c = {"groups": groups, "total": row(report.get("total") or {}),
         "period": {k: fmt.window(v.get("start"), v.get("end")) for k, v in windows.items()}}
    return _environment().get_template("compstat.html").render(doc=doc, c=c)


def render_compstat(report: Mapping[str, Any], *, lang: str, tz: str = DEFAULT_TZ,
                    printed_at: datetime | None = None) -> bytes:
    """The CompStat report as a PDF (A4 landscape), in ``lang``."""
    return html_to_pdf(compstat_html(report, lang=lang, tz=tz, printed_at=printed_at))


# -- WeasyPrint ---------------------------------------------------------------------------------

@functools.cache
def _weasyprint() -> tuple[Any, Callable[[], Any]]:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise DocumentsUnavailable(
            "PDF documents need the Python package 'weasyprint' and Debian's libpango-1.0-0, "
            f"libpangoft2-1.0-0 and fonts-noto-core ({exc})"
        ) from exc
    return weasyprint, _offline_fetcher_factory()


def _offline_fetcher_factory() -> Callable[[], Any]:
    """A URL fetcher that fetches nothing: templates inline their stylesheet and carry no images,
    and user text is escaped, so any URL is a mistake or an attack (closed network)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint before the URLFetcher class: a plain function

        def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"documents never fetch URLs ({url})")

        return lambda: refuse

    class Offline(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"documents never fetch URLs ({url})")

    return Offline


def html_to_pdf(html: str) -> bytes:
    """Lay out our HTML as PDF. Raises :class:`DocumentsUnavailable` without WeasyPrint."""
    weasyprint, fetcher = _weasyprint()
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher()).write_pdf()
    return bytes(pdf)
