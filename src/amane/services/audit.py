"""The tamper-evident audit log.

Every login, read, search, export and change writes one record. Records form a hash chain:
``hash = SHA-256(canonical JSON of the row's fields + prev_hash)`` with a gap-free ``seq``.
Changing a row breaks its hash; deleting one leaves a gap in ``seq``; deleting the tail no
longer matches ``audit_head``. ``verify()`` walks the chain and names the first bad row.

Two ways in, one chain:
- changes append their record inside their own transaction (:func:`append`), so a change
  whose audit record cannot be written is rolled back with it;
- reads go through :class:`AuditWriter`, a group-commit thread that writes the records of
  many concurrent requests in one transaction and releases each request only once its record
  is durable (one fsync for many reads).
Appenders lock the single ``audit_head`` row, which serialises the chain across threads and
processes (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock does it there).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from amane.services.context import Actor
from amane.services.errors import AuditUnavailable
from amane.services.notifications import subscriptions_may_exist
from amane.store.bulk import insert_rows, sqlite_value
from amane.store.db import Database
from amane.store.tables import AuditHead, AuditRecord
from amane.store.types import utcnow

GENESIS = "0" * 64


@dataclass
class AuditEvent:
    action: str
    object_type: str = ""
    object_id: str = ""
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)
    purpose: str | None = None


def _canonical(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fmt_at(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(row: dict[str, Any], prev_hash: str) -> str:
    """The chain hash of one row (``row`` without ``hash``; ``at`` formatted as text)."""
    fields = {k: row[k] for k in HASHED_FIELDS}
    fields["at"] = _fmt_at(row["at"]) if isinstance(row["at"], datetime) else row["at"]
    return hashlib.sha256(_canonical(fields) + prev_hash.encode("ascii")).hexdigest()


HASHED_FIELDS = (
    "seq", "at", "user_id", "username", "unit_code", "action", "object_type",
    "object_id", "purpose", "source", "outcome", "details",
)


AUDIT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def _row(actor: Actor, ev: AuditEvent, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "user_id": actor.user_id,
        "username": actor.username,
        "unit_code": actor.unit_code,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": str(ev.object_id),
        "purpose": (ev.purpose if ev.purpose is not None else actor.purpose)[:500],
        "source": actor.source[:64],
        "outcome": ev.outcome,
        "details": json.dumps(ev.details, sort_keys=True, ensure_ascii=False, default=str),
    }


_HEAD_FOR_UPDATE = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_HEAD_UPDATE = update(AuditHead).where(AuditHead.id == 1).values(seq=bindparam("s"), hash=bindparam("h"))


def _chain(items: Iterable[tuple[Actor, AuditEvent]], seq: int, prev: str) -> list[dict[str, Any]]:
    """The rows of ``items`` chained after the head (``seq``, ``prev``), all stamped now."""
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for actor, ev in items:
        seq += 1
        row = _row(actor, ev, now)
        row["seq"] = seq
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(row, prev)
        rows.append(row)
    return rows


def append(session: Session | Connection, items: Iterable[tuple[Actor, AuditEvent]]) -> list[int]:
    """Append records to the chain inside the caller's transaction. Returns their seqs."""
    head = session.execute(_HEAD_FOR_UPDATE).one()
    rows = _chain(items, int(head.seq), str(head.hash))
    if not rows:
        return []
    insert_rows(session, "audit_log", AUDIT_COLUMNS, [tuple(r[c] for c in AUDIT_COLUMNS) for r in rows])
    session.execute(_HEAD_UPDATE, {"s": rows[-1]["seq"], "h": rows[-1]["hash"]})
    # subscriptions ("tell me when this record is viewed or changed") ride on the audit: every
    # view and change of a record passes here, in the transaction that records it
    from amane.services.notifications import subscription_notices

    subscription_notices(session, rows)
    return [r["seq"] for r in rows]


