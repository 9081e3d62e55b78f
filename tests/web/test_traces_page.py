"""The trace-extraction panel of a digital evidence item in ar/fr/en: queue a scan through the form
(422 naming the field for a bad path), progress and results after the worker ran, the histogram
and the records that hold the selectors found (issue 6, parts 4, 7 and 8)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from amane.services.context import Actor
from amane.web.i18n import t
from tests.web.test_pages import LANGS, csrf_of, sign_in, txt

CONTENT = b"\x00" * 64 + b"appelle le +212 661-234567 ou ecris a karim.z@example.org" + b"\x00" * 64


def test_scan_panel_queue_progress_and_hits(world: Any, tmp_path: Path) -> None:
    svc = world.svc
    person = svc.entities.create(Actor.system(), "Person", {"given_name": "Karim", "family_name": "Zeroual",
                                                            "phone": "0661234567"}, owner_unit="REGA",
                                 classification="unclassified")
    img = tmp_path / "phone.bin"
    img.write_bytes(CONTENT)
    name = world.username("REGA", "investigator")
    item = svc.evidence.register(world.actor("REGA", "investigator"), seal_number="P-1", kind="digital",
                                 category="phone", content=io.BytesIO(CONTENT))
    client, _ = sign_in(world, name)
    page = txt(client.get(f"/evidence/{item.id}"))
    res = client.post(f"/evidence/{item.id}/scan", data={"csrf": csrf_of(page), "path": str(tmp_path / "no"),
                                                         "kind": "traces"})
    assert res.status_code == 422 and str(tmp_path / "no") in txt(res)
    res = client.post(f"/evidence/{item.id}/scan", data={"csrf": csrf_of(page), "path": str(img), "kind": "traces"},
                      follow_redirects=False)
    assert res.status_code in (302, 303)
    page = txt(client.get(f"/evidence/{item.id}"))
    assert "data-poll=" in page and t("ev.traces.states.queued", "fr") in page
    svc.traces.run(svc.traces.next_queued() or 0)
    for lang in LANGS:
        client.cookies.set("amane_lang", lang)
        page = txt(client.get(f"/evidence/{item.id}"))
        assert t("ev.traces.states.done", lang) in page and "data-poll=" not in page
        assert t("ev.traces.hits", lang) in page and f"/records/view/{person.id}" in page
        assert "+212661234567" in page and "karim.z@example.org" in page
    other, _ = sign_in(world, world.username("REGB", "investigator"))
    assert other.get(f"/evidence/{item.id}").status_code == 404


def test_register_an_item_through_the_form(world: Any) -> None:
    name = world.username("REGA", "investigator")
    client, _ = sign_in(world, name)
    for lang in LANGS:
        client.cookies.set("amane_lang", lang)
        assert t("ev.new.title", lang) in txt(client.get("/evidence/new"))
    page = txt(client.get("/evidence/new"))
    res = client.post("/evidence/new", data={"csrf": csrf_of(page), "seal_number": "", "kind": "digital",
                                             "category": "phone"})
    assert res.status_code == 422
    body = txt(res)
    assert "seal_number" in body or t("ev.fields.seal_number", "fr") in body
    res = client.post("/evidence/new", data={"csrf": csrf_of(page), "seal_number": "S-9", "kind": "digital",
                                             "category": "phone", "classification": "restricted"},
                      files={"content": ("phone.bin", CONTENT)}, follow_redirects=False)
    assert res.status_code in (302, 303), txt(res)[-500:]
    item_page = txt(client.get(res.headers["location"]))
    import hashlib

    assert hashlib.sha256(CONTENT).hexdigest() in item_page and "S-9" in item_page
    res = client.post("/evidence/new", data={"csrf": csrf_of(page), "seal_number": "S-9", "kind": "physical",
                                             "category": "phone"})
    assert res.status_code == 409


def test_photo_of_an_item(world: Any) -> None:
    """Photos of a seized item attach to it (type checked by content), download audited; another
    region's user cannot attach to it."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    svc = world.svc
    item = svc.evidence.register(world.actor("REGA", "officer"), seal_number="PH-1", kind="physical",
                                 category="weapon")
    client, _ = sign_in(world, world.username("REGA", "officer"))
    page = txt(client.get(f"/evidence/{item.id}"))
    res = client.post(f"/evidence/{item.id}/attachments", data={"csrf": csrf_of(page)},
                      files={"file": ("scelle.png", buf.getvalue())}, follow_redirects=False)
    assert res.status_code in (302, 303) and "done=attached" in res.headers["location"]
    page = txt(client.get(f"/evidence/{item.id}"))
    assert "scelle.png" in page
    [att] = svc.attachments.list(world.actor("REGA", "officer"), "evidence", item.id)
    assert att.media_type == "image/png"
    other, _ = sign_in(world, world.username("REGB", "officer"))
    page_b = txt(other.get("/evidence"))
    res = other.post(f"/evidence/{item.id}/attachments", data={"csrf": csrf_of(page_b)},
                     files={"file": ("x.png", buf.getvalue())})
    assert res.status_code == 404
