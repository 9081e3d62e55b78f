"""Entity resolution of persons across units: runs, the review queue, merges and their undo.

The matching itself (Fellegi-Sunter over cross-script name features) is ``amane.resolve``; this
module puts it under the platform's rules:

- a run compares only the persons the actor may see (``policy.visible_entities``), optionally
  restricted to one unit's subtree, and queues every pair at or above the review floor;
- the queue shows a pair only when the actor may see both records; anything else answers as
  missing (``NotFound``), like every other object outside need-to-know;
- accepting a pair writes a merge link; records are never changed or deleted by a merge. Persons
  joined by active links form one identity (``entity_clusters``), which search shows as one
  person with all names. Undo ends the link and recomputes the identity;
- every run and every decision is audited in the same transaction as the change.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.policy import visible_entities
from amane.services.procedures import usernames
from amane.services.search import person_names
from amane.store.db import Database
from amane.store.tables import (
    Entity,
    EntityCluster,
    MatchCandidate,
    MergeLink,
    ResolutionRun,
    Unit,
)
from amane.store.types import utcnow

#: Pairs at or above this probability go to the review queue (the cluster threshold is higher).
REVIEW_FLOOR = 0.5
DEFAULT_THRESHOLD = 0.9
STATUSES = ("pending", "accepted", "rejected", "undone")
MAX_PAGE = 200


@dataclass(frozen=True)
class PersonSide:
    """One record of a pair, as the reviewer sees it."""

    id: str
    owner_unit: str
    names: list[str]
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "owner_unit": self.owner_unit, "names": self.names, "data": self.data}


@dataclass(frozen=True)
class CandidateView:
    id: int
    probability: float
    status: str
    evidence: dict[str, Any]
    a: PersonSide
    b: PersonSide
    proposed_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str = ""
    merge_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "probability": round(self.probability, 6), "status": self.status,
            "evidence": self.evidence, "a": self.a.as_dict(), "b": self.b.as_dict(),
            "proposed_at": self.proposed_at, "decided_at": self.decided_at, "decided_by": self.decided_by,
            "reason": self.reason, "merge_id": self.merge_id,
        }


@dataclass(frozen=True)
class MergeView:
    id: int
    a_id: str
    b_id: str
    created_at: str
    created_by: str | None
    reason: str
    candidate_id: int | None
    undone_at: str | None = None
    undone_by: str | None = None
    undo_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Identity:
    """A person as one identity: every visible record merged with it, and all their names."""

    id: str
    cluster_id: str | None
    members: list[PersonSide]
    names: list[str]
    merges: list[MergeView]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "cluster_id": self.cluster_id, "members": [m.as_dict() for m in self.members],
            "names": self.names, "merges": [m.as_dict() for m in self.merges],
        }


@dataclass
class RunResult:
    run_id: int
    persons: int
    pairs: int
    queued: int
    already_decided: int
    clusters: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "persons": self.persons, "pairs": self.pairs, "queued": self.queued,
            "already_decided": self.already_decided, "clusters": self.clusters, "stats": self.stats,
        }


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def _check_probability(name: str, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ValidationFailed([FieldError(name, "probability.range", f"{name} must be in (0, 1]")])


def _reason(reason: str, *, required: bool) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationFailed([FieldError("reason", "property.required", "give a reason for this decision")])
    if len(text) > 500:
        raise ValidationFailed([FieldError("reason", "reason.length", "the reason may have at most 500 characters")])
    return text


#: Search asks whether any identity exists at most this often (seconds) per process: a merge made
#: in another worker process shows in that process's search results within this delay.
CLUSTERS_CHECK_S = 5.0


class ResolutionService:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer
        self._any_clusters = False
        self._checked_at = float("-inf")

    def _clusters_exist(self) -> bool:
        """Whether any merged identity exists (cached a few seconds): a search on a database
        without merges skips the identity look-up (about 1 ms on PostgreSQL)."""
        if self._any_clusters:
            return True
        now = time.monotonic()
        if now - self._checked_at > CLUSTERS_CHECK_S:
            with self.db.engine.connect() as c:
                self._any_clusters = c.execute(select(EntityCluster.entity_id).limit(1)).first() is not None
            self._checked_at = now
        return self._any_clusters

    # -- runs ----------------------------------------------------------------------------

    def _load_persons(self, s: Session, actor: Actor, unit: Unit | None) -> list[Any]:
        from amane.resolve import PERSON_FIELDS, PersonRecord

        conds: list[Any] = [Entity.schema == "Person", visible_entities(actor, capability="persons.resolve")]
        if unit is not None:
            conds.append(Entity.owner_unit_id.in_(
                select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))))
        rows = s.execute(
            select(Entity.id, Entity.data, Unit.code).join(Unit, Unit.id == Entity.owner_unit_id).where(*conds)
        )
        out = []
        for eid, data, code in rows:
            fields = {f: (str(data[f]) if data.get(f) not in (None, "") else None) for f in PERSON_FIELDS}
            out.append(PersonRecord(id=eid, source=code, **fields))
        return out

    def run(
        self,
        actor: Actor,
        *,
        unit: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        review_floor: float = REVIEW_FLOOR,
        progress: Callable[[str, int, int], None] | None = None,
        queue: bool = True,
    ) -> RunResult:
        """Compare the visible persons (of ``unit``'s subtree when given), queue the pairs at or
        above ``review_floor`` for review and return the clusters at ``threshold``."""
        from amane.resolve import connected_components, resolve

        actor.require("persons.resolve")
        _check_probability("threshold", threshold)
        _check_probability("review_floor", review_floor)
        with self.db.engine.connect() as c, Session(bind=c) as s:
            scope: Unit | None = None
            if unit:
                scope = s.scalar(select(Unit).where(Unit.code == unit.strip().upper()))
                if scope is None or not (actor.national or scope.path.startswith(actor.unit_path)):
                    raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit}'")])
            records = self._load_persons(s, actor, scope)
            scope_code = scope.code if scope else ""
        result = resolve(records, threshold=threshold, pair_floor=min(threshold, review_floor), progress=progress)
        pairs = [p for p in result.pairs if p.probability >= review_floor]
        clusters = [c.as_dict() for c in connected_components(
            [(p.a_id, p.b_id, p.probability) for p in pairs if p.probability >= threshold])]
        queued = decided = 0
        with self.db.write() as s:
            run = ResolutionRun(started_by=actor.user_id, unit_code=scope_code, threshold=threshold, stats={})
            s.add(run)
            s.flush()
            if queue and pairs:
                queued, decided = self._queue(s, run.id, pairs)
            stats = {"persons": len(records), "pairs": len(pairs), "queued": queued, "already_decided": decided,
                     "clusters": len(clusters), "engine": _jsonable(getattr(result, "stats", {}))}
            run.stats = stats
            audit.append(s, [(actor, AuditEvent("resolve", "Person", str(run.id), details={
                "unit": scope_code, "threshold": threshold, "review_floor": review_floor,
                "persons": len(records), "pairs": len(pairs), "queued": queued}))])
            run_id = run.id
        return RunResult(run_id, len(records), len(pairs), queued, decided, clusters, stats)

    def _queue(self, s: Session, run_id: int, pairs: Sequence[Any]) -> tuple[int, int]:
        existing: dict[tuple[str, str], tuple[int, str]] = {}
        keys = [(p.a_id, p.b_id) for p in pairs]
        a_ids = sorted({a for a, _ in keys})
        for i in range(0, len(a_ids), 500):
            chunk = a_ids[i:i + 500]
            for cid, a, b, status in s.execute(
                select(MatchCandidate.id, MatchCandidate.a_id, MatchCandidate.b_id, MatchCandidate.status)
                .where(MatchCandidate.a_id.in_(chunk))
            ):
                existing[(a, b)] = (cid, status)
        merged = self._cluster_of(s, {x for k in keys for x in k})
        now = utcnow()
        new_rows, updates, decided = [], [], 0
        for p in pairs:
            a, b = (p.a_id, p.b_id) if p.a_id < p.b_id else (p.b_id, p.a_id)
            if a in merged and merged.get(a) == merged.get(b):
                decided += 1  # already one identity
                continue
            evidence = _evidence(p)
            if (a, b) in existing:
                cid, status = existing[(a, b)]
                if status != "pending":
                    decided += 1
                    continue
                updates.append({"cid": cid, "probability": float(p.probability), "evidence": evidence,
                                "run_id": run_id})
            else:
                new_rows.append({"a_id": a, "b_id": b, "probability": float(p.probability), "evidence": evidence,
                                 "status": "pending", "run_id": run_id, "proposed_at": now, "reason": ""})
        if new_rows:
            s.execute(insert(MatchCandidate), new_rows)
        for u in updates:
            s.execute(update(MatchCandidate).where(MatchCandidate.id == u["cid"]).values(
                probability=u["probability"], evidence=u["evidence"], run_id=u["run_id"]))
        return len(new_rows) + len(updates), decided

    # -- the queue -----------------------------------------------------------------------

    def _visible_ids(self, actor: Actor) -> Any:
        return select(Entity.id).where(Entity.schema == "Person", visible_entities(actor))

    def candidates(
        self, actor: Actor, *, status: str = "pending", limit: int = 50, offset: int = 0,
        min_probability: float = 0.0,
    ) -> tuple[builtins.list[CandidateView], int]:
        """The review queue (pairs whose two records the actor may see), most probable first."""
        actor.require("persons.resolve")
        errs = []
        if status not in STATUSES:
            errs.append(FieldError("status", "enum.value", f"status must be one of: {', '.join(STATUSES)}"))
        if not 1 <= limit <= MAX_PAGE:
            errs.append(FieldError("limit", "limit.range", f"limit must be between 1 and {MAX_PAGE}"))
        if offset < 0:
            errs.append(FieldError("offset", "offset.range", "offset must be 0 or more"))
        if errs:
            raise ValidationFailed(errs)
        vis = self._visible_ids(actor)
        conds = [MatchCandidate.status == status, MatchCandidate.a_id.in_(vis), MatchCandidate.b_id.in_(vis)]
        if min_probability:
            conds.append(MatchCandidate.probability >= min_probability)
        with self.db.engine.connect() as c, Session(bind=c) as s:
            total = s.scalar(select(func.count()).select_from(MatchCandidate).where(*conds)) or 0
            rows = s.scalars(
                select(MatchCandidate).where(*conds)
                .order_by(MatchCandidate.probability.desc(), MatchCandidate.id).limit(limit).offset(offset)
            ).all()
            views = self._views(s, rows)
        self.writer.record(actor, AuditEvent("read", "MatchCandidate", "", details={
            "status": status, "offset": offset, "ids": [v.id for v in views],
            "persons": sorted({x for v in views for x in (v.a.id, v.b.id)})}))
        return views, int(total)

    def candidate(self, actor: Actor, cid: int) -> CandidateView:
        actor.require("persons.resolve")
        with self.db.engine.connect() as c, Session(bind=c) as s:
            view = self._views(s, [self._load_candidate(s, actor, cid)])[0]
        self.writer.record(actor, AuditEvent("read", "MatchCandidate", str(cid), details={
            "persons": [view.a.id, view.b.id]}))
        return view

    def _load_candidate(self, s: Session, actor: Actor, cid: int) -> MatchCandidate:
        vis = self._visible_ids(actor)
        row = s.scalar(select(MatchCandidate).where(
            MatchCandidate.id == cid, MatchCandidate.a_id.in_(vis), MatchCandidate.b_id.in_(vis)))
        if row is None:
            raise NotFound("match candidate", str(cid))
        return row

    def _views(self, s: Session, rows: Sequence[MatchCandidate]) -> builtins.list[CandidateView]:
        ids = {x for r in rows for x in (r.a_id, r.b_id)}
        sides = self._sides(s, ids)
        users = usernames(s, {r.decided_by for r in rows})
        merges = dict(s.execute(select(MergeLink.candidate_id, MergeLink.id).where(
            MergeLink.candidate_id.in_([r.id for r in rows]))).all()) if rows else {}
        return [
            CandidateView(
                r.id, r.probability, r.status, r.evidence, sides[r.a_id], sides[r.b_id], _iso(r.proposed_at) or "",
                _iso(r.decided_at), users.get(r.decided_by) if r.decided_by else None, r.reason, merges.get(r.id),
            )
            for r in rows
        ]

    def _sides(self, s: Session, ids: Iterable[str]) -> dict[str, PersonSide]:
        ids = list(ids)
        if not ids:
            return {}
        rows = s.execute(select(Entity.id, Entity.data, Unit.code).join(Unit, Unit.id == Entity.owner_unit_id)
                         .where(Entity.id.in_(ids)))
        return {eid: PersonSide(eid, code, person_names(data), dict(data)) for eid, data, code in rows}

    # -- decisions -----------------------------------------------------------------------

    def decide(self, actor: Actor, cid: int, decision: str, *, reason: str = "") -> CandidateView:
        """Accept (merge the two records into one identity) or reject a queued pair."""
        actor.require("persons.resolve")
        if decision not in ("accept", "reject"):
            raise ValidationFailed([FieldError("decision", "enum.value", "decision must be 'accept' or 'reject'")])
        text = _reason(reason, required=decision == "reject")
        now = utcnow()
        with self.db.write() as s:
            cand = self._load_candidate(s, actor, cid)
            if cand.status != "pending":
                raise Conflict(f"this pair was already decided ({cand.status})", field="status",
                               rule="candidate.decided", current_status=cand.status)
            cand.status = "accepted" if decision == "accept" else "rejected"
            cand.decided_at = now
            cand.decided_by = actor.user_id
            cand.reason = text
            details: dict[str, Any] = {"candidate": cid, "a": cand.a_id, "b": cand.b_id,
                                       "probability": round(cand.probability, 6), "reason": text}
            if decision == "accept":
                link = MergeLink(a_id=cand.a_id, b_id=cand.b_id, candidate_id=cid, created_at=now,
                                 created_by=actor.user_id, reason=text)
                s.add(link)
                s.flush()
                details["merge"] = link.id
                details["cluster"] = self._recluster(s, {cand.a_id, cand.b_id})[cand.a_id]
            audit.append(s, [(actor, AuditEvent("merge" if decision == "accept" else "reject-match", "Person",
                                                cand.a_id, details=details))])
            s.flush()
            view = self._views(s, [cand])[0]
        return view

    def merge(self, actor: Actor, a_id: str, b_id: str, *, reason: str) -> MergeView:
        """Merge two person records the analyst knows to be the same person (no proposal needed)."""
        actor.require("persons.resolve")
        text = _reason(reason, required=True)
        if a_id == b_id:
            raise ValidationFailed([FieldError("b", "merge.same", "a record cannot be merged with itself")])
        a_id, b_id = sorted((a_id, b_id))
        now = utcnow()
        with self.db.write() as s:
            found = set(s.scalars(select(Entity.id).where(
                Entity.id.in_([a_id, b_id]), Entity.schema == "Person", visible_entities(actor))))
            for eid in (a_id, b_id):
                if eid not in found:
                    raise NotFound("person", eid)
            clusters = self._cluster_of(s, {a_id, b_id})
            if a_id in clusters and clusters.get(a_id) == clusters.get(b_id):
                raise Conflict("these records are already one identity", field="b", rule="merge.exists")
            cand = s.scalar(select(MatchCandidate).where(MatchCandidate.a_id == a_id, MatchCandidate.b_id == b_id))
            if cand is not None:
                cand.status, cand.decided_at, cand.decided_by, cand.reason = "accepted", now, actor.user_id, text
            link = MergeLink(a_id=a_id, b_id=b_id, candidate_id=cand.id if cand else None, created_at=now,
                             created_by=actor.user_id, reason=text)
            s.add(link)
            s.flush()
            cluster = self._recluster(s, {a_id, b_id})[a_id]
            audit.append(s, [(actor, AuditEvent("merge", "Person", a_id, details={
                "a": a_id, "b": b_id, "merge": link.id, "cluster": cluster, "reason": text, "manual": True}))])
            view = _merge_view(link, {actor.user_id: actor.username} if actor.user_id else {})
        return view

    def undo(self, actor: Actor, merge_id: int, *, reason: str) -> MergeView:
        """End a merge: the two records are separate identities again (unless other merges still
        join them). The pair is marked ``undone`` and is not proposed again."""
        actor.require("persons.resolve")
        text = _reason(reason, required=True)
        now = utcnow()
        with self.db.write() as s:
            vis = self._visible_ids(actor)
            link = s.scalar(select(MergeLink).where(
                MergeLink.id == merge_id, MergeLink.a_id.in_(vis), MergeLink.b_id.in_(vis)))
            if link is None:
                raise NotFound("merge", str(merge_id))
            if link.undone_at is not None:
                raise Conflict("this merge was already undone", field="merge", rule="merge.undone")
            link.undone_at, link.undone_by, link.undo_reason = now, actor.user_id, text
            if link.candidate_id is not None:
                s.execute(update(MatchCandidate).where(MatchCandidate.id == link.candidate_id).values(
                    status="undone", decided_at=now, decided_by=actor.user_id, reason=text))
            s.flush()
            clusters = self._recluster(s, {link.a_id, link.b_id})
            audit.append(s, [(actor, AuditEvent("unmerge", "Person", link.a_id, details={
                "merge": merge_id, "a": link.a_id, "b": link.b_id, "reason": text,
                "clusters": sorted({clusters[link.a_id], clusters[link.b_id]})}))])
            view = _merge_view(link, usernames(s, {link.created_by, link.undone_by}))
        return view

    # -- identities ----------------------------------------------------------------------

    def _cluster_of(self, s: Session, ids: Iterable[str]) -> dict[str, str]:
        ids = list(ids)
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            out.update(dict(s.execute(select(EntityCluster.entity_id, EntityCluster.cluster_id)
                                      .where(EntityCluster.entity_id.in_(ids[i:i + 500]))).all()))
        return out

    def _recluster(self, s: Session, seeds: set[str]) -> dict[str, str]:
        """Recompute, from the active links, the identities of ``seeds`` and of every record that
        shared an identity with them; return each such record's cluster id (its own id if alone)."""
        old = set(self._cluster_of(s, seeds).values())
        todo = set(seeds)
        if old:
            todo |= set(s.scalars(select(EntityCluster.entity_id).where(EntityCluster.cluster_id.in_(old))))
            s.execute(delete(EntityCluster).where(EntityCluster.cluster_id.in_(old)))
        seen: set[str] = set()
        components: list[set[str]] = []
        for seed in sorted(todo):
            if seed in seen:
                continue
            comp, frontier = {seed}, {seed}
            while frontier:
                rows = s.execute(select(MergeLink.a_id, MergeLink.b_id).where(
                    MergeLink.undone_at.is_(None),
                    or_(MergeLink.a_id.in_(frontier), MergeLink.b_id.in_(frontier)))).all()
                nxt = {x for r in rows for x in r} - comp
                comp |= nxt
                frontier = nxt
            seen |= comp
            components.append(comp)
        return self._write_components(s, components)

    def _write_components(self, s: Session, components: list[set[str]]) -> dict[str, str]:
        self._any_clusters = True  # seen by this process's searches at once
        out: dict[str, str] = {}
        rows = []
        for comp in components:
            cid = min(comp)
            for eid in comp:
                out[eid] = cid
                if len(comp) > 1:
                    rows.append({"entity_id": eid, "cluster_id": cid})
        ids = list(out)
        s.execute(delete(EntityCluster).where(EntityCluster.entity_id.in_(ids)))
        if rows:
            s.execute(insert(EntityCluster), rows)
        return out

    def identity(self, actor: Actor, eid: str) -> Identity:
        """The person ``eid`` as one identity: its visible merged records, all names, the merges."""
        with self.db.engine.connect() as c, Session(bind=c) as s:
            own = s.scalar(select(Entity.id).where(Entity.id == eid, Entity.schema == "Person",
                                                   visible_entities(actor)))
            if own is None:
                raise NotFound("person", eid)
            cluster = s.scalar(select(EntityCluster.cluster_id).where(EntityCluster.entity_id == eid))
            ids = [eid]
            if cluster is not None:
                ids = list(s.scalars(select(EntityCluster.entity_id).where(
                    EntityCluster.cluster_id == cluster,
                    EntityCluster.entity_id.in_(self._visible_ids(actor)))))
            sides = self._sides(s, ids)
            members = [sides[eid]] + [sides[i] for i in sorted(ids) if i != eid and i in sides]
            names: list[str] = []
            for m in members:
                names.extend(n for n in m.names if n not in names)
            links = s.scalars(select(MergeLink).where(MergeLink.a_id.in_(ids), MergeLink.b_id.in_(ids))
                              .order_by(MergeLink.id)).all() if len(ids) > 1 or cluster else []
            # also show undone merges that touched this record (history), when both sides are visible
            past = s.scalars(select(MergeLink).where(
                or_(MergeLink.a_id == eid, MergeLink.b_id == eid), MergeLink.undone_at.is_not(None),
                MergeLink.a_id.in_(self._visible_ids(actor)), MergeLink.b_id.in_(self._visible_ids(actor)))).all()
            all_links = {link.id: link for link in [*links, *past]}
            users = usernames(s, {u for link in all_links.values() for u in (link.created_by, link.undone_by)})
            merges = [_merge_view(link, users) for _, link in sorted(all_links.items())]
        if len(members) > 1:  # the other records of the identity are being shown: audit them
            self.writer.record(actor, AuditEvent("read", "Person", eid, details={
                "identity": cluster, "members": [m.id for m in members]}))
        return Identity(eid, cluster, members, names, merges)

    def clusters_of(self, actor: Actor, ids: Sequence[str]) -> dict[str, list[PersonSide]]:
        """For search: each id's visible fellow members (other records of the same identity)."""
        if not ids or not self._clusters_exist():
            return {}
        with self.db.engine.connect() as c, Session(bind=c) as s:
            cl = self._cluster_of(s, ids)
            if not cl:
                return {}
            members = s.execute(select(EntityCluster.entity_id, EntityCluster.cluster_id).where(
                EntityCluster.cluster_id.in_(set(cl.values())),
                EntityCluster.entity_id.in_(self._visible_ids(actor)))).all()
            sides = self._sides(s, {m for m, _ in members})
        by_cluster: dict[str, list[PersonSide]] = {}
        for m, cid in members:
            if m in sides:
                by_cluster.setdefault(cid, []).append(sides[m])
        return {i: sorted(by_cluster.get(cid, []), key=lambda p: p.id) for i, cid in cl.items()}


def collapse_hits(service: ResolutionService, actor: Actor, hits: list[Any]) -> list[Any]:
    """Show merged persons once in search results: the best-scoring record of each identity
    stands for it, with the names of every visible record of the identity."""
    if not hits:
        return hits
    groups = service.clusters_of(actor, [h.id for h in hits])
    if not groups:
        return hits
    out: list[Any] = []
    seen: dict[str, Any] = {}
    for h in hits:  # hits come best first
        members = groups.get(h.id)
        if not members:
            out.append(h)
            continue
        key = min(m.id for m in members)
        if key in seen:
            continue
        names = list(h.names)
        for m in members:
            names.extend(n for n in m.names if n not in names)
        h.names = names
        h.merged_ids = [m.id for m in members if m.id != h.id]
        seen[key] = h
        out.append(h)
    return out


def _evidence(pair: Any) -> dict[str, Any]:
    fields = getattr(pair, "fields", {}) or {}
    out: dict[str, Any] = {}
    for name, ev in fields.items():
        if hasattr(ev, "as_dict"):
            out[name] = _jsonable(ev.as_dict())
        elif isinstance(ev, Mapping):
            out[name] = _jsonable(dict(ev))
        else:
            out[name] = _jsonable(ev.__dict__ if hasattr(ev, "__dict__") else str(ev))
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float):
        return round(v, 6) if v == v and v not in (float("inf"), float("-inf")) else None
    if v is None or isinstance(v, str | int | bool):
        return v
    return str(v)


def _merge_view(link: MergeLink, users: Mapping[int, str]) -> MergeView:
    return MergeView(
        link.id, link.a_id, link.b_id, _iso(link.created_at) or "",
        users.get(link.created_by) if link.created_by else None, link.reason, link.candidate_id,
        _iso(link.undone_at), users.get(link.undone_by) if link.undone_by else None, link.undo_reason,
    )
