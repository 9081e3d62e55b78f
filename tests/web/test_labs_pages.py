"""Evidence and laboratory pages in ar/fr/en (RTL for Arabic): the register and an item's page
with its custody log, chain result and hand-over forms; the lab request board, form, page and
actions (422 naming the field, 409 listing the allowed transitions); the statistics page for
lab chiefs; need-to-know 404s; inbox notices in words."""

from __future__ import annotations

import re
from typing import Any

from amane.web.i18n import t
from tests.services.test_labs import make_labs, phone, submit
from tests.web.test_pages import LANGS, csrf_of, html_tag, sign_in, txt


def _expected(lang: str) -> str:
    return f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'


def test_pages_in_each_language(world: Any) -> None:
    labs = make_labs(world)
    item = phone(world, "S-1")
    r = submit(world, [item.id], priority="urgent")
    world.svc.labs.accept(labs["chief.laba"], r.id, technician="tech1.laba")
    inv, _ = sign_in(world, world.username("REGA", "investigator"))
    chief, _ = sign_in(world, "chief.laba")
    pages = {inv: ["/evidence", "/evidence?view=held&category=phone", f"/evidence/{item.id}", "/labs",
                   "/labs/requests/new", f"/labs/requests/new?item={item.id}", f"/labs/requests/{r.id}"],
             chief: ["/labs", "/labs?view=lab&lab=LABA", f"/labs/requests/{r.id}", "/labs/stats",
                     "/labs/stats?lab=LABA&since=2026-01-01&until=2026-12-31"]}
    for lang in LANGS:
        for client, urls in pages.items():
            client.cookies.set("amane_lang", lang)
            for url in urls:
                res = client.get(url)
                assert res.status_code == 200, (url, lang, txt(res)[-800:])
                page = txt(res)
                assert html_tag(page) == _expected(lang), url
                assert "{" not in re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S).split(
                    "<main", 1)[1].replace("{{", ""), url  # no unfilled placeholder
        inv.cookies.set("amane_lang", lang)
        page = txt(inv.get(f"/labs/requests/{r.id}"))
        assert t("lab.states.accepted", lang) in page and t("lab.exam.dna", lang) in page
        assert r.reference in page and "tech1.laba" in page
        page = txt(inv.get(f"/evidence/{item.id}"))
        assert t("ev.item.chain_ok", lang, n=2) in page and item.reference in page
        assert f"/api/v1/evidence/{item.id}/custody-sheet?lang=ar" in page
        board = txt(chief.get("/labs?view=lab&lab=LABA"))
        assert t("lab.states.in_progress", lang) in board and r.reference in board
    menu = txt(inv.get("/"))
    assert 'href="/evidence"' in menu


def test_custody_and_lab_flow_through_the_forms(world: Any) -> None:
    make_labs(world)
    item = phone(world, "S-1")
    inv_name = world.username("REGA", "investigator")
    inv, _ = sign_in(world, inv_name)
    tech, _ = sign_in(world, "tech1.laba")
    chief, _ = sign_in(world, "chief.laba")
    other, _ = sign_in(world, world.username("REGB", "investigator"))
    for c in (inv, tech, chief, other):
        c.cookies.set("amane_lang", "en")
    # hand the item over to the lab; bad input names the field and changes nothing
    csrf = csrf_of(txt(inv.get(f"/evidence/{item.id}")))
    res = inv.post(f"/evidence/{item.id}/transfer", data={"csrf": csrf, "to_user": "nobody", "purpose": "DNA"})
    assert res.status_code == 422 and t("lab.rules.user.unknown", "en") in txt(res)
    res = inv.post(f"/evidence/{item.id}/transfer", data={"csrf": csrf, "to_user": "tech1.laba", "purpose": "DNA",
                                                          "place": "Station A"}, follow_redirects=False)
    assert res.status_code == 303
    page = txt(tech.get(f"/evidence/{item.id}"))
    assert t("ev.receive.title", "en") in page
    res = tech.post(f"/evidence/{item.id}/receive", data={"csrf": csrf_of(page), "storage_location": "Safe 3"},
                    follow_redirects=False)
    assert res.status_code == 303
    page = txt(tech.get(f"/evidence/{item.id}?done=receive"))
    assert t("ev.done.receive", "en") in page and t("ev.states.at_lab", "en") in page and "Safe 3" in page
    assert other.get(f"/evidence/{item.id}").status_code == 404
    # the request through the form
    page = txt(inv.get("/labs/requests/new"))
    csrf = csrf_of(page)
    res = inv.post("/labs/requests/new", data={"csrf": csrf, "lab": "LABA", "exam_type": "dna", "items": "",
                                               "questions": ""})
    assert res.status_code == 422
    assert t("lab.rules.property.required", "en") in txt(res)
    assert world.svc.labs.list(world.actor("HQ", "analyst"))[1] == 0
    res = inv.post("/labs/requests/new", data={"csrf": csrf, "lab": "LABA", "exam_type": "dna",
                                               "items": str(item.id), "questions": "Whose blood?"},
                   follow_redirects=False)
    assert res.status_code == 303
    rid = int(res.headers["location"].split("/")[-1].split("?")[0])
    assert other.get(f"/labs/requests/{rid}").status_code == 404
    # the chief sees it in the inbox, in words, and accepts it
    inbox = re.sub(r"</?bdi>", "", txt(chief.get("/inbox")))
    ref = world.svc.labs.get(world.actor("REGA", "investigator"), rid).reference
    assert t("proc.inbox.kinds.lab.submitted", "en", request=ref, exam="dna", priority="routine",
             by=inv_name) in inbox
    page = txt(chief.get(f"/labs/requests/{rid}"))
    res = chief.post(f"/labs/requests/{rid}/accept", data={"csrf": csrf_of(page), "technician": "tech1.laba"},
                     follow_redirects=False)
    assert res.status_code == 303
    # a second acceptance (stale page) is refused with the allowed transitions in words
    res = chief.post(f"/labs/requests/{rid}/accept", data={"csrf": csrf_of(page), "technician": "tech2.laba"})
    assert res.status_code == 409
    assert t("lab.conflict.transition", "en", state=t("lab.states.accepted", "en"),
             allowed=", ".join([t("lab.states.in_progress", "en"), t("lab.states.cancelled", "en")])) in txt(res)
    page = txt(tech.get(f"/labs/requests/{rid}"))
    csrf = csrf_of(page)
    assert tech.post(f"/labs/requests/{rid}/start", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    res = tech.post(f"/labs/requests/{rid}/complete", data={"csrf": csrf, "results": "Blood of the victim."},
                    files={"report": ("report.pdf", b"%PDF-1.4\n%x\n", "application/pdf")}, follow_redirects=False)
    assert res.status_code == 303, txt(res)[-500:]
    page = txt(inv.get(f"/labs/requests/{rid}"))
    assert "Blood of the victim." in page and "report.pdf" in page and t("lab.states.completed", "en") in page
    assert f"/api/v1/lab-requests/{rid}/report" in page
    assert inv.get(f"/api/v1/lab-requests/{rid}/report").content.startswith(b"%PDF")
    stats = txt(chief.get("/labs/stats?lab=LABA"))
    assert t("lab.stats.turnaround", "en") in stats and t("lab.exam.dna", "en") in stats
    assert t("lab.stats.not_chief", "en") in txt(tech.get("/labs/stats"))
    assert other.post(f"/labs/requests/{rid}/cancel", data={"csrf": csrf_of(txt(other.get("/labs"))),
                                                            "reason": "x"}).status_code == 404
