"""Entity resolution under the platform's rules: runs queue likely duplicates across scripts and
units; the queue, decisions and identities follow need-to-know; merges keep both records, collapse
search results, can be undone, and every decision is audited in the hash chain."""

from __future__ import annotations

from typing import Any

import pytest

from amane.services.audit import verify
from amane.services.audit_log import AuditQuery
from amane.services.context import Actor
from amane.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from amane.services.search import PersonQuery
from amane.store.tables import EntityCluster, MatchCandidate

PEOPLE = {
    # the same man, written in Latin letters at station A and in Arabic at station B
    "alaoui_a": ("STA", {"given_name": "Mohamed", "family_name": "Alaoui", "birth_date": "1984-03-07",
                         "father_name": "Ahmed", "birth_place": "Fes", "sex": "M"}),
    "alaoui_b": ("STB", {"given_name_ar": "محمد", "family_name_ar": "العلوي", "birth_date": "1984-07-03",
                         "father_name": "أحمد", "birth_place": "فاس", "sex": "M"}),
    # another man with the same name: other birth date, other father
    "alaoui_old": ("STA", {"given_name": "Mohamed", "family_name": "Alaoui", "birth_date": "1961-11-22",
                           "father_name": "Driss", "birth_place": "Meknes", "sex": "M"}),
    "bennani": ("STA", {"given_name": "Fatima Zahra", "family_name": "Bennani", "birth_date": "1990-02-01",
                        "sex": "F"}),
    "bennani_b": ("STB", {"given_name_ar": "فاطمة الزهراء", "family_name_ar": "بناني", "birth_date": "1990-02-01",
                          "sex": "F"}),
    "tazi": ("STB", {"given_name": "Karim", "family_name": "Tazi", "birth_date": "1975-05-05", "sex": "M"}),
}


@pytest.fixture
def people(world: Any) -> dict[str, str]:
    return {key: world.svc.entities.create(Actor.system(), "Person", data, owner_unit=owner).id
            for key, (owner, data) in PEOPLE.items()}


def _pair(ids: dict[str, str], x: str, y: str) -> tuple[str, str]:
    a, b = sorted((ids[x], ids[y]))
    return a, b


def _queue(world: Any, actor: Actor, status: str = "pending") -> dict[tuple[str, str], Any]:
    items, total = world.svc.resolution.candidates(actor, status=status, limit=200)
    assert total == len(items)
    return {(c.a.id, c.b.id): c for c in items}


def test_run_finds_cross_script_duplicates_not_namesakes(world: Any, people: dict[str, str]) -> None:
    hq = world.actor("HQ", "analyst")
    result = world.svc.resolution.run(hq)
    assert result.persons == len(PEOPLE)
    queue = _queue(world, hq)
    same = queue.get(_pair(people, "alaoui_a", "alaoui_b"))
    assert same is not None, [(c.a.names, c.b.names, c.probability) for c in queue.values()]
    assert same.probability >= 0.9
    assert same.evidence  # per-field explanation for the reviewer
    assert _pair(people, "bennani", "bennani_b") in queue
    namesake = queue.get(_pair(people, "alaoui_a", "alaoui_old"))
    assert namesake is None or namesake.probability < 0.5
    clusters = {tuple(c["ids"]) for c in result.clusters}
    assert _pair(people, "alaoui_a", "alaoui_b") in clusters
    # a second run proposes the same pairs again, it does not duplicate them
    again = world.svc.resolution.run(hq)
    assert again.queued == result.queued
    assert len(_queue(world, hq)) == len(queue)


def test_regional_scope(world: Any, people: dict[str, str]) -> None:
    hq = world.actor("HQ", "analyst")
    world.svc.resolution.run(hq)
    cid = _queue(world, hq)[_pair(people, "alaoui_a", "alaoui_b")].id
    rega = world.actor("REGA", "analyst")
    # region A sees only one of the two records: the pair does not exist for it
    assert _pair(people, "alaoui_a", "alaoui_b") not in _queue(world, rega)
    with pytest.raises(NotFound):
        world.svc.resolution.candidate(rega, cid)
    with pytest.raises(NotFound):
        world.svc.resolution.decide(rega, cid, "accept")
    # its own run compares only what it may see
    res = world.svc.resolution.run(rega)
    assert res.persons == sum(1 for owner, _ in PEOPLE.values() if owner == "STA")
    with pytest.raises(Forbidden):
        world.svc.resolution.run(world.actor("HQ", "officer"))
    with pytest.raises(Forbidden):
        world.svc.resolution.candidates(world.actor("HQ", "investigator"))
    with pytest.raises(ValidationFailed) as exc:
        world.svc.resolution.run(rega, unit="STB")
    assert exc.value.errors[0].field == "unit"


