"""Lab requests on SQLite and PostgreSQL: references per lab, the state machine with its 409s,
who may accept, work and cancel, inbox notices, need-to-know (a user outside the chain gets
404), audit of reads, statistics on a constructed set, and the custody sheet PDF."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from amane.services.auth import actor_for
from amane.services.context import Actor
from amane.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from amane.services.labs import turnaround_figures
from amane.store.tables import AuditRecord, LabRequest, Notification, Unit, User
from tests.conftest import PASSWORD

#: A regional lab under region A (not national) and a national digital lab under HQ.
LAB_UNITS: list[dict[str, Any]] = [
    {"code": "LABA", "parent": "REGA", "kind": "lab", "name_ar": "المختبر الجهوي أ", "name_fr": "Laboratoire A",
     "name_en": "Lab A", "national": False},
    {"code": "LNUM", "parent": "HQ", "kind": "lab", "name_ar": "المختبر الرقمي", "name_fr": "Laboratoire numérique",
     "name_en": "Digital lab"},
]
PDF_MAGIC = b"%PDF"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Labs:
    world: Any
    actors: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name].with_request(purpose="lab work", source="127.0.0.1")


def make_labs(world: Any) -> Labs:
    """Lab units with a chief and two technicians in LABA, a chief and a technician in LNUM."""
    svc = world.svc
    svc.units.seed(LAB_UNITS)
    system = Actor.system()
    people = {"chief.laba": ("LABA", "unit_chief"), "tech1.laba": ("LABA", "lab_technician"),
              "tech2.laba": ("LABA", "lab_technician"), "chief.lnum": ("LNUM", "unit_chief"),
              "tech.lnum": ("LNUM", "lab_technician")}
    for n, (name, (unit, role)) in enumerate(people.items()):
        made = svc.users.create(system, username=name, password=PASSWORD, service_number=f"LB{n:05d}",
                                full_name=name, unit=unit, roles_=[role], clearance="secret")
        world.secrets[name] = made.totp_secret
    actors = {}
    with svc.db.read() as s:
        for name in people:
            u = s.scalar(select(User).where(User.username == name))
            assert u is not None
            unit_row = s.get(Unit, u.unit_id)
            assert unit_row is not None
            actors[name] = actor_for(u, unit_row)
    return Labs(world, actors)


def phone(world: Any, seal: str, unit: str = "REGA", role: str = "investigator", **kw: Any) -> Any:
    return world.svc.evidence.register(world.actor(unit, role), seal_number=seal, kind="physical",
                                       category="phone", description="Samsung, black", place="scene", **kw)


def inbox(world: Any, username: str) -> list[tuple[str, dict[str, Any]]]:
    with world.svc.db.read() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return [(n.kind, dict(n.params)) for n in s.scalars(select(Notification).where(Notification.user_id == uid)
                                                            .order_by(Notification.id))]


def audit_of(world: Any, rid: int) -> list[tuple[str, str]]:
    with world.svc.db.read() as s:
        return [(a, o) for a, o in s.execute(select(AuditRecord.action, AuditRecord.outcome).where(
            AuditRecord.object_type == "LabRequest", AuditRecord.object_id == str(rid)).order_by(AuditRecord.seq))]


def submit(world: Any, items: list[int], *, lab: str = "LABA", exam: str = "dna", **kw: Any) -> Any:
    return world.svc.labs.submit(world.actor("REGA", "investigator"), lab=lab, exam_type=exam, items=items,
                                 questions="Is the DNA on the handle the suspect's?", **kw)


def test_lifecycle_references_notifications_and_audit(world: Any) -> None:
    labs = make_labs(world)
    svc = world.svc.labs
    inv = world.actor("REGA", "investigator")
    a, b = phone(world, "S-1"), phone(world, "S-2")
    year = datetime.now(UTC).year
    r = submit(world, [a.id, b.id], priority="urgent")
    assert r.reference == f"LAB-{year}-LABA-000001" and r.state == "submitted"
    assert r.requester == inv.username and r.requester_unit == "REGA" and r.lab == "LABA"
    assert [i.reference for i in r.items] == [a.reference, b.reference]
    assert r.allowed == ("accepted", "rejected", "cancelled")
    assert submit(world, [a.id], lab="LNUM", exam="digital").reference == f"LAB-{year}-LNUM-000001"
    assert submit(world, [b.id]).reference == f"LAB-{year}-LABA-000002"  # numbered per lab and year
    assert inbox(world, "chief.laba")[0] == ("lab.submitted", {"request": r.reference, "exam": "dna",
                                                               "priority": "urgent", "by": inv.username})
    # only a chief of the lab accepts; the technician must belong to the lab and do lab work
    with pytest.raises(Conflict) as c:
        svc.accept(labs["tech1.laba"], r.id, technician="tech1.laba")
    assert c.value.rule == "lab.chief_only"
    with pytest.raises(ValidationFailed) as bad:
        svc.accept(labs["chief.laba"], r.id, technician="tech.lnum")
    assert bad.value.errors[0].field == "technician" and bad.value.errors[0].rule == "lab.not_technician"
    with pytest.raises(ValidationFailed):
        svc.accept(labs["chief.laba"], r.id, technician="chief.laba")  # no lab.work
    # an illegal move is a 409 listing the allowed ones
    with pytest.raises(Conflict) as c:
        svc.start(labs["chief.laba"], r.id)
    assert c.value.rule == "state.transition" and c.value.extra["allowed"] == ["accepted", "rejected", "cancelled"]
    acc = svc.accept(labs["chief.laba"], r.id, technician="tech1.laba", version=r.version)
    assert acc.state == "accepted" and acc.technician == "tech1.laba" and acc.accepted_at is not None
    assert inbox(world, "tech1.laba")[-1][0] == "lab.assigned"
    with pytest.raises(Conflict) as c:  # read before the acceptance
        svc.accept(labs["chief.laba"], r.id, technician="tech2.laba", version=r.version)
    assert c.value.rule == "version.stale"
    with pytest.raises(Conflict) as c:
        svc.accept(labs["chief.laba"], r.id, technician="tech2.laba", version=acc.version)
    assert c.value.rule == "state.transition" and c.value.extra["allowed"] == ["in_progress", "cancelled"]
    with pytest.raises(Conflict) as c:
        svc.start(labs["tech2.laba"], r.id)  # not the assigned technician
    assert c.value.rule == "lab.technician_only"
    started = svc.start(labs["tech1.laba"], r.id)
    assert started.state == "in_progress" and started.allowed == ("completed", "cancelled")
    with pytest.raises(ValidationFailed) as bad:
        svc.complete(labs["tech1.laba"], r.id, results="  ")
    assert bad.value.errors[0].field == "results"
    report = b"%PDF-1.4\n% lab report\n" + b"x" * 100
    done = svc.complete(labs["tech1.laba"], r.id, results="Profile matches suspect X (1e-9).",
                        report=io.BytesIO(report), filename="rapport.pdf")
    assert done.state == "completed" and done.results.startswith("Profile") and done.allowed == ()
    assert done.report is not None and done.report.filename == "rapport.pdf" and done.report.size == len(report)
    assert done.turnaround_days is not None and 0 <= done.turnaround_days < 1
    view, chunks = svc.report(inv, r.id)
    assert b"".join(chunks) == report
    assert inbox(world, inv.username)[-1] == ("lab.completed", {"request": r.reference, "exam": "dna",
                                                                "by": "tech1.laba"})
    with pytest.raises(Conflict) as c:
        svc.cancel(inv, r.id, reason="too late")
    assert c.value.extra["allowed"] == [] and "final" in str(c.value)
    full = svc.get(inv, r.id)
    assert [(e.kind, e.details.get("to")) for e in full.events] == [
        ("submitted", None), ("state", "accepted"), ("state", "in_progress"), ("state", "completed")]
    trail = audit_of(world, r.id)
    assert ("create", "ok") in trail and ("read", "ok") in trail and ("download", "ok") in trail
    assert ("accept", "refused") in trail and ("start", "refused") in trail and ("complete", "ok") in trail


def test_reject_and_cancel(world: Any) -> None:
    labs = make_labs(world)
    svc = world.svc.labs
    inv, other_inv = world.actor("REGA", "investigator"), world.actor("REGA", "officer")
    item = phone(world, "S-1")
    r = submit(world, [item.id])
    with pytest.raises(ValidationFailed) as bad:
        svc.reject(labs["chief.laba"], r.id, reason="")
    assert bad.value.errors[0].field == "reason"
    rej = svc.reject(labs["chief.laba"], r.id, reason="No biological trace can be taken from this item")
    assert rej.state == "rejected" and rej.reason.startswith("No biological") and rej.closed_at is not None
    assert inbox(world, inv.username)[-1][0] == "lab.rejected"
    r2 = submit(world, [item.id])
    svc.accept(labs["chief.laba"], r2.id, technician="tech2.laba")
    with pytest.raises(Conflict) as c:
        svc.cancel(other_inv, r2.id, reason="not mine")
    assert c.value.rule == "lab.requester_only"
    gone = svc.cancel(inv, r2.id, reason="The suspect confessed")
    assert gone.state == "cancelled"
    assert inbox(world, "tech2.laba")[-1][0] == "lab.cancelled"
    with pytest.raises(Conflict) as c:
        svc.accept(labs["chief.laba"], r2.id, technician="tech1.laba")
    assert c.value.extra["allowed"] == []


def test_bad_input_names_the_field(world: Any) -> None:
    make_labs(world)
    svc = world.svc.labs
    inv = world.actor("REGA", "investigator")
    mine, theirs = phone(world, "S-1"), phone(world, "S-B", unit="REGB")
    with pytest.raises(ValidationFailed) as bad:
        svc.submit(inv, lab="LABA", exam_type="astrology", items=[], questions="", priority="now")
    assert {e.field: e.rule for e in bad.value.errors} == {
        "exam_type": "enum.value", "priority": "enum.value", "questions": "property.required",
        "items": "property.required"}
    with pytest.raises(ValidationFailed) as bad:
        svc.submit(inv, lab="REGA", exam_type="dna", items=[mine.id], questions="q")
    assert bad.value.errors[0].field == "lab" and bad.value.errors[0].rule == "unit.not_lab"
    with pytest.raises(ValidationFailed) as bad:  # another region's item is unknown to the requester
        svc.submit(inv, lab="LABA", exam_type="dna", items=[mine.id, theirs.id], questions="q")
    assert bad.value.errors[0].field == "items" and bad.value.errors[0].rule == "reference.unknown"
    world.svc.evidence.dispose(inv, mine.id, "destroyed", reason="court order")
    with pytest.raises(ValidationFailed) as bad:
        svc.submit(inv, lab="LABA", exam_type="dna", items=[mine.id], questions="q")
    assert bad.value.errors[0].rule == "evidence.final"
    with pytest.raises(Forbidden):
        svc.submit(world.actor("REGA", "analyst"), lab="LABA", exam_type="dna", items=[mine.id], questions="q")
    assert svc.list(inv)[1] == 0  # nothing was written


def test_need_to_know(world: Any) -> None:
    labs = make_labs(world)
    svc = world.svc.labs
    item = phone(world, "S-1")
    r = submit(world, [item.id], exam="fingerprints")
    seen_by = [world.actor("REGA", "investigator"), world.actor("REGA", "unit_chief"), world.actor("HQ", "analyst"),
               labs["chief.laba"], labs["tech2.laba"]]
    for who in seen_by:
        assert svc.get(who, r.id).reference == r.reference
        assert [v.id for v in svc.list(who)[0]] == [r.id]
    hidden = [world.actor("REGB", "investigator"), world.actor("REGB", "unit_chief"), world.actor("HQ", "auditor"),
              world.actor("REGB", "officer"), world.actor("REGB", "lab_technician")]
    for who in hidden:
        with pytest.raises(NotFound):
            svc.get(who, r.id)
        assert svc.list(who) == ([], 0)
        with pytest.raises(NotFound):
            svc.cancel(who, r.id, reason="x")
    with pytest.raises(NotFound):
        svc.get(world.actor("REGB", "investigator"), 999999)
    # the request is as classified as its most classified item: a reader below that clearance gets 404
    secret = phone(world, "S-2", classification="secret")
    hi = submit(world, [secret.id])
    assert hi.classification == 3
    with pytest.raises(NotFound):
        svc.get(world.actor("REGA", "investigator", "restricted"), hi.id)
    with world.svc.db.read() as s:
        refused = s.scalars(select(AuditRecord.outcome).where(AuditRecord.object_type == "LabRequest",
                                                              AuditRecord.action == "cancel")).all()
    assert "not_found" in refused


def test_statistics_on_a_constructed_set(world: Any) -> None:
    labs = make_labs(world)
    svc = world.svc.labs
    chief, t1, t2 = labs["chief.laba"], labs["tech1.laba"], labs["tech2.laba"]
    item = phone(world, "S-1")
    # completed dna requests taking 1, 2, 3, 4 and 10 days, and one fingerprints request of 6 days
    plan = [("dna", 1), ("dna", 2), ("dna", 3), ("dna", 4), ("dna", 10), ("fingerprints", 6)]
    base = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for n, (exam, days) in enumerate(plan):
        r = submit(world, [item.id], exam=exam)
        svc.accept(chief, r.id, technician="tech1.laba")
        svc.start(t1, r.id)
        svc.complete(t1, r.id, results="done")
        with world.svc.db.write() as s:
            start = base + timedelta(days=n)
            s.execute(update(LabRequest).where(LabRequest.id == r.id).values(
                submitted_at=start, completed_at=start + timedelta(days=days)))
    # one completed long before the period: left out of the turnaround
    old = submit(world, [item.id], exam="dna")
    svc.accept(chief, old.id, technician="tech1.laba")
    svc.start(t1, old.id)
    svc.complete(t1, old.id, results="done")
    with world.svc.db.write() as s:
        s.execute(update(LabRequest).where(LabRequest.id == old.id).values(
            submitted_at=datetime(2025, 1, 1, tzinfo=UTC), completed_at=datetime(2025, 1, 30, tzinfo=UTC)))
    # open workload: 2 submitted (dna, ballistics), 1 accepted for tech2 (dna), 1 in progress for tech1 (digital)
    submit(world, [item.id], exam="dna")
    submit(world, [item.id], exam="ballistics")
    acc = submit(world, [item.id], exam="dna")
    svc.accept(chief, acc.id, technician="tech2.laba")
    prog = submit(world, [item.id], exam="digital")
    svc.accept(chief, prog.id, technician="tech1.laba")
    svc.start(t1, prog.id)
    cancelled = submit(world, [item.id], exam="dna")
    svc.cancel(world.actor("REGA", "investigator"), cancelled.id, reason="withdrawn")
    stats = svc.stats(chief, "LABA", since=date(2026, 2, 1), until=date(2026, 4, 30))
    assert stats.open_total == 4
    assert stats.open_by_state == {"submitted": 2, "accepted": 1, "in_progress": 1}
    assert stats.open_by_technician == {"tech1.laba": 1, "tech2.laba": 1}
    assert stats.open_by_type == {"dna": 2, "ballistics": 1, "digital": 1}
    rows = {t.exam_type: t for t in stats.turnaround}
    # dna: sorted 1, 2, 3, 4, 10 -> median 3; p90 at rank 0.9 * 4 = 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
    assert (rows["dna"].completed, rows["dna"].median_days, rows["dna"].p90_days) == (5, 3.0, 7.6)
    assert (rows["fingerprints"].completed, rows["fingerprints"].median_days) == (1, 6.0)
    # all: 1, 2, 3, 4, 6, 10 -> median 3.5; p90 at 0.9 * 5 = 4.5 -> 6 + 0.5 * 4 = 8.0
    assert (rows[""].completed, rows[""].median_days, rows[""].p90_days) == (6, 3.5, 8.0)
    assert "ballistics" not in rows
    # only lab chiefs (and national analysts) read them
    with pytest.raises(Forbidden):
        svc.stats(t2, "LABA")
    with pytest.raises(Forbidden):
        svc.stats(world.actor("REGA", "unit_chief"), "LABA")
    assert svc.stats(world.actor("HQ", "analyst"), "LABA", since=date(2026, 2, 1),
                     until=date(2026, 4, 30)).open_total == 4
    assert svc.chief_labs(chief) == ["LABA"]
    with pytest.raises(ValidationFailed):
        svc.stats(chief, "LABA", since=date(2026, 5, 1), until=date(2026, 4, 1))


def test_turnaround_figures() -> None:
    assert turnaround_figures([]) == (None, None)
    assert turnaround_figures([2.5]) == (2.5, 2.5)
    assert turnaround_figures([1, 2, 3, 4, 10]) == (3, 7.6)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_custody_sheet_pdf_lists_every_event(world: Any, lang: str, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    labs = make_labs(world)
    ev = world.svc.evidence
    officer = world.actor("REGA", "investigator")
    data = b"\x00IMAGE" * 1000
    item = ev.register(officer, seal_number="D-77", kind="digital", category="disk_image",
                       content=io.BytesIO(data), place="Rue Atlas, Rabat", purpose="saisie sur réquisition")
    ev.transfer(officer, item.id, to_user="tech1.laba", purpose="extraction ADN", place="Commissariat")
    ev.receive(labs["tech1.laba"], item.id, place="Laboratoire A", content=io.BytesIO(data))
    _, chain, pdf = world.svc.labs.custody_sheet(officer, item.id, lang=lang)
    assert chain.ok and pdf.startswith(PDF_MAGIC)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    text = BIDI_CONTROLS.sub("", subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                                                text=True).stdout)
    flat = " ".join(text.split())
    squeezed = "".join(text.split())
    for word in ("D-77", "Rue Atlas", "extraction", "Commissariat", "Laboratoire A", "tech1.laba", item.reference,
                 item.hashes["sha256"]):
        assert word in flat, word
    full = ev.get(officer, item.id)
    assert len(full.events) == 5  # seized, sealed, transferred, received, verified
    for e in full.events:  # each event's hash is printed (wrapped in its column; whole in reading order in fr)
        assert (e.hash if lang == "fr" else e.hash[:12]) in squeezed
    words = {"ar": ("بطاقة تسلسل العهدة", "السلسلة سليمة", "الصفحة"),
             "fr": ("Fiche de chaîne de possession", "Chaîne intacte", "page 1")}[lang]
    for w in words:
        assert w in flat, (w, flat[:600])
    # a row changed behind the application's back: the sheet says where the chain breaks
    from amane.store.tables import CustodyEvent

    with world.svc.db.write() as s:
        s.execute(update(CustodyEvent).where(CustodyEvent.item_id == item.id, CustodyEvent.seq == 3)
                  .values(place="ailleurs"))
    _, broken, pdf2 = world.svc.labs.custody_sheet(officer, item.id, lang="fr")
    assert not broken.ok and broken.broken_seq == 3
    path.write_bytes(pdf2)
    text2 = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                                    text=True).stdout.split())
    assert "Chaîne rompue à l'événement 3" in text2
    with pytest.raises(NotFound):
        world.svc.labs.custody_sheet(world.actor("REGB", "investigator"), item.id, lang="fr")


def test_demo_lab_requests_cover_every_state(world: Any) -> None:
    from amane.demo.labs import seed_labs

    make_labs(world)
    system = Actor.system()
    for n, (name, unit, role) in enumerate((("investigator.casa", "REGA", "investigator"),
                                            ("labtech", "LABA", "lab_technician"),
                                            ("chief.lab", "LABA", "unit_chief"))):
        world.svc.users.create(system, username=name, password=PASSWORD, service_number=f"DM{n:05d}",
                               full_name=name, unit=unit, roles_=[role], clearance="secret")
    assert seed_labs(world.svc)["lab_requests"] == 5
    assert seed_labs(world.svc) == {}  # once only
    views, total = world.svc.labs.list(world.actor("HQ", "analyst"))
    assert total == 5
    assert sorted(v.state for v in views) == ["accepted", "completed", "in_progress", "rejected", "submitted"]
    held = world.svc.evidence.list(world.actor("HQ", "analyst"), state="at_lab")[1]
    assert held == 1
