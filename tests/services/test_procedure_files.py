"""Attachments on procedures (need-to-know of their object, audited downloads, corruption found,
crash between file and row swept) and the printable documents (Arabic text layer in logical order,
the case file exported as a ZIP with a manifest of hashes, from the CLI too)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from amane.files import CorruptBlob, UploadRefused
from amane.services.audit_log import AuditQuery
from amane.services.context import Actor
from amane.services.errors import NotFound

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _case(world: Any) -> tuple[int, str]:
    chief = world.actor("REGA", "unit_chief")
    officer = world.actor("REGA", "officer")
    person = world.svc.entities.create(chief, "Person", {"given_name_ar": "محمد", "family_name_ar": "العلوي",
                                                         "given_name": "Mohamed", "family_name": "Alaoui"}).id
    rep = world.svc.reports.create(officer, {
        "title": "سرقة بالخطف", "offence_category": "robbery", "occurred_from": "2026-11-20T21:30",
        "narrative": "صرح الضحية بأن شخصا خطف حقيبتها", "involved": [{"person": person, "role": "suspect"}]})
    rep = world.svc.reports.submit(officer, rep.id, version=rep.version)
    rep = world.svc.reports.approve(chief, rep.id, version=rep.version)
    assert rep.incident_id
    case = world.svc.cases.open(chief, title="شبكة السرقة بالخطف", incidents=[rep.incident_id],
                                lead=world.username("REGA", "investigator"))
    return case.id, rep.incident_id


def test_attachments_follow_their_object(world: Any) -> None:
    svc = world.svc
    cid, _ = _case(world)
    lead = world.actor("REGA", "investigator")
    a = svc.attachments.upload(lead, "case", cid, io.BytesIO(PNG), filename="../../etc/photo 1.png")
    assert a.media_type == "image/png" and a.filename == "photo 1.png"
    assert a.sha256 == hashlib.sha256(PNG).hexdigest()
    with pytest.raises(UploadRefused) as exc:  # an executable named .jpg is refused by its content
        svc.attachments.upload(lead, "case", cid, io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), filename="x.jpg")
    assert exc.value.errors[0].rule == "file.type_not_allowed"
    outsider = world.actor("REGB", "unit_chief")
    with pytest.raises(NotFound):
        svc.attachments.upload(outsider, "case", cid, io.BytesIO(PNG), filename="p.png")
    with pytest.raises(NotFound):
        svc.attachments.download(outsider, a.id)
    view, data = svc.attachments.read_all(lead, a.id)
    assert data == PNG
    rows, _ = svc.audit_log.search(Actor.system(), AuditQuery(action="download"))
    assert rows and rows[0]["object_id"] == str(a.id)
    # a flipped byte in the stored file is found on download
    path = svc.attachments.store.root / a.sha256[:2] / a.sha256[2:4] / a.sha256
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptBlob):
        svc.attachments.read_all(lead, a.id)
    # a file whose row never committed (crash between file and row) is swept after the grace period
    orphan = svc.attachments.store.put(io.BytesIO(PNG + b"x"), max_bytes=10**6, allowed_types={"image/png"})
    old = orphan.path.stat().st_mtime - 2 * svc.settings.attachments_sweep_grace_s
    os.utime(orphan.path, (old, old))
    report = svc.attachments.sweep()
    assert orphan.sha256 in report.removed and not orphan.path.exists() and path.exists()


def test_documents_and_export(world: Any, tmp_path: Path, monkeypatch: Any) -> None:
    svc = world.svc
    cid, _ = _case(world)
    chief = world.actor("REGA", "unit_chief")
    svc.attachments.upload(chief, "case", cid, io.BytesIO(PNG), filename="scène.png")
    view, pdf = svc.documents.case_pdf(chief, cid, lang="ar")
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "شبكة السرقة بالخطف" in text and view.reference in text
    reports, _ = svc.reports.list(chief, per_page=10)
    _, rpdf = svc.documents.report_pdf(chief, reports[0].id, lang="ar")
    rtext = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(rpdf)).pages)
    assert "محمد العلوي" in rtext and "يولعلا دمحم" not in rtext
    with pytest.raises(NotFound):
        svc.documents.case_pdf(world.actor("REGA", "analyst"), cid, lang="fr")
    _, data = svc.documents.case_export(chief, cid, lang="fr")
    z = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(z.read("manifest.json"))
    names = {f["path"] for f in manifest["files"]}
    assert "case.pdf" in names and any(n.startswith("reports/PV-") for n in names)
    assert any(n.endswith("scène.png") for n in names)
    for f in manifest["files"]:
        assert hashlib.sha256(z.read(f["path"])).hexdigest() == f["sha256"]
    rows, _ = svc.audit_log.search(Actor.system(), AuditQuery(action="export", per_page=100))
    assert {r["details"]["document"] for r in rows} >= {"case_summary.pdf", "incident_report.pdf",
                                                         "case_export.zip"}
    # the CLI writes the same ZIP
    from amane.cli.main import app

    monkeypatch.setenv("AMANE_DATABASE_URL", svc.settings.database_url)
    monkeypatch.setenv("AMANE_DATA_DIR", str(svc.settings.data_dir))
    from amane.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path / "case.zip"
    res = CliRunner().invoke(app, ["cases", "export", str(cid), "-o", str(out), "--lang", "ar"])
    get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    assert "manifest.json" in zipfile.ZipFile(out).namelist()
    res = CliRunner().invoke(app, ["cases", "list", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["id"] == cid
