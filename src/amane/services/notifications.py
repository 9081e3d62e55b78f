"""The in-app inbox: assignments, returned reports, approaching due dates, and subscriptions
("tell me when this record is viewed or changed").

Notifications are written in the transaction of what caused them. Subscriptions are served
from the audit log's append (``audit.append`` calls :func:`subscription_notices`): every view
and every change of a record passes there, whatever the path (UI, API, CLI, export)."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from amane.services.context import Actor
from amane.services.errors import FieldError, NotFound, ValidationFailed
from amane.services.policy import visible_entities
from amane.store.db import Database
from amane.store.tables import Case, CaseTask, Entity, Notification, Subscription
from amane.store.types import utcnow

#: Audit actions that count as "viewed" and as "changed" for subscriptions.
VIEW_ACTIONS = frozenset({"read", "history", "export"})
CHANGE_ACTIONS = frozenset({"update", "delete", "share", "merge", "unmerge"})
DUE_SOON_DAYS = 2


def notify(s: Session | Connection, user_id: int, kind: str, params: Mapping[str, Any], *, link: str = "",
           dedup: str | None = None) -> None:
    """Add a notification to a user's inbox (once per ``dedup`` key, when given)."""
    if dedup is not None:
        exists = s.execute(select(Notification.id).where(Notification.user_id == user_id,
                                                         Notification.dedup == dedup)).first()
        if exists is not None:
            return
    s.execute(insert(Notification).values(user_id=user_id, kind=kind, params=dict(params), link=link[:300],
                                          dedup=dedup, created_at=utcnow()))


#: Whether any subscription exists, re-checked at most every few seconds per process: the audit
#: append of every read skips the subscription look-up while nobody subscribes to anything. A
#: subscription made in another process takes effect here within ``SUBS_CHECK_S``.
SUBS_CHECK_S = 5.0
_subs = {"any": False, "checked_at": float("-inf")}


def _subscriptions_exist(s: Session | Connection) -> bool:
    if _subs["any"]:
        return True
    now = time.monotonic()
    if now - _subs["checked_at"] > SUBS_CHECK_S:
        _subs["any"] = s.execute(select(Subscription.user_id).limit(1)).first() is not None
        _subs["checked_at"] = now
    return bool(_subs["any"])


def subscriptions_may_exist() -> bool:
    """False only when the last look (at most ``SUBS_CHECK_S`` ago) found no subscription: writers
    of audit records may then skip :func:`subscription_notices`. Stale or positive: True, and the
    caller takes the path that calls it (which looks again)."""
    return bool(_subs["any"]) or time.monotonic() - _subs["checked_at"] > SUBS_CHECK_S


