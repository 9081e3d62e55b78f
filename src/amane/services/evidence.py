"""The evidence register and its chain of custody.

An evidence item (a seized phone, a disk image, a drug sample...) is registered under seal by the
unit that seized it, gets a reference (``SCL-2026-STA-000001``) and a custody log: append-only
events (seized, sealed, transferred, received, stored, examined, sub_sampled, returned, destroyed,
verified, integrity_failure), hash-chained per item, so that :meth:`EvidenceService.verify_chain`
names the first event changed, removed or inserted behind the application's back.

A transfer is two-sided: the holder names the receiver (the item goes ``in_transfer``), and only
that receiver takes custody (``receive``) or refuses it with a reason; until then the holder stays
the custodian and both see the transfer as pending.

Digital items keep the SHA-256 (primary), SHA-1 and MD5 of their content at intake, computed by
streaming the bytes the caller gives (an uploaded file, or a file opened read-only on the server by
the CLI); the register keeps the hashes, not the content. Re-verification (on demand, and on
receipt when the content is supplied) records ``verified`` or ``integrity_failure`` with both
hashes and alerts the unit's chiefs; nothing is ever "fixed".

Who sees an item is ``policy.visible_evidence``; an item outside it answers like a missing one."""

from __future__ import annotations

import builtins
import hashlib
import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amane.files import Readable
from amane.services import audit
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from amane.services.notifications import notify
from amane.services.policy import unit_in_scope, visible_cases, visible_entities, visible_evidence
from amane.services.procedures import StateMachine, audited_attempt, next_reference, reason_text, usernames
from amane.services.roles import capabilities_of, clearance_level
from amane.store.db import Database
from amane.store.tables import Case, CustodyEvent, Entity, EvidenceItem, Unit, User, UserRole
from amane.store.types import utcnow

#: Reference prefix of evidence items: SCL (scellé).

KINDS = ("physical", "digital")
CATEGORIES = ("phone", "computer", "disk_image", "storage_media", "document", "weapon", "ammunition", "drug_sample",
              "biological_sample", "fingerprint", "vehicle", "currency", "clothing", "other")
EVENT_KINDS = ("seized", "sealed", "transferred", "received", "transfer_refused", "stored", "examined",
               "sub_sampled", "returned", "destroyed", "verified", "integrity_failure")
STATES = StateMachine("evidence item", {
    "in_custody": ("in_transfer", "returned", "destroyed"),
    "at_lab": ("in_transfer", "returned", "destroyed"),
    "in_transfer": ("in_custody", "at_lab"),
    "returned": (),
    "destroyed": (),
})
#: ``prev_hash`` of an item's first custody event.
GENESIS = "0" * 64
HASH_CHUNK = 4 * 1024 * 1024


# -- hashing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Digests:
    sha256: str
    sha1: str
    md5: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "sha1": self.sha1, "md5": self.md5, "size": self.size}


def digest_stream(stream: Readable, *, chunk: int = HASH_CHUNK) -> Digests:
    """SHA-256, SHA-1 and MD5 of everything ``stream`` yields, read once in chunks (any size).

    The three digests of a block are computed in three threads (hashlib releases the GIL on large
    buffers), and the next block is read meanwhile: on the 2-core machine the intake of a 1 GB image
    went from about 400 to about 500 MB/s (``bench/hash_intake.py``; MD5 is the slowest of the three)."""
    hashes = (hashlib.sha256(), hashlib.sha1(usedforsecurity=False), hashlib.md5(usedforsecurity=False))
    size = 0
    with ThreadPoolExecutor(len(hashes), thread_name_prefix="digest") as pool:
        pending: list[Future[None]] = []
        while True:
            block = stream.read(chunk)
            for fut in pending:
                fut.result()
            if not block:
                break
            pending = [pool.submit(h.update, block) for h in hashes]
            size += len(block)
    h256, h1, h5 = hashes
    return Digests(h256.hexdigest(), h1.hexdigest(), h5.hexdigest(), size)


def digest_path(path: str | Path) -> Digests:
    """The digests of a file on the server, opened read-only (the original is never written)."""
    with open(path, "rb", buffering=0) as f:
        return digest_stream(f)


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of an event's fields followed by the previous hash."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(body + prev_hash.encode("ascii")).hexdigest()


