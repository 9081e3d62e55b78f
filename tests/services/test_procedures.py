"""Complaints -> incident reports -> case files: the whole path, its state machines, the case
compartment, gap-free reference numbers under concurrency, the citizen's tracking, the inbox."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from amane.services.audit import verify
from amane.services.audit_log import AuditQuery
from amane.services.context import Actor
from amane.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

COMPLAINT = {"complainant_name": "Samira Benjelloun", "complainant_phone": "0661234567",
             "complainant_id": "BE123456", "category": "theft", "occurred_from": "2026-11-20T21:30",
             "place": "Boulevard Zerktouni", "facts": "On m'a arraché mon sac près du tramway."}


def _report_content(world: Any, **kw: Any) -> dict[str, Any]:
    suspect = world.svc.entities.create(Actor.system(), "Person", {"given_name": "Yassine", "family_name": "Kabbaj"},
                                        owner_unit="STA").id
    content = {"title": "Vol à l'arraché", "offence_category": "robbery", "occurred_from": "2026-11-20T21:30",
               "narrative": "La victime déclare...", "involved": [{"person": suspect, "role": "suspect"}]}
    content.update(kw)
    return content


def test_complaint_to_case_path(world: Any) -> None:
    svc = world.svc
    officer = world.actor("REGA", "officer")
    chief = world.actor("REGA", "unit_chief")
    investigator = world.actor("REGA", "investigator")
    receipt = svc.complaints.take(officer, COMPLAINT)
    assert re.fullmatch(r"PLT-\d{4}-REGA-000001", receipt.reference)
    assert len(receipt.secret_code) == 8 and receipt.tracking_number
    # the citizen follows it with the number and the code; a wrong code answers like an unknown number
    st = svc.complaints.track(receipt.tracking_number, receipt.secret_code, source="10.0.0.1")
    assert st.status == "received" and [k for k, _ in st.history] == ["received"]
    for number, code in ((receipt.tracking_number, "WRONGCODE"), ("NOSUCHNUMBER", "WRONGCODE")):
        with pytest.raises(NotFound):
            svc.complaints.track(number, code, source="10.0.0.2")
    # an officer cannot decide; an investigator accepts: incident + complainant person + involvement
    with pytest.raises(Forbidden):
        svc.complaints.accept(officer, receipt.complaint_id)
    accepted = svc.complaints.accept(investigator, receipt.complaint_id)
    assert accepted.status == "accepted" and accepted.incident_id
    incident = svc.entities.get(chief, accepted.incident_id)
    assert incident.data["offence_category"] == "theft"
    with pytest.raises(Conflict) as exc:
        svc.complaints.close(investigator, receipt.complaint_id, reason="duplicate")
    assert exc.value.extra["allowed"] == []
    # the report: draft by the officer, submitted, returned with a reason, resubmitted, approved by the chief
    rep = svc.reports.create(officer, _report_content(world), complaint_id=receipt.complaint_id)
    assert rep.state == "draft" and rep.incident_id == accepted.incident_id and rep.reference.startswith("PV-")
    with pytest.raises(NotFound):  # a draft is its author's (and approvers') only
        svc.reports.get(investigator, rep.id)
    assert svc.reports.get(officer, rep.id).complaint_reference == receipt.reference
    rep = svc.reports.submit(officer, rep.id, version=rep.version)
    with pytest.raises(ValidationFailed):
        svc.reports.return_to_author(chief, rep.id, reason="", version=rep.version)
    rep = svc.reports.return_to_author(chief, rep.id, reason="Préciser l'heure", version=rep.version)
    assert rep.state == "returned"
    inbox, unread = svc.inbox.list(officer)
    assert unread == 1 and inbox[0].kind == "report.returned" and inbox[0].params["reason"] == "Préciser l'heure"
    rep = svc.reports.update(officer, rep.id, _report_content(world, occurred_from="2026-11-20T21:35"),
                             version=rep.version)
    rep = svc.reports.submit(officer, rep.id, version=rep.version)
    with pytest.raises(Conflict):  # nobody approves their own report
        svc.reports.approve(world.actor("REGA", "unit_chief"), rep.id, version=rep.version - 1)
    rep = svc.reports.approve(chief, rep.id, version=rep.version)
    assert rep.state == "approved" and rep.approved_by == chief.username
    with pytest.raises(Conflict) as exc:  # locked
        svc.reports.update(officer, rep.id, _report_content(world), version=rep.version)
    assert exc.value.rule == "report.locked"
    rels = svc.entities.relations(chief, accepted.incident_id)
    assert {r.data["role"] for r in rels if r.schema == "Involvement"} == {"complainant", "suspect"}
    # a correction is a new version with a reason, back for approval; the approved version is kept
    corrected = svc.reports.correct(officer, rep.id, _report_content(world, narrative="Rectifié"),
                                    reason="coquille", version=rep.version)
    assert corrected.state == "submitted"
    versions = svc.reports.versions(chief, rep.id)
    assert any(v.state == "approved" for v in versions) and versions[0].reason == "coquille"
    # the case: opened by the chief, lead investigator, a task for the officer -> inbox
    case = svc.cases.open(chief, title="Vols à l'arraché, tramway", incidents=[accepted.incident_id],
                          lead=investigator.username)
    assert case.reference.startswith("CAS-") and case.state == "open" and case.allowed == ("investigating", "closed")
    task = svc.cases.add_task(chief, case.id, title="Visionner la vidéosurveillance", assignee=officer.username,
                              due_date="2026-12-01")
    inbox, _ = svc.inbox.list(officer)
    assert any(n.kind == "task.assigned" and n.params["task"] == task.title for n in inbox)
    with pytest.raises(Conflict) as exc:
        svc.cases.transition(investigator, case.id, "referred", reason="x")
    assert exc.value.extra["allowed"] == ["investigating", "closed"]
    case = svc.cases.transition(investigator, case.id, "investigating", reason="enquête ouverte")
    svc.cases.add_note(officer, case.id, "Images récupérées")
    svc.cases.set_task_status(officer, case.id, task.id, "done")
    case = svc.cases.transition(investigator, case.id, "referred", reason="transmis au parquet")
    assert [e.kind for e in svc.cases.get(chief, case.id).events] == [
        "opened", "task", "state", "note", "task-status", "state"]
    assert verify(svc.db)[1] is None


def test_case_compartment_and_hint(world: Any) -> None:
    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    inc = svc.entities.create(chief, "Incident", {"offence_category": "drug_trafficking",
                                                  "occurred_from": "2026-10-01T10:00", "title": "Saisie"}).id
    case = svc.cases.open(chief, title="Réseau", incidents=[inc], lead=world.username("REGA", "investigator"))
    # a REGA analyst sees the incident, not the case: only that one exists and whom to contact
    analyst = world.actor("REGA", "analyst")
    with pytest.raises(NotFound):
        svc.cases.get(analyst, case.id)
    assert svc.cases.list(analyst)[1] == 0
    assert svc.cases.hint(analyst, inc) == ["REGA"]
    # a REGB chief sees neither the incident nor the case
    other = world.actor("REGB", "unit_chief")
    with pytest.raises(NotFound):
        svc.cases.hint(other, inc)
    with pytest.raises(NotFound):
        svc.cases.get(other, case.id)
    # national supervisors and the team see it
    assert svc.cases.get(world.actor("HQ", "unit_chief"), case.id).reference == case.reference
    assert svc.cases.get(world.actor("REGA", "investigator"), case.id).team[0].role == "lead"
    assert svc.cases.hint(world.actor("REGA", "investigator"), inc) == []
    # a task for someone outside the case's unit chain is refused, naming the field
    with pytest.raises(ValidationFailed) as exc:
        svc.cases.add_task(chief, case.id, title="x", assignee=world.username("REGB", "officer"))
    assert exc.value.errors[0].field == "assignee" and exc.value.errors[0].rule == "user.outside_chain"
    # an illegal transition is a 409 listing the allowed ones; a closed case takes no new work
    svc.cases.transition(chief, case.id, "closed", reason="classé")
    with pytest.raises(Conflict):
        svc.cases.add_note(chief, case.id, "trop tard")
    with pytest.raises(Conflict):
        svc.cases.transition(chief, case.id, "referred", reason="x")
    svc.cases.transition(chief, case.id, "archived")
    with pytest.raises(Conflict) as exc:
        svc.cases.transition(chief, case.id, "open")
    assert "final" in str(exc.value)
    # refused attempts are audited too, with the broken rule; nothing changed
    rows, _ = svc.audit_log.search(Actor.system(), AuditQuery(object_id=str(case.id), per_page=100))
    refused = [r for r in rows if r["outcome"] == "refused"]
    assert any(r["details"]["rules"] == ["state.transition"] for r in refused)
    assert any(r["details"]["rules"] == ["case.closed"] for r in refused)
    assert svc.cases.get(chief, case.id).state == "archived"


def test_complaint_redirect_close_and_online(world: Any) -> None:
    svc = world.svc
    receipt = svc.complaints.file_online(COMPLAINT, unit="STA", source="192.0.2.10")
    with pytest.raises(ValidationFailed) as exc:
        svc.complaints.file_online({"facts": ""}, unit="NOPE", source="192.0.2.10")
    assert {e.field for e in exc.value.errors} >= {"complainant_name", "facts", "unit"}
    chief_a = world.actor("REGA", "unit_chief")
    c = svc.complaints.get(chief_a, receipt.complaint_id)
    assert c.channel == "online" and c.unit == "STA"
    with pytest.raises(ValidationFailed):
        svc.complaints.redirect(chief_a, c.id, unit="STB", reason="")
    svc.complaints.redirect(chief_a, c.id, unit="STB", reason="compétence territoriale")
    with pytest.raises(NotFound):  # it left region A's scope
        svc.complaints.get(chief_a, c.id)
    chief_b = world.actor("REGB", "unit_chief")
    svc.complaints.close(chief_b, c.id, reason="plainte retirée")
    st = svc.complaints.track(receipt.tracking_number, receipt.secret_code, source="192.0.2.10")
    assert st.status == "closed" and [k for k, _ in st.history] == ["received", "redirected", "closed"]
    assert st.unit["code"] == "STB" and "facts" not in st.as_dict()
    # brute force on the code locks the number: even the right code then answers "not found"
    for _ in range(5):
        with pytest.raises(NotFound):
            svc.complaints.track(receipt.tracking_number, "BADCODE1", source=f"198.51.100.{_}")
    with pytest.raises(NotFound):
        svc.complaints.track(receipt.tracking_number, receipt.secret_code, source="192.0.2.99")
    rows, _ = svc.audit_log.search(Actor.system(), AuditQuery(action="track", per_page=100))
    assert sum(1 for r in rows if r["outcome"] == "denied") >= 6


def test_reference_numbers_are_gap_free_under_concurrency(world: Any) -> None:
    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    inc = svc.entities.create(chief, "Incident", {"offence_category": "theft", "occurred_from": "2026-10-01T10:00",
                                                  "title": "x"}).id
    lead = world.username("REGA", "investigator")
    refs: list[str] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(n):
                refs.append(svc.cases.open(chief, title="c", incidents=[inc], lead=lead).reference)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(25,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert numbers == list(range(1, 201))


def _open_cases_in_another_process(url: str, data_dir: str, username: str, incident: str, lead: str,
                                   n: int) -> list[str]:
    """Runs in a separate process: its own engine and connection pool, as a second server worker."""
    from amane.services.auth import actor_for
    from amane.services.container import Services
    from amane.settings import Settings
    from amane.store.tables import User

    svc = Services.create(Settings(database_url=url, data_dir=data_dir, _env_file=None))  # type: ignore[call-arg]
    try:
        with svc.db.read() as s:
            user = s.query(User).filter(User.username == username).one()
            actor = actor_for(user, user.unit)
        return [svc.cases.open(actor, title="c", incidents=[incident], lead=lead).reference for _ in range(n)]
    finally:
        svc.close()


def test_reference_numbers_are_gap_free_across_processes(world: Any, db_url: str, tmp_path: Any) -> None:
    """Four processes (like four server workers) open cases of one unit at the same time: the
    numbers are 1..N, no gap, no duplicate, on SQLite (one writer at a time) and PostgreSQL (row lock)."""
    import multiprocessing

    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    inc = svc.entities.create(chief, "Incident", {"offence_category": "theft", "occurred_from": "2026-10-01T10:00",
                                                  "title": "x"}).id
    lead = world.username("REGA", "investigator")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        parts = pool.starmap(_open_cases_in_another_process,
                             [(db_url, str(tmp_path / "data"), chief.username, inc, lead, 15)] * 4)
    refs = [r for part in parts for r in part]
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert numbers == list(range(1, 61))


def test_subscription_notices(world: Any) -> None:
    svc = world.svc
    owner = world.actor("REGA", "investigator")
    p = svc.entities.create(owner, "Person", {"given_name": "Omar", "family_name": "Fassi"})
    svc.inbox.subscribe(owner, p.id)
    svc.entities.get(world.actor("HQ", "analyst"), p.id)
    svc.entities.get(world.actor("HQ", "analyst"), p.id)  # one notice a day per viewer
    svc.entities.update(world.actor("REGA", "unit_chief"), p.id, {"sex": "M"}, expected_version=1, partial=True)
    svc.entities.get(owner, p.id)  # one's own views do not notify
    items, unread = svc.inbox.list(owner)
    assert sorted(n.kind for n in items) == ["record.changed", "record.viewed"] and unread == 2
    assert svc.inbox.mark_read(owner) == 2 and svc.inbox.list(owner)[1] == 0
    with pytest.raises(NotFound):
        svc.inbox.subscribe(world.actor("REGB", "investigator"), p.id)