def _append_cursor(cur: Any, sqlite: bool, items: Iterable[tuple[Actor, AuditEvent]]) -> list[int]:
    """:func:`append` on a DBAPI cursor (:meth:`Database.group_write_cursor`): the same rows and
    chain, written without SQLAlchemy. For batches of reads only, which never notify subscribers
    (the writer takes :func:`append` while any subscription exists)."""
    mark = "?" if sqlite else "%s"
    cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1" + ("" if sqlite else " FOR UPDATE"))
    seq, prev = cur.fetchone()
    rows = _chain(items, int(seq), str(prev))
    if not rows:
        return []
    at = sqlite_value(rows[0]["at"]) if sqlite else rows[0]["at"]  # one stamp for the batch
    cur.executemany(_INSERT.format(marks=", ".join(mark for _ in AUDIT_COLUMNS)),
                    [tuple(at if c == "at" else r[c] for c in AUDIT_COLUMNS) for r in rows])
    cur.execute(f"UPDATE audit_head SET seq = {mark}, hash = {mark} WHERE id = 1",
                (rows[-1]["seq"], rows[-1]["hash"]))
    return [r["seq"] for r in rows]


_INSERT = "INSERT INTO audit_log (" + ", ".join(AUDIT_COLUMNS) + ") VALUES ({marks})"


class _Pending:
    __slots__ = ("actor", "event", "done", "error")

    def __init__(self, actor: Actor, event: AuditEvent) -> None:
        self.actor = actor
        self.event = event
        self.done = threading.Event()
        self.error: BaseException | None = None


class AuditWriter:
    """Group commit for read audit records. ``record()`` returns once the record is durable."""

    def __init__(self, db: Database, *, max_batch: int = 512) -> None:
        self.db = db
        self.max_batch = max_batch
        self._q: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.records = 0

    def _ensure_started(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                    self._thread.start()

    def record(self, actor: Actor, event: AuditEvent, *, timeout: float = 30.0) -> None:
        self._ensure_started()
        p = _Pending(actor, event)
        self._q.put(p)
        if not p.done.wait(timeout):
            raise AuditUnavailable("audit log did not confirm the record in time")
        if p.error is not None:
            raise AuditUnavailable(f"audit log unavailable: {p.error}") from p.error

    def _drain(self, first: _Pending) -> list[_Pending]:
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                nxt = self._q.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._q.put(None)
                break
            batch.append(nxt)
        return batch

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch = self._drain(first)
            try:
                if self.db.has_group_cursor and not subscriptions_may_exist():
                    with self.db.group_write_cursor() as cur:
                        _append_cursor(cur, self.db.is_sqlite, ((p.actor, p.event) for p in batch))
                else:
                    with self.db.group_write_connection() as conn:
                        append(conn, ((p.actor, p.event) for p in batch))
                self.batches += 1
                self.records += len(batch)
            except BaseException as exc:  # noqa: BLE001 - every waiter must be released
                for p in batch:
                    p.error = exc
            for p in batch:
                p.done.set()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._q.put(None)
            self._thread.join(timeout=10)


@dataclass
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit chain broken at seq {self.seq}: {self.problem}"


def iter_rows(session: Session, *, batch: int = 5000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(db: Database, *, progress: Any = None) -> tuple[int, ChainProblem | None]:
    """Walk the chain. Returns (rows checked, first problem or None)."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    with db.read() as s:
        for r in iter_rows(s):
            row = {k: getattr(r, k) for k in HASHED_FIELDS}
            if r.seq != expected_seq:
                return checked, ChainProblem(expected_seq, f"row {expected_seq} is missing (next row is {r.seq})")
            if r.prev_hash != prev:
                return checked, ChainProblem(r.seq, "prev_hash does not match the previous row (row altered)")
            if row_hash(row, prev) != r.hash:
                return checked, ChainProblem(r.seq, "row content does not match its hash (row altered)")
            prev = r.hash
            expected_seq += 1
            checked += 1
            if progress is not None and checked % 5000 == 0:
                progress(checked)
        head = s.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head.seq != expected_seq - 1:
        return checked, ChainProblem(expected_seq, f"rows {expected_seq}..{head.seq} are missing at the end")
    if head.hash != prev:
        return checked, ChainProblem(expected_seq - 1, "last row does not match the chain head (row altered)")
    return checked, None
