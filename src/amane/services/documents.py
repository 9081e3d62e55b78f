"""Printable documents of procedures: the incident report and the case summary as PDF (Arabic,
French, English), and the export of a case file as a ZIP (its PDF, the PDFs of its reports, its
attachments, and a JSON manifest with the SHA-256 of every file). Reads go through the same
services as the screens (need-to-know), and every document produced is audited as an export."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from sqlalchemy import select

from amane.documents import render_case_summary, render_incident_report
from amane.model.schema import load_vocabulary
from amane.services import audit
from amane.services.attachments import AttachmentService
from amane.services.audit import AuditEvent
from amane.services.cases import CaseService, CaseView
from amane.services.context import Actor
from amane.services.entities import EntityService
from amane.services.errors import FieldError, ValidationFailed
from amane.services.policy import visible_entities
from amane.services.reports import ReportService, ReportView
from amane.services.roles import CLEARANCES
from amane.settings import Settings
from amane.store.db import Database
from amane.store.tables import Entity, Report, Unit
from amane.store.types import utcnow

LANGS = ("ar", "fr", "en")
#: Case and task states as the documents name them.
_CASE_STATE = {"investigating": "under_investigation"}
_TASK_STATE = {"open": "todo"}
_ACTION = {"submit": "submitted", "approve": "approved", "return": "returned", "correct": "corrected"}


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValidationFailed([FieldError("lang", "enum.value", "lang must be ar, fr or en")])
    return lang


class DocumentService:
    def __init__(self, db: Database, settings: Settings, entities: EntityService, reports: ReportService,
                 cases: CaseService, attachments: AttachmentService) -> None:
        self.db = db
        self.settings = settings
        self.entities = entities
        self.reports = reports
        self.cases = cases
        self.attachments = attachments

    def _unit(self, code: str) -> dict[str, Any]:
        with self.db.read() as s:
            u = s.scalar(select(Unit).where(Unit.code == code))
            chain: list[dict[str, Any]] = []
            if u is None:
                return {"code": code, "name_ar": code, "name_fr": code, "name_en": code, "parents": []}
            p = s.get(Unit, u.parent_id) if u.parent_id else None
            while p is not None and len(chain) < 16:
                chain.insert(0, {"code": p.code, "name_ar": p.name_ar, "name_fr": p.name_fr, "name_en": p.name_en})
                p = s.get(Unit, p.parent_id) if p.parent_id else None
            return {"code": u.code, "name_ar": u.name_ar, "name_fr": u.name_fr, "name_en": u.name_en,
                    "parents": chain}

    def _record(self, actor: Actor, kind: str, oid: str, lang: str, what: str) -> None:
        with self.db.write() as s:
            audit.append(s, [(actor, AuditEvent("export", kind, oid, details={"document": what, "lang": lang}))])

    def _report_input(self, actor: Actor, view: ReportView) -> dict[str, Any]:
        c = view.content
        offences = load_vocabulary("offences")
        persons = []
        ids = {i["person"] for i in c.get("involved", [])} | set(c.get("objects", []))
        found: dict[str, Any] = {}
        with self.db.read() as s:
            for e in s.scalars(select(Entity).where(Entity.id.in_(ids), visible_entities(actor))):
                found[e.id] = e
        for inv in c.get("involved", []):
            person = found.get(inv["person"])
            d = person.data if person is not None else {}
            persons.append({
                "role": inv["role"],
                "name_ar": " ".join(str(d[k]) for k in ("given_name_ar", "family_name_ar") if d.get(k)),
                "name_latin": " ".join(str(d[k]) for k in ("given_name", "family_name") if d.get(k)),
                "birth_date": d.get("birth_date"), "id_number": d.get("national_id"),
            })
        objects = []
        for oid in c.get("objects", []):
            obj = found.get(oid)
            if obj is not None:
                objects.append({"kind": obj.schema, "description": obj.caption, "identifier": oid})
        approvals = [{"action": _ACTION.get(ev.kind, ev.kind), "by": ev.user, "at": ev.at, "reason": ev.text}
                     for ev in view.events if ev.kind in _ACTION]
        return {
            "reference": view.reference, "version": view.version, "state": view.state,
            "classification": CLEARANCES[self._report_level(view.id)], "date": view.created_at,
            "offence": offences.values.get(c.get("offence_category", ""), c.get("offence_category", "")),
            "place": c.get("address", ""), "occurred_from": c.get("occurred_from"), "occurred_to": c.get("occurred_to"),
            "author": view.author or "", "narrative": c.get("narrative", ""), "persons": persons, "objects": objects,
            "approvals": approvals,
        }

    def _report_level(self, rid: int) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(Report.classification).where(Report.id == rid)) or 0)

    def report_pdf(self, actor: Actor, rid: int, *, lang: str) -> tuple[ReportView, bytes]:
        _check_lang(lang)
        view = self.reports.get(actor, rid)
        pdf = render_incident_report(self._report_input(actor, view), lang=lang, unit=self._unit(view.unit),
                                     tz=self.settings.documents_timezone)
        self._record(actor, "Report", str(rid), lang, "incident_report.pdf")
        return view, pdf

    def _case_input(self, actor: Actor, view: CaseView) -> dict[str, Any]:
        offences = load_vocabulary("offences")
        captions = self.entities.captions(actor, set(view.incidents))
        incidents = []
        with self.db.read() as s:
            for e in s.scalars(select(Entity).where(Entity.id.in_(view.incidents), visible_entities(actor))):
                d = e.data
                incidents.append({"reference": captions.get(e.id, ("", e.id))[1] or e.id,
                                  "offence": offences.values.get(d.get("offence_category", ""), ""),
                                  "occurred_from": d.get("occurred_from"), "occurred_to": d.get("occurred_to"),
                                  "place": d.get("address", "")})
        return {
            "reference": view.reference, "title": view.title, "state": _CASE_STATE.get(view.state, view.state),
            "classification": CLEARANCES[view.classification], "opened_at": view.created_at,
            "opened_by": next((e.user for e in view.events if e.kind == "opened"), "") or "",
            "summary": view.summary,
            "team": [{"role": m.role, "name": f"{m.full_name} ({m.username})", "unit": m.unit} for m in view.team],
            "incidents": incidents,
            "tasks": [{"title": t.title, "assignee": t.assignee, "due": t.due_date,
                       "state": _TASK_STATE.get(t.status, t.status)} for t in view.tasks],
            "timeline": [{"at": e.at, "actor": e.user or "", "event": _event_text(e.kind, e.text, e.details)}
                         for e in view.events],
        }

    def case_pdf(self, actor: Actor, cid: int, *, lang: str) -> tuple[CaseView, bytes]:
        _check_lang(lang)
        view = self.cases.get(actor, cid)
        pdf = render_case_summary(self._case_input(actor, view), lang=lang, unit=self._unit(view.unit),
                                  tz=self.settings.documents_timezone)
        self._record(actor, "Case", str(cid), lang, "case_summary.pdf")
        return view, pdf

    def case_export(self, actor: Actor, cid: int, *, lang: str) -> tuple[CaseView, bytes]:
        """The case file as a ZIP: ``case.pdf``, ``reports/<reference>.pdf`` (reports on its
        incidents that the actor may see), ``attachments/<id>-<name>``, and ``manifest.json``
        with the size and SHA-256 of every file."""
        view, pdf = self.case_pdf(actor, cid, lang=lang)
        files: list[tuple[str, bytes]] = [("case.pdf", pdf)]
        for incident in view.incidents:
            page, _ = self.reports.list(actor, incident_id=incident, per_page=200)
            for rep in page:
                _, rpdf = self.report_pdf(actor, rep.id, lang=lang)
                files.append((f"reports/{rep.reference}.pdf", rpdf))
        for att in self.attachments.list(actor, "case", cid):
            _, data = self.attachments.read_all(actor, att.id)
            files.append((f"attachments/{att.id}-{att.filename}", data))
        manifest = {
            "case": view.reference, "exported_at": utcnow().isoformat(), "exported_by": actor.username,
            "lang": lang, "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                                    for p, b in files],
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for path, data in files:
                z.writestr(path, data)
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        self._record(actor, "Case", str(cid), lang, "case_export.zip")
        return view, buf.getvalue()


def _event_text(kind: str, text: str, details: dict[str, Any]) -> str:
    bits = [kind]
    if kind == "state":
        bits = [f"{details.get('from', '')} → {details.get('to', '')}"]
    elif kind == "task":
        bits = [f"task: {details.get('title', '')} → {details.get('assignee', '')}"]
    elif kind == "team":
        bits = [f"team: {details.get('user', '')} ({details.get('role', 'removed')})"]
    if text:
        bits.append(text)
    return " · ".join(bits)