def event_fields(ev: CustodyEvent) -> dict[str, Any]:
    """What an event's hash covers: everything but its id and the hashes themselves."""
    return {"item": ev.item_id, "seq": ev.seq, "kind": ev.kind, "at": ev.at.isoformat(), "actor": ev.actor_id,
            "counterpart": ev.counterpart_id, "place": ev.place, "purpose": ev.purpose, "details": ev.details}


# -- views -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CustodyEventView:
    seq: int
    kind: str
    at: datetime
    actor: str | None
    counterpart: str | None
    place: str
    purpose: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "at": self.at.isoformat(), "actor": self.actor,
                "counterpart": self.counterpart, "place": self.place, "purpose": self.purpose,
                "details": self.details, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class ItemView:
    id: int
    reference: str
    unit: str
    seal_number: str
    kind: str
    category: str
    description: str
    classification: int
    case_id: int | None
    incident_id: str | None
    storage_location: str
    parent_id: int | None
    custodian: str | None
    pending_to: str | None
    state: str
    hashes: dict[str, Any] | None
    version: int
    created_at: datetime
    allowed: tuple[str, ...] = ()
    events: list[CustodyEventView] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reference": self.reference, "unit": self.unit, "seal_number": self.seal_number,
                "kind": self.kind, "category": self.category, "description": self.description,
                "classification": self.classification, "case_id": self.case_id, "incident_id": self.incident_id,
                "storage_location": self.storage_location, "parent_id": self.parent_id,
                "custodian": self.custodian, "pending_to": self.pending_to, "state": self.state,
                "hashes": self.hashes, "version": self.version, "created_at": self.created_at.isoformat(),
                "allowed_transitions": list(self.allowed), "events": [e.as_dict() for e in self.events]}


@dataclass(frozen=True)
class ChainReport:
    """Result of recomputing an item's custody chain. ``broken_seq`` is the first event whose
    content, link or position is wrong (or the expected one that is missing)."""

    item_id: int
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "ok": self.ok, "events": self.events, "broken_seq": self.broken_seq,
                "reason": self.reason}


@dataclass(frozen=True)
class VerifyResult:
    item_id: int
    match: bool
    expected: dict[str, Any]
    observed: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "match": self.match, "expected": self.expected, "observed": self.observed}