def test_accept_merges_collapses_search_and_undo(world: Any, people: dict[str, str]) -> None:
    hq = world.actor("HQ", "analyst")
    world.svc.resolution.run(hq)
    cand = _queue(world, hq)[_pair(people, "alaoui_a", "alaoui_b")]
    decided = world.svc.resolution.decide(hq, cand.id, "accept", reason="same father, same place")
    assert decided.status == "accepted" and decided.merge_id
    with pytest.raises(Conflict):
        world.svc.resolution.decide(hq, cand.id, "reject", reason="changed my mind")
    # both records are kept; the identity shows both names
    for key in ("alaoui_a", "alaoui_b"):
        assert world.svc.entities.get(hq, people[key]).id == people[key]
    ident = world.svc.resolution.identity(hq, people["alaoui_b"])
    assert {m.id for m in ident.members} == {people["alaoui_a"], people["alaoui_b"]}
    assert "Mohamed Alaoui" in ident.names and "محمد العلوي" in ident.names
    # search shows the identity once, with all its names
    hits = world.svc.persons.search(hq, PersonQuery("Mohamed Alaoui"))
    merged = [h for h in hits if h.id in (people["alaoui_a"], people["alaoui_b"])]
    assert len(merged) == 1, [(h.id, h.names) for h in hits]
    assert "محمد العلوي" in merged[0].names and "Mohamed Alaoui" in merged[0].names
    assert any(h.id == people["alaoui_old"] for h in hits)  # the namesake stays separate
    # region A sees only its own record, and no trace of the other region's
    rega = world.actor("REGA", "analyst")
    ident_a = world.svc.resolution.identity(rega, people["alaoui_a"])
    assert [m.id for m in ident_a.members] == [people["alaoui_a"]] and "محمد العلوي" not in ident_a.names
    hits_a = world.svc.persons.search(rega, PersonQuery("Mohamed Alaoui"))
    assert all("محمد العلوي" not in h.names for h in hits_a)
    # undo
    with pytest.raises(ValidationFailed):
        world.svc.resolution.undo(hq, decided.merge_id, reason=" ")
    with pytest.raises(NotFound):
        world.svc.resolution.undo(rega, decided.merge_id, reason="not mine")
    undone = world.svc.resolution.undo(hq, decided.merge_id, reason="twin brothers")
    assert undone.undone_at and undone.undo_reason == "twin brothers"
    with pytest.raises(Conflict):
        world.svc.resolution.undo(hq, decided.merge_id, reason="again")
    ident = world.svc.resolution.identity(hq, people["alaoui_b"])
    assert [m.id for m in ident.members] == [people["alaoui_b"]]
    assert ident.merges and ident.merges[0].undone_at
    hits = world.svc.persons.search(hq, PersonQuery("Mohamed Alaoui"))
    assert {people["alaoui_a"], people["alaoui_b"]} <= {h.id for h in hits}
    # an undone pair is not proposed again
    assert _pair(people, "alaoui_a", "alaoui_b") not in _queue(world, hq)
    assert _pair(people, "alaoui_a", "alaoui_b") in _queue(world, hq, "undone")
    world.svc.resolution.run(hq)
    assert _pair(people, "alaoui_a", "alaoui_b") not in _queue(world, hq)


def test_reject_and_audit(world: Any, people: dict[str, str]) -> None:
    hq = world.actor("HQ", "analyst")
    world.svc.resolution.run(hq)
    cand = _queue(world, hq)[_pair(people, "bennani", "bennani_b")]
    with pytest.raises(ValidationFailed) as exc:
        world.svc.resolution.decide(hq, cand.id, "reject")
    assert exc.value.errors[0].field == "reason"
    with pytest.raises(ValidationFailed) as exc:
        world.svc.resolution.decide(hq, cand.id, "maybe", reason="x")
    assert exc.value.errors[0].field == "decision"
    assert world.svc.resolution.candidate(hq, cand.id).status == "pending"  # bad input changed nothing
    world.svc.resolution.decide(hq, cand.id, "reject", reason="different mothers")
    assert _pair(people, "bennani", "bennani_b") in _queue(world, hq, "rejected")
    world.svc.resolution.run(hq)
    assert _pair(people, "bennani", "bennani_b") not in _queue(world, hq)
    actions = {r["action"] for r in world.svc.audit_log.search(Actor.system(), AuditQuery(per_page=500))[0]}
    assert {"resolve", "reject-match"} <= actions
    _, problem = verify(world.svc.db)
    assert problem is None


def test_manual_merges_chain_and_partial_undo(world: Any, people: dict[str, str]) -> None:
    hq = world.actor("HQ", "unit_chief")
    a, b, c = people["alaoui_a"], people["alaoui_b"], people["tazi"]
    m1 = world.svc.resolution.merge(hq, a, b, reason="fingerprints")
    m2 = world.svc.resolution.merge(hq, b, c, reason="same passport")
    assert {m.id for m in world.svc.resolution.identity(hq, c).members} == {a, b, c}
    with pytest.raises(Conflict):
        world.svc.resolution.merge(hq, a, c, reason="again")
    with pytest.raises(ValidationFailed):
        world.svc.resolution.merge(hq, a, a, reason="self")
    with pytest.raises(ValidationFailed):
        world.svc.resolution.merge(hq, a, c, reason="")
    with pytest.raises(NotFound):
        world.svc.resolution.merge(hq, a, "0" * 32, reason="missing")
    with pytest.raises(NotFound):  # region A cannot merge with a record it cannot see
        world.svc.resolution.merge(world.actor("REGA", "unit_chief"), a, c, reason="x")
    world.svc.resolution.undo(hq, m1.id, reason="wrong")
    assert [m.id for m in world.svc.resolution.identity(hq, a).members] == [a]
    assert {m.id for m in world.svc.resolution.identity(hq, b).members} == {b, c}
    with world.svc.db.read() as s:
        rows = dict(s.query(EntityCluster.entity_id, EntityCluster.cluster_id).all())
    assert a not in rows and rows[b] == rows[c] == min(b, c)
    world.svc.resolution.undo(hq, m2.id, reason="wrong too")
    with world.svc.db.read() as s:
        assert s.query(EntityCluster).count() == 0
        assert s.query(MatchCandidate).count() == 0  # manual merges need no proposal
