"""Attaching a file from a case page and downloading it; refused types say why; outsiders get 404."""

from __future__ import annotations

from typing import Any

from amane.web.i18n import t
from tests.services.test_procedure_files import PNG
from tests.web.test_pages import sign_in, txt


def test_attach_and_download_from_case_page(world: Any) -> None:
    chief = world.actor("REGA", "unit_chief")
    inc = world.svc.entities.create(chief, "Incident", {"offence_category": "theft", "title": "Vol",
                                                        "occurred_from": "2026-10-01T10:00"}).id
    case = world.svc.cases.open(chief, title="Vols", incidents=[inc], lead=world.username("REGA", "investigator"))
    client, csrf = sign_in(world, world.username("REGA", "unit_chief"))
    page = txt(client.get(f"/cases/{case.id}"))
    assert t("proc.files.none", "fr") in page
    r = client.post(f"/cases/{case.id}/attachments", data={"csrf": csrf},
                    files={"file": ("scène de crime.png", PNG, "application/octet-stream")})
    assert r.status_code == 200 and t("proc.files.title", "fr") in txt(r)
    assert "scène de crime.png" in txt(r) and "image/png" in txt(r)
    aid = int(txt(r).split('href="/attachments/')[1].split('"')[0])
    got = client.get(f"/attachments/{aid}")
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    # an executable named .png is refused, and the page says why
    r = client.post(f"/cases/{case.id}/attachments", data={"csrf": csrf},
                    files={"file": ("photo.png", b"MZ\x90\x00" + b"\x00" * 300, "image/png")})
    assert t("proc.files.errors.file.type_not_allowed", "fr") in txt(r)
    # without the CSRF token: refused
    r = client.post(f"/cases/{case.id}/attachments", files={"file": ("p.png", PNG, "image/png")},
                    follow_redirects=False)
    assert r.status_code == 403
    # a chief of another region: the file does not exist for them
    other, _ = sign_in(world, world.username("REGB", "unit_chief"))
    assert other.get(f"/attachments/{aid}").status_code == 404
