"""Evidence register and chain of custody, on SQLite and PostgreSQL: references and seals, the
hash-chained custody log (a row changed with SQL is named), two-sided transfers, integrity
re-verification with its alert, need-to-know, and audit records of successes and refusals."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from amane.services.errors import Conflict, NotFound, ValidationFailed
from amane.services.evidence import digest_path
from amane.store.tables import AuditRecord, CustodyEvent, Notification, User

IMAGE = b"\x00PHONE-IMAGE" * 5000


def _audit(svc: Any, object_id: int, action: str | None = None) -> list[tuple[str, str]]:
    with svc.db.read() as s:
        q = select(AuditRecord.action, AuditRecord.outcome).where(AuditRecord.object_type == "EvidenceItem",
                                                                  AuditRecord.object_id == str(object_id))
        if action:
            q = q.where(AuditRecord.action == action)
        return [(a, o) for a, o in s.execute(q.order_by(AuditRecord.seq))]


def _phone(world: Any, seal: str = "S-1", unit: str = "REGA", **kw: Any) -> Any:
    return world.svc.evidence.register(world.actor(unit, "officer"), seal_number=seal, kind="physical",
                                       category="phone", description="Samsung, black", place="scene", **kw)


def test_register_reference_seal_hashes_and_bad_input(world: Any, tmp_path: Path) -> None:
    ev = world.svc.evidence
    officer = world.actor("REGA", "officer")
    year = datetime.now(UTC).year
    a = _phone(world, "S-1")
    b = _phone(world, "S-2")
    assert a.reference == f"SCL-{year}-REGA-000001" and b.reference == f"SCL-{year}-REGA-000002"
    assert a.custodian == officer.username and a.state == "in_custody"
    assert [e.kind for e in a.events] == ["seized", "sealed"]
    with pytest.raises(Conflict) as dup:
        _phone(world, "S-1")
    assert dup.value.rule == "seal.duplicate" and dup.value.field == "seal_number"
    assert _phone(world, "S-1", unit="REGB").reference == f"SCL-{year}-REGB-000001"  # seals are unique per unit
    img = ev.register(officer, seal_number="S-3", kind="digital", category="disk_image", content=io.BytesIO(IMAGE),
                      parent_id=a.id)
    assert img.hashes == {"sha256": hashlib.sha256(IMAGE).hexdigest(), "sha1": hashlib.sha1(IMAGE).hexdigest(),
                          "md5": hashlib.md5(IMAGE).hexdigest(), "size": len(IMAGE)}
    assert img.parent_id == a.id and img.events[0].kind == "sub_sampled"
    (tmp_path / "image.dd").write_bytes(IMAGE)  # the server-side path: hashed read-only, never uploaded
    on_disk = ev.register(officer, seal_number="S-4", kind="digital", category="disk_image",
                          digests=digest_path(tmp_path / "image.dd"))
    assert on_disk.hashes == img.hashes
    assert ev.get(officer, a.id).events[-1].details["derived"] == img.reference
    with pytest.raises(ValidationFailed) as bad:
        ev.register(officer, seal_number="", kind="liquid", category="phone")
    assert {e.field: e.rule for e in bad.value.errors} == {"seal_number": "property.required", "kind": "enum.value"}
    with pytest.raises(ValidationFailed) as bad:
        ev.register(officer, seal_number="S-9", kind="digital", category="disk_image")
    assert bad.value.errors[0].field == "content"
    with pytest.raises(ValidationFailed) as bad:
        _phone(world, "S-10", case_id=999999)
    assert bad.value.errors[0].field == "case_id" and bad.value.errors[0].rule == "reference.unknown"
    assert ("create", "ok") in _audit(world.svc, a.id)
    with world.svc.db.read() as s:
        refused = s.scalars(select(AuditRecord.outcome).where(AuditRecord.action == "create",
                                                              AuditRecord.object_type == "EvidenceItem",
                                                              AuditRecord.outcome == "refused")).all()
    assert len(refused) >= 3


def test_two_sided_transfer(world: Any) -> None:
    ev = world.svc.evidence
    officer, lab = world.actor("REGA", "officer"), world.actor("REGA", "lab_technician")
    chief, other = world.actor("REGA", "unit_chief"), world.actor("REGB", "officer")
    item = _phone(world)
    t = ev.transfer(officer, item.id, to_user=lab.username, purpose="examination", place="station")
    assert t.state == "in_transfer" and t.custodian == officer.username and t.pending_to == lab.username
    for who in (officer, lab):
        assert [v.id for v in ev.list(who, pending=True)[0]] == [item.id]
    with pytest.raises(Conflict) as c:
        ev.receive(chief, item.id)
    assert c.value.rule == "custody.not_receiver"
    with pytest.raises(NotFound):
        ev.receive(other, item.id)
    with pytest.raises(Conflict) as c:
        ev.transfer(officer, item.id, to_user=chief.username, purpose="again")
    assert c.value.rule == "state.transition" and c.value.extra["allowed"] == ["in_custody", "at_lab"]
    with pytest.raises(ValidationFailed) as bad:
        ev.refuse(lab, item.id, reason=" ")
    assert bad.value.errors[0].field == "reason"
    r = ev.refuse(lab, item.id, reason="seal broken on arrival")
    assert r.state == "in_custody" and r.custodian == officer.username and r.pending_to is None
    ev.transfer(officer, item.id, to_user=lab.username, purpose="examination")
    got = ev.receive(lab, item.id, storage_location="Lab safe 2")
    assert got.state == "at_lab" and got.custodian == lab.username and got.storage_location == "Lab safe 2"
    received = got.events[-1]
    assert received.kind == "received" and received.actor == lab.username and received.counterpart == officer.username
    with pytest.raises(Conflict) as c:
        ev.transfer(officer, item.id, to_user=chief.username, purpose="x")
    assert c.value.rule == "custody.not_custodian"
    ev.examine(lab, item.id, purpose="extraction", notes="SIM removed")
    done = ev.dispose(lab, item.id, "destroyed", reason="court order 12/2026")
    assert done.state == "destroyed" and done.allowed == ()
    with pytest.raises(Conflict) as c:
        ev.transfer(lab, item.id, to_user=officer.username, purpose="x")
    assert c.value.extra["allowed"] == [] and "final" in str(c.value)
    kinds = [e.kind for e in ev.custody_log(lab, item.id)]
    assert kinds == ["seized", "sealed", "transferred", "transfer_refused", "transferred", "received", "examined",
                     "destroyed"]
    assert ("custody.transfer", "refused") in _audit(world.svc, item.id)
    assert ("custody.receive", "refused") in _audit(world.svc, item.id)
    assert ev.verify_chain(officer, item.id).ok


def test_chain_detects_a_tampered_row(world: Any) -> None:
    ev = world.svc.evidence
    officer, lab = world.actor("REGA", "officer"), world.actor("REGA", "lab_technician")
    a, b = _phone(world, "S-1"), _phone(world, "S-2")
    for item in (a, b):
        ev.transfer(officer, item.id, to_user=lab.username, purpose="lab")
        ev.receive(lab, item.id)
    report = ev.verify_chain(lab, a.id)
    assert report.ok and report.events == 4
    with world.svc.db.write() as s:
        s.execute(update(CustodyEvent).where(CustodyEvent.item_id == a.id, CustodyEvent.seq == 3)
                  .values(place="somewhere else"))
        s.execute(delete(CustodyEvent).where(CustodyEvent.item_id == b.id, CustodyEvent.seq == 4))
    broken = ev.verify_chain(lab, a.id)
    assert not broken.ok and broken.broken_seq == 3 and "changed" in broken.reason
    cut = ev.verify_chain(lab, b.id)
    assert not cut.ok and cut.broken_seq == 4
    assert ("verify-chain", "ok") in _audit(world.svc, a.id)


def test_integrity_mismatch_is_recorded_and_alerts_chiefs(world: Any) -> None:
    ev = world.svc.evidence
    officer, lab = world.actor("REGA", "officer"), world.actor("REGA", "lab_technician")
    item = ev.register(officer, seal_number="D-1", kind="digital", category="disk_image", content=io.BytesIO(IMAGE))
    ok = ev.verify(officer, item.id, io.BytesIO(IMAGE))
    assert ok.match
    tampered = IMAGE[:-1] + b"\x01"
    bad = ev.verify(officer, item.id, io.BytesIO(tampered))
    assert not bad.match and bad.observed["sha256"] == hashlib.sha256(tampered).hexdigest()
    assert bad.expected["sha256"] == item.hashes["sha256"]
    ev.transfer(officer, item.id, to_user=lab.username, purpose="lab")
    got = ev.receive(lab, item.id, content=io.BytesIO(tampered))
    assert got.custodian == lab.username and got.hashes == item.hashes  # never "fixed"
    kinds = [e.kind for e in got.events]
    assert kinds[-5:] == ["verified", "integrity_failure", "transferred", "received", "integrity_failure"]
    failure = got.events[-1].details
    assert failure["expected"]["sha256"] != failure["observed"]["sha256"]
    with world.svc.db.read() as s:
        alerted = set(s.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                .where(Notification.kind == "evidence.integrity_failure")))
    assert alerted == {world.username("REGA", "unit_chief", c) for c in ("unclassified", "restricted", "secret")}
    with pytest.raises(ValidationFailed) as e:
        ev.verify(officer, _phone(world).id, io.BytesIO(b"x"))
    assert e.value.errors[0].rule == "evidence.not_digital"
    assert ev.verify_chain(lab, item.id).ok


def test_need_to_know(world: Any) -> None:
    ev = world.svc.evidence
    mine = _phone(world, "S-1")
    secret = _phone(world, "S-2", classification="secret")
    theirs = _phone(world, "S-1", unit="REGB")
    other = world.actor("REGB", "officer")
    with pytest.raises(NotFound):
        ev.get(other, mine.id)
    with pytest.raises(NotFound):
        ev.verify_chain(other, mine.id)
    assert [v.id for v in ev.list(other)[0]] == [theirs.id]
    low = world.actor("REGA", "investigator", "unclassified")
    assert {v.id for v in ev.list(low)[0]} == {mine.id}
    hq = world.actor("HQ", "unit_chief")
    assert {v.id for v in ev.list(hq)[0]} == {mine.id, secret.id, theirs.id}
    # the holder always sees what they hold: a REGB receiver sees the item sent to them
    ev.transfer(world.actor("REGA", "officer"), mine.id, to_user=other.username, purpose="joint investigation")
    assert ev.get(other, mine.id).pending_to == other.username
    with pytest.raises(ValidationFailed) as bad:
        ev.list(other, state="lost")
    assert bad.value.errors[0].field == "state"
    assert ("read", "ok") in _audit(world.svc, mine.id)
    assert ("custody.verify-chain", "ok") not in _audit(world.svc, mine.id)


def test_concurrent_custody_appends_keep_the_chain(world: Any) -> None:
    """Six verifications of one item at once and six registrations of one seal at once: the chain
    stays gap-free and valid, and exactly one seal registration wins."""
    from concurrent.futures import ThreadPoolExecutor

    ev = world.svc.evidence
    officer = world.actor("REGA", "officer")
    item = ev.register(officer, seal_number="D-1", kind="digital", category="disk_image", content=io.BytesIO(IMAGE))
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: ev.verify(officer, item.id, io.BytesIO(IMAGE)).match, range(6)))
    assert all(results)
    report = ev.verify_chain(officer, item.id)
    assert report.ok and report.events == 8
    assert [e.seq for e in ev.custody_log(officer, item.id)] == list(range(1, 9))

    def attempt(_: int) -> str:
        try:
            return _phone(world, "RACE-1").reference
        except Conflict as exc:
            return exc.rule

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("seal.duplicate") == 5
    with world.svc.db.read() as s:
        from amane.store.tables import EvidenceItem

        assert s.scalar(select(func.count()).select_from(EvidenceItem)
                        .where(EvidenceItem.seal_number == "RACE-1")) == 1
