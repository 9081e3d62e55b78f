"""Searching the audit log (auditors): "who looked at person X", "what did user Y do"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from amane.services import audit
from amane.services.audit import AuditEvent
from amane.services.context import Actor
from amane.services.policy import visible_audit
from amane.store.db import Database
from amane.store.tables import AuditRecord


@dataclass
class AuditQuery:
    username: str | None = None
    object_id: str | None = None
    action: str | None = None
    unit: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    per_page: int = 50

    def terms(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
                if v not in (None, "") and k not in ("page", "per_page")}


def record_dict(r: AuditRecord) -> dict[str, Any]:
    return {
        "seq": r.seq, "at": r.at.isoformat().replace("+00:00", "Z"), "username": r.username,
        "unit": r.unit_code, "action": r.action, "object_type": r.object_type, "object_id": r.object_id,
        "purpose": r.purpose, "source": r.source, "outcome": r.outcome,
        "details": json.loads(r.details) if r.details else {}, "hash": r.hash,
    }


class AuditLogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, actor: Actor, q: AuditQuery) -> tuple[list[dict[str, Any]], int]:
        actor.require("audit.read")
        conds: list[Any] = [visible_audit(actor)]
        if q.username:
            conds.append(AuditRecord.username == q.username.strip().lower())
        if q.object_id:
            conds.append(AuditRecord.object_id == q.object_id.strip())
        if q.action:
            conds.append(AuditRecord.action == q.action.strip())
        if q.unit:
            conds.append(AuditRecord.unit_code == q.unit.strip().upper())
        if q.since:
            conds.append(AuditRecord.at >= q.since)
        if q.until:
            conds.append(AuditRecord.at < q.until)
        per_page = max(1, min(500, q.per_page))
        page = max(1, q.page)
        with self.db.write() as s:
            total = int(s.scalar(select(func.count()).select_from(AuditRecord).where(*conds)) or 0)
            rows = s.scalars(
                select(AuditRecord).where(*conds).order_by(AuditRecord.seq.desc())
                .limit(per_page).offset((page - 1) * per_page)
            ).all()
            out = [record_dict(r) for r in rows]
            audit.append(s, [(actor, AuditEvent("audit.search", "audit", "", details={"terms": q.terms(),
                                                                                        "total": total}))])
        return out, total
