"""Trace scans on digital evidence, on SQLite and PostgreSQL: queue, worker run with progress,
restart safety, the selectors found, and their record hits per item and per case within
need-to-know (issue 6, parts 4 and 7)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from amane.services.context import Actor
from amane.services.errors import Conflict, NotFound, ValidationFailed
from amane.store.tables import TraceScan

CONTENT = (b"contacts\x00\x00 Karim +212 661-234567 karim.z@example.org\n"
           b"IBAN MA64011519000001205000534921 and nothing else\n")


def _digital(world: Any, tmp_path: Path, *, case_id: int | None = None, role: str = "investigator") -> tuple[Any, Path]:
    img = tmp_path / "phone.dd"
    img.write_bytes(b"\x00" * 5000 + CONTENT + b"\xff" * 3000)
    item = world.svc.evidence.register(world.actor("REGA", role), seal_number="S-1", kind="digital",
                                       category="phone", content=io.BytesIO(img.read_bytes()), case_id=case_id)
    return item, img


def _person(world: Any, unit: str) -> str:
    v = world.svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                             "phone": "0661234567"},
                                  owner_unit=unit, classification="unclassified")
    return str(v.id)


def test_queue_run_selectors_and_hits(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    tech = world.actor("REGA", "investigator")
    mine = _person(world, "STA")
    _person(world, "STB")  # another region's record: not shown to region A
    item, img = _digital(world, tmp_path)
    queued = svc.traces.queue(tech, item.id, str(img), out_dir=str(tmp_path / "out"))
    assert queued["status"] == "queued" and queued["bytes_total"] == img.stat().st_size
    scan_id = svc.traces.next_queued()
    assert scan_id == queued["id"] and svc.traces.next_queued() is None
    seen: list[tuple[int, int]] = []
    done = svc.traces.run(scan_id, progress=lambda d, t: seen.append((d, t)))
    assert done["status"] == "done" and done["counts"]["phone"] >= 1 and done["counts"]["email"] >= 1
    assert seen and seen[-1][0] == img.stat().st_size
    assert (tmp_path / "out" / "phone.txt").exists() or any((tmp_path / "out").iterdir())
    sels = {(s["kind"], s["value"]) for s in svc.traces.selectors(tech, item.id)}
    assert ("phone", "+212661234567") in sels and ("email", "karim.z@example.org") in sels
    assert ("iban", "MA64011519000001205000534921") in sels
    hits = svc.traces.hits(tech, item.id)
    assert [h["record"]["id"] for h in hits] == [mine]
    assert hits[0]["items"] == [{"id": item.id, "reference": item.reference}]
    national = world.actor("HQ", "unit_chief")
    assert len(svc.traces.hits(national, item.id)) == 2
    with pytest.raises(NotFound):
        svc.traces.hits(world.actor("REGB", "investigator"), item.id)


def test_restart_requeues_and_bad_input(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    tech = world.actor("REGA", "investigator")
    item, img = _digital(world, tmp_path)
    with pytest.raises(ValidationFailed) as bad:
        svc.traces.queue(tech, item.id, str(tmp_path / "missing.dd"))
    assert bad.value.errors[0].field == "path" and bad.value.errors[0].rule == "path.missing"
    physical = svc.evidence.register(tech, seal_number="S-2", kind="physical", category="weapon")
    with pytest.raises(ValidationFailed) as bad:
        svc.traces.queue(tech, physical.id, str(img))
    assert bad.value.errors[0].rule == "evidence.not_digital"
    a = svc.traces.queue(tech, item.id, str(img))
    b = svc.traces.queue(tech, item.id, str(img))
    assert svc.traces.next_queued() == a["id"]  # a worker claimed it, then died
    assert svc.traces.requeue_interrupted() == 1
    with svc.db.read() as s:
        assert s.scalar(select(TraceScan.status).where(TraceScan.id == a["id"])) == "queued"
    assert svc.traces.cancel(tech, b["id"])["error"] == "cancelled"
    with pytest.raises(Conflict):
        svc.traces.cancel(tech, b["id"])
    # an image that disappears before the worker runs: the scan fails with the reason, nothing else
    scan_id = svc.traces.next_queued()
    img.unlink()
    failed = svc.traces.run(scan_id)
    assert failed["status"] == "failed" and "phone.dd" in failed["error"]
    with svc.db.write() as s:
        s.execute(update(TraceScan).values(status="done"))


def test_case_hits(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    mine = _person(world, "REGA")
    inc = svc.entities.create(Actor.system(), "Incident", {
        "title": "Trafic", "offence_category": sorted(svc.registry.get("Incident").properties["offence_category"]
                                                      .values)[0], "occurred_from": "2026-03-01T10:00:00Z"},
        owner_unit="REGA", classification="unclassified")
    case = svc.cases.open(chief, title="Réseau", incidents=[str(inc.id)], lead=chief.username)
    item, img = _digital(world, tmp_path, case_id=case.id, role="unit_chief")
    tech = world.actor("REGA", "investigator")
    from amane.forensics import scan

    svc.traces.attach(tech, item.id, scan(img))
    hits = svc.traces.case_hits(chief, case.id)
    assert [(h["record"]["id"], h["items"][0]["reference"]) for h in hits] == [(mine, item.reference)]
    with pytest.raises(NotFound):
        svc.traces.case_hits(world.actor("REGB", "unit_chief"), case.id)


SAMPLES = Path("/usr/share/forensics-samples")


def test_files_scan_with_hash_sets_on_a_real_ntfs_image(world: Any, tmp_path: Path) -> None:
    """The Debian forensics-samples NTFS image: a deleted file in a known-bad set raises the alert,
    files of a known-good set are counted and skipped, the timeline is written."""
    import hashlib
    import shutil

    from amane.forensics.filesystems import tools_available

    image = SAMPLES / "fs.ntfs.xz"
    if not tools_available() or not image.exists():
        pytest.skip("needs Debian sleuthkit and forensics-samples-ntfs (make test installs them)")
    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    originals = SAMPLES / "original-files"
    bad = tmp_path / "bad.txt"
    bad.write_text(hashlib.sha256((originals / "audio2" / "deleted.mp3").read_bytes()).hexdigest() + "\n"
                   "not-a-hash\n", encoding="utf-8")
    good = tmp_path / "nsrl.txt"
    good.write_text("\n".join(hashlib.md5(p.read_bytes()).hexdigest()
                              for p in sorted((originals / "audio1").iterdir())) + "\n", encoding="utf-8")
    made = svc.hashsets.import_path(chief, bad, kind="known_bad", name="seized-music")
    assert made["counts"]["sha256"] == 1 and made["bad_lines"] == 1
    svc.hashsets.import_path(chief, good, kind="known_good", name="nsrl-sample")
    with pytest.raises(Conflict):
        svc.hashsets.import_path(chief, good, kind="known_good", name="nsrl-sample")
    with pytest.raises(ValidationFailed) as wrong:
        svc.hashsets.import_path(chief, good, kind="maybe")
    assert wrong.value.errors[0].field == "kind"
    local = tmp_path / "fs.ntfs.xz"
    shutil.copy(image, local)
    item = svc.evidence.register(chief, seal_number="HD-1", kind="digital", category="disk_image",
                                 content=io.BytesIO(local.read_bytes()))
    queued = svc.traces.queue(chief, item.id, str(local), out_dir=str(tmp_path / "out"), kind="files")
    done = svc.traces.run(svc.traces.next_queued() or queued["id"])
    assert done["status"] == "done", done["error"]
    assert done["counts"]["known_bad"] == 1 and done["counts"]["known_good"] >= 3
    assert done["counts"]["deleted"] >= 1 and done["counts"]["timeline_rows"] > 0
    [finding] = done["findings"]
    assert finding["path"].endswith("deleted.mp3") and finding["deleted"] and finding["sets"] == ["seized-music"]
    assert (tmp_path / "out" / "timeline.csv").exists()
    from amane.store.tables import Notification

    with svc.db.read() as s:
        kinds = set(s.scalars(select(Notification.kind).where(Notification.user_id == chief.user_id)))
    assert "evidence.known_bad" in kinds