def _required(value: str | None, name: str, limit: int, errors: list[FieldError], *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.append(FieldError(name, "property.required", f"{name} is required"))
    elif len(text) > limit:
        errors.append(FieldError(name, "string.too_long", f"at most {limit} characters"))
    return text


class EvidenceService:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer

    # -- helpers ---------------------------------------------------------------------------------

    def _load(self, s: Session, actor: Actor, iid: int, *, lock: bool = False) -> EvidenceItem:
        q = select(EvidenceItem).where(EvidenceItem.id == iid, visible_evidence(actor))
        item = s.scalar(q.with_for_update() if lock else q)
        if item is None:
            raise NotFound("evidence item", str(iid))
        return item

    def _view(self, s: Session, item: EvidenceItem, *, full: bool) -> ItemView:
        unit = s.get(Unit, item.unit_id)
        names = usernames(s, {item.custodian_id, item.pending_to_id})
        hashes = None if item.sha256 is None else {"sha256": item.sha256, "sha1": item.sha1, "md5": item.md5,
                                                   "size": item.size}
        return ItemView(item.id, item.reference, unit.code if unit else "", item.seal_number, item.kind,
                        item.category, item.description, item.classification, item.case_id, item.incident_id,
                        item.storage_location, item.parent_id,
                        names.get(item.custodian_id) if item.custodian_id else None,
                        names.get(item.pending_to_id) if item.pending_to_id else None, item.state, hashes,
                        item.version, item.created_at, STATES.allowed(item.state),
                        self._events(s, item.id) if full else [])

    def _events(self, s: Session, iid: int) -> list[CustodyEventView]:
        rows = s.scalars(select(CustodyEvent).where(CustodyEvent.item_id == iid).order_by(CustodyEvent.seq)).all()
        names = usernames(s, {r.actor_id for r in rows} | {r.counterpart_id for r in rows})
        return [CustodyEventView(r.seq, r.kind, r.at, names.get(r.actor_id) if r.actor_id else None,
                                 names.get(r.counterpart_id) if r.counterpart_id else None, r.place, r.purpose,
                                 dict(r.details), r.prev_hash, r.hash) for r in rows]

    def _append(self, s: Session, item: EvidenceItem, actor: Actor, kind: str, *, counterpart: int | None = None,
                place: str = "", purpose: str = "", details: Mapping[str, Any] | None = None) -> CustodyEvent:
        """Add the next event of the item's chain (the item row is locked by the caller)."""
        assert kind in EVENT_KINDS
        ev = CustodyEvent(item_id=item.id, seq=item.custody_seq + 1, kind=kind, at=utcnow(), actor_id=actor.user_id,
                          counterpart_id=counterpart, place=place, purpose=purpose, details=dict(details or {}),
                          prev_hash=item.custody_head or GENESIS)
        ev.hash = event_hash(event_fields(ev), ev.prev_hash)
        s.add(ev)
        item.custody_seq = ev.seq
        item.custody_head = ev.hash
        item.version += 1
        item.updated_at = ev.at
        audit.append(s, [(actor, AuditEvent(f"custody.{kind}", "EvidenceItem", str(item.id), details={
            "reference": item.reference, "seq": ev.seq, **({"counterpart": counterpart} if counterpart else {}),
            **{k: v for k, v in (details or {}).items() if k in ("observed", "expected", "reason", "to_state")}}))])
        return ev

    def _require_custodian(self, item: EvidenceItem, actor: Actor) -> None:
        if item.custodian_id is None or item.custodian_id != actor.user_id:
            raise Conflict("only the current custodian may do this with the item", field="custodian",
                           rule="custody.not_custodian", state=item.state, allowed=[])

    def _alert_chiefs(self, s: Session, item: EvidenceItem, params: dict[str, Any]) -> None:
        chiefs = s.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                           .where(User.unit_id == item.unit_id, User.active.is_(True),
                                  UserRole.role == "unit_chief")).all()
        for uid in chiefs:
            notify(s, uid, "evidence.integrity_failure", params, link=f"/evidence/{item.id}")

    def _compare(self, s: Session, item: EvidenceItem, actor: Actor, observed: Digests, *, place: str = "",
                 purpose: str = "") -> bool:
        expected = {"sha256": item.sha256, "sha1": item.sha1, "md5": item.md5, "size": item.size}
        match = observed.sha256 == item.sha256 and observed.size == item.size
        self._append(s, item, actor, "verified" if match else "integrity_failure", place=place, purpose=purpose,
                     details={"expected": expected, "observed": observed.as_dict()})
        if not match:
            self._alert_chiefs(s, item, {"item": item.reference, "seal": item.seal_number,
                                         "expected": item.sha256, "observed": observed.sha256,
                                         "by": actor.username})
        return match

    # -- register ----------------------------------------------------------------------------

    @audited_attempt("create", "EvidenceItem")
    def register(self, actor: Actor, *, seal_number: str, kind: str, category: str, description: str = "",
                 unit: str | None = None, classification: str | int | None = None, case_id: int | None = None,
                 incident_id: str | None = None, storage_location: str = "", parent_id: int | None = None,
                 place: str = "", purpose: str = "", content: Readable | None = None,
                 digests: Digests | None = None) -> ItemView:
        """Register a seized item under seal; the actor becomes its custodian. A digital item needs
        its content (streamed and hashed here) or precomputed ``digests`` (CLI, from a server path)."""
        actor.require("evidence.register")
        errors: list[FieldError] = []
        seal = _required(seal_number, "seal_number", 64, errors)
        if kind not in KINDS:
            errors.append(FieldError("kind", "enum.value", f"kind must be one of: {', '.join(KINDS)}"))
        if category not in CATEGORIES:
            errors.append(FieldError("category", "enum.value", f"category must be one of: {', '.join(CATEGORIES)}"))
        description = _required(description, "description", 20000, errors, required=False)
        storage_location = _required(storage_location, "storage_location", 300, errors, required=False)
        place = _required(place, "place", 300, errors, required=False)
        purpose = _required(purpose, "purpose", 1000, errors, required=False)
        level = 0
        if classification not in (None, ""):
            try:
                level = clearance_level(classification)
            except ValueError as exc:
                errors.append(FieldError("classification", "classification.unknown", str(exc)))
            if level > actor.clearance:
                errors.append(FieldError("classification", "classification.above_clearance",
                                         "you cannot classify an item above your own clearance"))
        if kind == "digital" and content is None and digests is None:
            errors.append(FieldError("content", "property.required", "a digital item is registered with its "
                                     "content, which is hashed on intake"))
        if kind == "physical" and (content is not None or digests is not None):
            errors.append(FieldError("content", "evidence.not_digital", "only digital items carry content hashes"))
        if errors:
            raise ValidationFailed(errors)
        if kind == "digital" and digests is None:
            assert content is not None
            digests = digest_stream(content)
        with self.db.write() as s:
            owner = self._owner_unit(s, actor, unit)
            if case_id is not None and s.scalar(select(Case.id).where(Case.id == case_id, visible_cases(actor))) \
                    is None:
                raise ValidationFailed([FieldError("case_id", "reference.unknown", f"no case {case_id}")])
            if incident_id and s.scalar(select(Entity.id).where(Entity.id == incident_id, Entity.schema == "Incident",
                                                                visible_entities(actor))) is None:
                raise ValidationFailed([FieldError("incident_id", "reference.unknown",
                                                   f"no incident '{incident_id}'")])
            parent: EvidenceItem | None = None
            if parent_id is not None:
                parent = s.scalar(select(EvidenceItem).where(EvidenceItem.id == parent_id, visible_evidence(actor))
                                  .with_for_update())
                if parent is None:
                    raise ValidationFailed([FieldError("parent_id", "reference.unknown",
                                                       f"no evidence item {parent_id}")])
                if parent.state not in ("in_custody", "at_lab"):
                    raise Conflict(f"a derived item is taken from an item in custody, not one '{parent.state}'",
                                   field="parent_id", rule="state.transition", state=parent.state, allowed=[])
                self._require_custodian(parent, actor)
            if s.scalar(select(EvidenceItem.id).where(EvidenceItem.unit_id == owner.id,
                                                      EvidenceItem.seal_number == seal)) is not None:
                raise Conflict(f"seal number '{seal}' is already registered in unit {owner.code}",
                               field="seal_number", rule="seal.duplicate")
            now = utcnow()
            item = EvidenceItem(
                reference=next_reference(s, "evidence", owner, at=now), unit_id=owner.id, seal_number=seal,
                kind=kind, category=category, description=description, classification=level, case_id=case_id,
                incident_id=incident_id or None, storage_location=storage_location, parent_id=parent_id,
                custodian_id=actor.user_id, pending_to_id=None, state="in_custody",
                sha256=digests.sha256 if digests else None, sha1=digests.sha1 if digests else None,
                md5=digests.md5 if digests else None, size=digests.size if digests else None,
                custody_seq=0, custody_head="", version=0, created_at=now, created_by=actor.user_id,
                updated_at=now)
            try:
                with s.begin_nested():  # a concurrent twin of this seal fails here, leaving the transaction usable
                    s.add(item)
            except IntegrityError:
                raise Conflict(f"seal number '{seal}' is already registered in unit {owner.code}",
                               field="seal_number", rule="seal.duplicate") from None
            hashes = {"observed": digests.as_dict()} if digests else {}
            if parent is not None:
                self._append(s, parent, actor, "sub_sampled", place=place, purpose=purpose,
                             details={"derived": item.reference, "derived_id": item.id})
                self._append(s, item, actor, "sub_sampled", place=place, purpose=purpose,
                             details={"source": parent.reference, "source_id": parent.id, **hashes})
            else:
                self._append(s, item, actor, "seized", place=place, purpose=purpose, details=hashes)
            self._append(s, item, actor, "sealed", place=place, details={"seal_number": seal})
            audit.append(s, [(actor, AuditEvent("create", "EvidenceItem", str(item.id), details={
                "reference": item.reference, "seal_number": seal, "kind": kind, "category": category,
                **({"sha256": digests.sha256} if digests else {})}))])
            s.flush()
            return self._view(s, item, full=True)

    def _owner_unit(self, s: Session, actor: Actor, code: str | None) -> Unit:
        if code:
            owner = s.scalar(select(Unit).where(Unit.code == code.strip().upper(), Unit.active.is_(True)))
            if owner is None or not unit_in_scope(actor, owner):
                raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{code}'")])
            return owner
        if actor.unit_id is None:
            raise ValidationFailed([FieldError("unit", "property.required", "the owning unit is required")])
        own = s.get(Unit, actor.unit_id)
        assert own is not None
        return own

    # -- read --------------------------------------------------------------------------------

    def get(self, actor: Actor, iid: int) -> ItemView:
        with self.db.read() as s:
            view = self._view(s, self._load(s, actor, iid), full=True)
        self.writer.record(actor, AuditEvent("read", "EvidenceItem", str(iid)))
        return view

    def custody_log(self, actor: Actor, iid: int) -> builtins.list[CustodyEventView]:
        with self.db.read() as s:
            self._load(s, actor, iid)
            events = self._events(s, iid)
        self.writer.record(actor, AuditEvent("custody-log", "EvidenceItem", str(iid)))
        return events

    def list(self, actor: Actor, *, state: str | None = None, kind: str | None = None, category: str | None = None,
             case_id: int | None = None, incident_id: str | None = None, seal_number: str | None = None,
             held: bool = False, pending: bool = False, page: int = 1,
             per_page: int = 50) -> tuple[builtins.list[ItemView], int]:
        """Items the actor may see; ``held``: those the actor holds; ``pending``: transfers the
        actor sent or must confirm."""
        errors = []
        for name, value, allowed in (("state", state, tuple(STATES.transitions)), ("kind", kind, KINDS),
                                     ("category", category, CATEGORIES)):
            if value is not None and value not in allowed:
                errors.append(FieldError(name, "enum.value", f"{name} must be one of: {', '.join(allowed)}"))
        if not 1 <= per_page <= 200 or page < 1:
            errors.append(FieldError("per_page", "limit.range", "per_page 1..200, page >= 1"))
        if errors:
            raise ValidationFailed(errors)
        conds: list[Any] = [visible_evidence(actor)]
        filters: builtins.list[tuple[Any, Any]] = [
            (EvidenceItem.state, state), (EvidenceItem.kind, kind), (EvidenceItem.category, category),
            (EvidenceItem.case_id, case_id), (EvidenceItem.incident_id, incident_id),
            (EvidenceItem.seal_number, (seal_number or "").strip() or None)]
        for col, value in filters:
            if value is not None:
                conds.append(col == value)
        if (held or pending) and actor.user_id is None:
            conds.append(false())  # the console holds nothing
        if held:
            conds.append(EvidenceItem.custodian_id == actor.user_id)
        if pending:
            conds.append(EvidenceItem.state == "in_transfer")
            conds.append((EvidenceItem.custodian_id == actor.user_id) | (EvidenceItem.pending_to_id == actor.user_id))
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(EvidenceItem).where(*conds)) or 0
            rows = s.scalars(select(EvidenceItem).where(*conds).order_by(EvidenceItem.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).all()
            views = [self._view(s, r, full=False) for r in rows]
        self.writer.record(actor, AuditEvent("list", "EvidenceItem", "", details={
            "filters": {k: v for k, v in {"state": state, "kind": kind, "category": category, "case_id": case_id,
                                          "incident_id": incident_id, "seal_number": seal_number, "held": held,
                                          "pending": pending}.items() if v},
            "page": page, "ids": [v.id for v in views]}))
        return views, int(total)

    def verify_chain(self, actor: Actor, iid: int) -> ChainReport:
        """Recompute the item's custody chain; report the first event whose content, link or
        position is wrong, or events missing at the end (checked against the item's head)."""
        with self.db.read() as s:
            item = self._load(s, actor, iid)
            rows = s.scalars(select(CustodyEvent).where(CustodyEvent.item_id == iid)
                             .order_by(CustodyEvent.seq, CustodyEvent.id)).all()
            report = _check_chain(item, rows)
        self.writer.record(actor, AuditEvent("verify-chain", "EvidenceItem", str(iid), details=report.as_dict()))
        return report

    # -- custody -----------------------------------------------------------------------------

    @audited_attempt("custody.transfer", "EvidenceItem")
    def transfer(self, actor: Actor, iid: int, *, to_user: str, place: str = "", purpose: str = "") -> ItemView:
        """Hand the item to ``to_user``: it is ``in_transfer`` until that user receives or refuses it."""
        actor.require("evidence.custody")
        errors: list[FieldError] = []
        place = _required(place, "place", 300, errors, required=False)
        purpose = _required(purpose, "purpose", 1000, errors)
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            STATES.check(item.state, "in_transfer")
            self._require_custodian(item, actor)
            receiver = s.scalar(select(User).where(User.username == (to_user or "").strip(), User.active.is_(True)))
            if receiver is None:
                raise ValidationFailed([FieldError("to_user", "user.unknown", f"no active user '{to_user}'")])
            if receiver.id == actor.user_id:
                raise ValidationFailed([FieldError("to_user", "custody.same_user",
                                                   "the receiver must be someone else")])
            caps = capabilities_of([r.role for r in receiver.roles])
            if "evidence.custody" not in caps:
                raise ValidationFailed([FieldError("to_user", "user.no_custody_right",
                                                   f"'{to_user}' may not hold evidence")])
            before = item.state
            item.state = "in_transfer"
            item.pending_to_id = receiver.id
            self._append(s, item, actor, "transferred", counterpart=receiver.id, place=place, purpose=purpose,
                         details={"from_state": before})
            notify(s, receiver.id, "evidence.transfer", {"item": item.reference, "seal": item.seal_number,
                                                         "from": actor.username}, link=f"/evidence/{item.id}")
            s.flush()
            return self._view(s, item, full=True)

    @audited_attempt("custody.receive", "EvidenceItem")
    def receive(self, actor: Actor, iid: int, *, place: str = "", storage_location: str | None = None,
                content: Readable | None = None) -> ItemView:
        """The named receiver takes custody. For a digital item, content given here is re-hashed:
        a mismatch is recorded as ``integrity_failure`` (and the chiefs alerted) next to the receipt."""
        actor.require("evidence.custody")
        errors: list[FieldError] = []
        place = _required(place, "place", 300, errors, required=False)
        location = _required(storage_location, "storage_location", 300, errors, required=False)
        if errors:
            raise ValidationFailed(errors)
        with self.db.read() as s:
            item = self._load(s, actor, iid)
            self._check_receiver(item, actor)
            if content is not None and item.kind != "digital":
                raise ValidationFailed([FieldError("content", "evidence.not_digital",
                                                   "only digital items carry content hashes")])
        observed = digest_stream(content) if content is not None else None
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            self._check_receiver(item, actor)
            sender = item.custodian_id
            target = "at_lab" if actor.can("lab.work") else "in_custody"
            STATES.check(item.state, target)
            item.state = target
            item.custodian_id = actor.user_id
            item.pending_to_id = None
            if location:
                item.storage_location = location
            self._append(s, item, actor, "received", counterpart=sender, place=place,
                         details={"to_state": target, **({"storage_location": location} if location else {})})
            if observed is not None:
                self._compare(s, item, actor, observed, place=place, purpose="verification on receipt")
            if sender is not None:
                notify(s, sender, "evidence.received", {"item": item.reference, "by": actor.username},
                       link=f"/evidence/{item.id}")
            s.flush()
            return self._view(s, item, full=True)

    def _check_receiver(self, item: EvidenceItem, actor: Actor) -> None:
        if item.state != "in_transfer":
            STATES.check(item.state, "in_custody")  # raises, listing what is allowed from here
        if item.pending_to_id != actor.user_id:
            raise Conflict("only the user named in the transfer may receive or refuse it", field="receiver",
                           rule="custody.not_receiver", state=item.state, allowed=[])

    @audited_attempt("custody.refuse", "EvidenceItem")
    def refuse(self, actor: Actor, iid: int, *, reason: str, place: str = "") -> ItemView:
        """The named receiver declines the transfer (reason required); custody stays with the sender."""
        actor.require("evidence.custody")
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            self._check_receiver(item, actor)
            last = s.scalar(select(CustodyEvent).where(CustodyEvent.item_id == item.id,
                                                       CustodyEvent.kind == "transferred")
                            .order_by(CustodyEvent.seq.desc()).limit(1))
            back = str((last.details if last else {}).get("from_state") or "in_custody")
            item.state = back if back in ("in_custody", "at_lab") else "in_custody"
            item.pending_to_id = None
            self._append(s, item, actor, "transfer_refused", counterpart=item.custodian_id, place=place[:300],
                         purpose=text, details={"reason": text, "to_state": item.state})
            if item.custodian_id is not None:
                notify(s, item.custodian_id, "evidence.refused", {"item": item.reference, "by": actor.username,
                                                                  "reason": text}, link=f"/evidence/{item.id}")
            s.flush()
            return self._view(s, item, full=True)

    @audited_attempt("custody.store", "EvidenceItem")
    def store(self, actor: Actor, iid: int, *, storage_location: str, place: str = "") -> ItemView:
        """The custodian puts the item in a storage location (recorded in the chain)."""
        actor.require("evidence.custody")
        errors: list[FieldError] = []
        location = _required(storage_location, "storage_location", 300, errors)
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            if item.state not in ("in_custody", "at_lab"):
                raise Conflict(f"an item '{item.state}' cannot be stored", field="state", rule="state.transition",
                               state=item.state, allowed=list(STATES.allowed(item.state)))
            self._require_custodian(item, actor)
            item.storage_location = location
            self._append(s, item, actor, "stored", place=place[:300], details={"storage_location": location})
            s.flush()
            return self._view(s, item, full=True)

    @audited_attempt("custody.examine", "EvidenceItem")
    def examine(self, actor: Actor, iid: int, *, purpose: str, notes: str = "", place: str = "") -> ItemView:
        """A lab technician holding the item at the lab records an examination."""
        actor.require("lab.work")
        errors: list[FieldError] = []
        purpose = _required(purpose, "purpose", 1000, errors)
        notes = _required(notes, "notes", 5000, errors, required=False)
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            if item.state != "at_lab":
                raise Conflict(f"only an item at the lab is examined, not one '{item.state}'", field="state",
                               rule="state.transition", state=item.state, allowed=list(STATES.allowed(item.state)))
            self._require_custodian(item, actor)
            self._append(s, item, actor, "examined", place=place[:300], purpose=purpose,
                         details={"notes": notes} if notes else {})
            s.flush()
            return self._view(s, item, full=True)

    @audited_attempt("custody.dispose", "EvidenceItem")
    def dispose(self, actor: Actor, iid: int, target: str, *, reason: str, place: str = "",
                to_whom: str = "") -> ItemView:
        """Return the item (to its owner, ``to_whom``) or destroy it: final, reason required."""
        actor.require("evidence.custody")
        if target not in ("returned", "destroyed"):
            raise ValidationFailed([FieldError("action", "enum.value", "action must be one of: returned, destroyed")])
        text = reason_text(reason, required=True)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            STATES.check(item.state, target)
            self._require_custodian(item, actor)
            item.state = target
            self._append(s, item, actor, target, place=place[:300], purpose=text,
                         details={"reason": text, **({"to_whom": to_whom[:300]} if to_whom else {})})
            s.flush()
            return self._view(s, item, full=True)

    # -- integrity ---------------------------------------------------------------------------

    @audited_attempt("custody.verify", "EvidenceItem")
    def verify(self, actor: Actor, iid: int, content: Readable, *, place: str = "",
               purpose: str = "") -> VerifyResult:
        """Re-hash a digital item's content. A match records ``verified``; a mismatch records
        ``integrity_failure`` with both hashes and alerts the unit's chiefs. Nothing is changed."""
        if not (actor.can("evidence.custody") or actor.can("lab.work")):
            raise Forbidden("evidence.custody")
        with self.db.read() as s:
            item = self._load(s, actor, iid)
            if item.kind != "digital" or item.sha256 is None:
                raise ValidationFailed([FieldError("content", "evidence.not_digital",
                                                   "only digital items carry content hashes")])
        observed = digest_stream(content)
        with self.db.write() as s:
            item = self._load(s, actor, iid, lock=True)
            expected = {"sha256": item.sha256, "sha1": item.sha1, "md5": item.md5, "size": item.size}
            match = self._compare(s, item, actor, observed, place=place[:300], purpose=purpose[:1000])
            return VerifyResult(item.id, match, expected, observed.as_dict())


def _check_chain(item: EvidenceItem, rows: Any) -> ChainReport:
    prev = GENESIS
    n = 0
    for expected_seq, ev in enumerate(rows, start=1):
        n = expected_seq
        if ev.seq != expected_seq:
            return ChainReport(item.id, False, len(rows), expected_seq,
                               f"event {expected_seq} is missing or out of place (found {ev.seq})")
        if ev.prev_hash != prev:
            return ChainReport(item.id, False, len(rows), ev.seq, f"event {ev.seq} does not link to the one before")
        if event_hash(event_fields(ev), ev.prev_hash) != ev.hash:
            return ChainReport(item.id, False, len(rows), ev.seq, f"event {ev.seq} was changed after it was written")
        prev = ev.hash
    if n != item.custody_seq or prev != (item.custody_head or GENESIS):
        return ChainReport(item.id, False, len(rows), n + 1,
                           f"the log ends at event {n} but the item records {item.custody_seq}")
    return ChainReport(item.id, True, len(rows))
