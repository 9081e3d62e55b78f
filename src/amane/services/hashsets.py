"""Known-file hash sets kept in the database, shared by every lab workstation.

A set is imported once from a file (NSRL RDS CSV, one hash per line, ``sha256sum`` output; parsed
by :mod:`amane.forensics.hashsets`, which reports bad lines) as *known good* (files to skip:
operating-system and application files) or *known bad* (files whose presence on an item raises an
alert on the item's unit and case). Digests are stored as raw bytes, indexed by algorithm and
digest; :meth:`HashSetService.lookup` answers a batch of digests in one statement per algorithm."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, ValidationFailed
from amane.store.db import Database
from amane.store.tables import KnownHash, KnownHashSet, Unit

KINDS = ("known_good", "known_bad")
#: Digests inserted per statement.
INSERT_BATCH = 5000
#: Digests looked up per statement.
LOOKUP_BATCH = 500


class HashSetService:
    def __init__(self, db: Database, writer: AuditWriter) -> None:
        self.db = db
        self.writer = writer

    def _require(self, actor: Actor) -> None:
        if not (actor.can("lab.work") or actor.can("evidence.custody")):
            actor.require("lab.work")

    def import_path(self, actor: Actor, path: str | os.PathLike[str], *, kind: str, name: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Import a hash-set file; the whole set is written in one transaction (all or nothing)."""
        from amane.forensics.hashsets import load_hash_set

        self._require(actor)
        errors = []
        if kind not in KINDS:
            errors.append(FieldError("kind", "enum", f"one of {', '.join(KINDS)}"))
        if not os.path.isfile(path):
            errors.append(FieldError("path", "path.missing", f"{path} is not a file"))
        if errors:
            raise ValidationFailed(errors)
        name = (name or os.path.basename(str(path))).strip()[:200]
        hs = load_hash_set(path, kind=kind, name=name)
        if len(hs) == 0:
            raise ValidationFailed([FieldError("path", "hashset.empty", f"no valid hash in {path} "
                                               f"({hs.error_count} bad line(s))")])
        total = len(hs)
        done = 0
        with self.db.write() as s:
            if s.scalar(select(KnownHashSet.id).where(KnownHashSet.name == name)) is not None:
                raise Conflict(f"a hash set named '{name}' exists", field="name", rule="hashset.duplicate")
            unit = s.get(Unit, actor.unit_id) if actor.unit_id else None
            row = KnownHashSet(name=name, kind=kind, unit_id=unit.id if unit else None, counts=hs.counts(),
                               source=str(path)[:500], created_by=actor.user_id)
            s.add(row)
            s.flush()
            for algorithm, digests in hs.hashes.items():
                batch: list[dict[str, Any]] = []
                for d in digests:
                    batch.append({"set_id": row.id, "algorithm": algorithm, "digest": d})
                    if len(batch) >= INSERT_BATCH:
                        s.execute(insert(KnownHash), batch)
                        done += len(batch)
                        batch = []
                        if progress:
                            progress(done, total)
                if batch:
                    s.execute(insert(KnownHash), batch)
                    done += len(batch)
            out = {"id": row.id, "name": name, "kind": kind, "counts": hs.counts(), "bad_lines": hs.error_count,
                   "errors": [{"line": e.line, "reason": e.reason} for e in hs.errors[:20]]}
        if progress:
            progress(total, total)
        self.writer.record(actor, AuditEvent("hashset.import", "KnownHashSet", str(out["id"]), details={
            "name": name, "kind": kind, "counts": out["counts"], "bad_lines": out["bad_lines"]}))
        return out

    def sets(self, actor: Actor) -> list[dict[str, Any]]:
        self._require(actor)
        with self.db.read() as s:
            rows = s.scalars(select(KnownHashSet).order_by(KnownHashSet.name)).all()
            return [{"id": r.id, "name": r.name, "kind": r.kind, "counts": r.counts, "source": r.source,
                     "created_at": r.created_at.isoformat()} for r in rows]

    def lookup(self, s: Session,
               digests: Iterable[tuple[str, bytes]]) -> dict[tuple[str, bytes], list[tuple[str, str]]]:
        """(algorithm, digest) -> [(set name, kind)] for the digests found in any set."""
        wanted = list(dict.fromkeys(digests))
        found: dict[tuple[str, bytes], list[tuple[str, str]]] = {}
        for i in range(0, len(wanted), LOOKUP_BATCH):
            part = wanted[i:i + LOOKUP_BATCH]
            rows = s.execute(select(KnownHash.algorithm, KnownHash.digest, KnownHashSet.name, KnownHashSet.kind)
                             .join(KnownHashSet, KnownHashSet.id == KnownHash.set_id)
                             .where(tuple_(KnownHash.algorithm, KnownHash.digest).in_(part))).all()
            for algorithm, digest, name, kind in rows:
                found.setdefault((algorithm, bytes(digest)), []).append((name, kind))
        return found