def subscription_notices(s: Session | Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Called by ``audit.append`` with the audit rows being written: notify the subscribers of
    each record viewed or changed (not the person who did it; one notice a day per kind)."""
    if not _subscriptions_exist(s):
        return
    wanted: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if r["outcome"] == "ok" and r["object_id"] and (r["action"] in VIEW_ACTIONS or r["action"] in CHANGE_ACTIONS):
            wanted.setdefault(str(r["object_id"]), []).append(r)
    if not wanted:
        return
    subs = s.execute(select(Subscription.user_id, Subscription.entity_id)
                     .where(Subscription.entity_id.in_(list(wanted)))).all()
    for user_id, eid in subs:
        for r in wanted[eid]:
            if r["user_id"] == user_id:
                continue
            kind = "record.changed" if r["action"] in CHANGE_ACTIONS else "record.viewed"
            day = r["at"].date().isoformat() if isinstance(r["at"], datetime) else str(r["at"])[:10]
            notify(s, user_id, kind, {"record": eid, "schema": r["object_type"], "by": r["username"],
                                      "unit": r["unit_code"], "action": r["action"]},
                   link=f"/records/view/{eid}", dedup=f"{kind}:{eid}:{r['username']}:{day}"[:100])


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    params: dict[str, Any]
    link: str
    created_at: datetime
    read: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": self.params, "link": self.link,
                "created_at": self.created_at.isoformat(), "read": self.read}


class InboxService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _user(self, actor: Actor) -> int:
        if actor.user_id is None:
            raise ValidationFailed([FieldError("user", "user.required", "the inbox belongs to a signed-in user")])
        return actor.user_id

    def list(self, actor: Actor, *, unread_only: bool = False,
             limit: int = 50) -> tuple[builtins.list[NotificationView], int]:
        """The newest notifications first, and the number unread. Reminders of tasks due soon
        are added when the inbox is opened."""
        uid = self._user(actor)
        if not 1 <= limit <= 200:
            raise ValidationFailed([FieldError("limit", "limit.range", "limit must be between 1 and 200")])
        self.due_reminders(user_id=uid)
        with self.db.read() as s:
            conds: list[Any] = [Notification.user_id == uid]
            if unread_only:
                conds.append(Notification.read_at.is_(None))
            rows = s.scalars(select(Notification).where(*conds).order_by(Notification.id.desc()).limit(limit)).all()
            unread = s.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == uid, Notification.read_at.is_(None))) or 0
        return [NotificationView(n.id, n.kind, dict(n.params), n.link, n.created_at, n.read_at is not None)
                for n in rows], int(unread)

    def unread_count(self, actor: Actor) -> int:
        if actor.user_id is None:
            return 0
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == actor.user_id, Notification.read_at.is_(None))) or 0)

    def mark_read(self, actor: Actor, ids: Iterable[int] | None = None) -> int:
        """Mark some (or all) of one's own notifications read."""
        uid = self._user(actor)
        stmt = update(Notification).where(Notification.user_id == uid, Notification.read_at.is_(None))
        if ids is not None:
            stmt = stmt.where(Notification.id.in_(list(ids)))
        with self.db.write() as s:
            res = s.execute(stmt.values(read_at=utcnow()))
            return int(getattr(res, "rowcount", 0) or 0)

    def open(self, actor: Actor, nid: int) -> str:
        """Mark one of one's own notifications read and return its link (another user's
        notification answers like a missing one)."""
        uid = self._user(actor)
        with self.db.write() as s:
            row = s.scalar(select(Notification).where(Notification.id == nid, Notification.user_id == uid))
            if row is None:
                raise NotFound("notification", str(nid))
            if row.read_at is None:
                row.read_at = utcnow()
            return row.link

    def due_reminders(self, *, user_id: int | None = None, today: date | None = None) -> int:
        """Remind assignees of open tasks due within two days (or overdue), once per task."""
        today = today or utcnow().date()
        horizon = (today + timedelta(days=DUE_SOON_DAYS)).isoformat()
        with self.db.read() as s:
            conds: list[Any] = [CaseTask.status == "open", CaseTask.due_date.is_not(None), CaseTask.due_date <= horizon]
            if user_id is not None:
                conds.append(CaseTask.assignee_id == user_id)
            tasks = s.execute(select(CaseTask.id, CaseTask.assignee_id, CaseTask.title, CaseTask.due_date,
                                     CaseTask.case_id, Case.reference).join(Case, Case.id == CaseTask.case_id)
                              .where(*conds)).all()
            if not tasks:
                return 0
            have = set(s.scalars(select(Notification.dedup).where(
                Notification.dedup.in_([f"due:{t.id}" for t in tasks]))))
        todo = [t for t in tasks if f"due:{t.id}" not in have]
        if not todo:
            return 0
        with self.db.write() as s:
            for t in todo:
                notify(s, t.assignee_id, "task.due", {"task": t.title, "due": t.due_date, "case": t.reference},
                       link=f"/cases/{t.case_id}", dedup=f"due:{t.id}")
        return len(todo)

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(self, actor: Actor, eid: str) -> None:
        uid = self._user(actor)
        with self.db.write() as s:
            if s.scalar(select(Entity.id).where(Entity.id == eid, visible_entities(actor))) is None:
                raise NotFound("record", eid)
            if s.get(Subscription, (uid, eid)) is None:
                s.add(Subscription(user_id=uid, entity_id=eid, created_at=utcnow()))
        _subs["any"] = True

    def unsubscribe(self, actor: Actor, eid: str) -> None:
        uid = self._user(actor)
        with self.db.write() as s:
            sub = s.get(Subscription, (uid, eid))
            if sub is not None:
                s.delete(sub)

    def subscribed(self, actor: Actor, eid: str) -> bool:
        if actor.user_id is None:
            return False
        with self.db.read() as s:
            return s.get(Subscription, (actor.user_id, eid)) is not None
