"""The relational tables.

Records of the POLE model live in one generic ``entities`` table (schema name + JSON data),
with ``entity_keys`` indexing what people look up (phones, ID numbers, plates, names...),
``entity_refs`` indexing references between records (the edges of relations), and
``entity_versions`` keeping every version ever written. Workflow data (units, users,
sessions, audit) are ordinary tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from amane.store.types import JsonData, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    """A police unit. ``path`` is the materialised path of ids (``/1/4/17/``) so that a
    unit's subtree is one indexed prefix match."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    #: National units (headquarters, directorates, national units and labs) see every region.
    national: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(8))
    province: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(24))
    path: Mapped[str] = mapped_column(String(400), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    def name(self, lang: str) -> str:
        return str(getattr(self, f"name_{lang}", None) or self.name_fr)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    service_number: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    clearance: Mapped[int] = mapped_column(Integer, default=0)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(64))
    #: Last accepted TOTP time step: a code is accepted once (no replay).
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class LoginFailure(Base):
    """Failed logins by the name typed (known or not), for lockout."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64), default="")


class WebSession(Base):
    """A browser session. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """An API bearer token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Entity(Base):
    """One record of the POLE model (a person, vehicle, incident, relation...)."""

    __tablename__ = "entities"
    __table_args__ = (
        UniqueConstraint("schema", "owner_unit_id", "external_id", name="uq_entities_external"),
        Index("ix_entities_schema_updated", "schema", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    schema: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonData)
    caption: Mapped[str] = mapped_column(String(300), default="")
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    classification: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Soft delete: the record answers 404 but its history is kept until a retention job.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner_unit: Mapped[Unit] = relationship(lazy="joined")


class EntityVersion(Base):
    """Every version of every record, written in the same transaction as the change."""

    __tablename__ = "entity_versions"

    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    op: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JsonData)
    owner_unit_id: Mapped[int] = mapped_column(Integer)
    classification: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")


#: A unit path compared byte by byte: a subtree is one range of the key index (``/1/4/`` <= path <
#: ``/1/40``) whatever the database's collation (a linguistic one orders ``/`` apart from digits).
UnitPath = String(400).with_variant(String(400, collation="C"), "postgresql")


class EntityKey(Base):
    """Normalised look-up keys (phone E.164, CIN, plate, IBAN, name keys...).

    Each row also carries its record's owner unit path and classification (copied whenever the
    record's keys are written, which every change of owner or classification does), so that a
    user of a region or a station reads only the postings of their subtree within their clearance
    (``ix_entity_keys_scope``) instead of every namesake in the country. They narrow the look-up
    only: what a user may see is still decided by :func:`amane.services.policy.visible_entities`
    on the record itself."""

    __tablename__ = "entity_keys"
    __table_args__ = (
        # (kind, value) look-ups read the entity ids from the index alone, in id order (person search)
        Index("ix_entity_keys_lookup", "kind", "value", "entity_id"),
        # the same restricted to a unit's subtree and a clearance, still from the index alone
        Index("ix_entity_keys_scope", "kind", "value", "unit_path", "classification", "entity_id"),
    )

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The owner unit's ``Unit.path`` and the record's classification, as of the last key write.
    unit_path: Mapped[str] = mapped_column(UnitPath, server_default="")
    classification: Mapped[int] = mapped_column(Integer, server_default="0")


class EntityRef(Base):
    """A reference from one record to another (a relation's source and target)."""

    __tablename__ = "entity_refs"

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    prop: Mapped[str] = mapped_column(String(64), primary_key=True)
    ref_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class EntityShare(Base):
    """A record shared with another unit (and so with that unit's subtree)."""

    __tablename__ = "entity_shares"

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditRecord(Base):
    """Append-only, hash-chained audit log. ``hash`` = SHA-256 over the row's fields and
    ``prev_hash``; ``seq`` is gap-free, so a deleted row shows as a gap."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        Index("ix_audit_user_at", "username", "at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StoreMeta(Base):
    """Facts about the stored data that code checks against itself: ``keys_version``, the version
    of the names engine's keys (``amane.names.KEYS_VERSION``) the key index was built with."""

    __tablename__ = "store_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class AuditHead(Base):
    """The chain's head (last seq and hash). Appenders lock this row, which serialises
    the chain across threads and processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ResolutionRun(Base):
    """One run of entity resolution over the persons of a unit scope."""

    __tablename__ = "resolution_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_code: Mapped[str] = mapped_column(String(32), default="")
    threshold: Mapped[float] = mapped_column(Float)
    stats: Mapped[dict[str, Any]] = mapped_column(JsonData)


class MatchCandidate(Base):
    """A pair of person records that may be the same person: the analysts' review queue.

    ``status``: pending -> accepted (a merge link exists) or rejected; an accepted pair whose merge
    is undone becomes ``undone``. A decided pair is never proposed again by a later run."""

    __tablename__ = "match_candidates"
    __table_args__ = (
        UniqueConstraint("a_id", "b_id", name="uq_match_candidates_pair"),
        Index("ix_match_candidates_status_prob", "status", "probability"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    b_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonData)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("resolution_runs.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")


class MergeLink(Base):
    """An analyst's decision that two person records are the same person. Both records are kept;
    persons joined by active links form one identity (``entity_clusters``). Undo sets ``undone_at``."""

    __tablename__ = "merge_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), index=True)
    b_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("match_candidates.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undo_reason: Mapped[str] = mapped_column(String(500), default="")


class EntityCluster(Base):
    """Which identity a merged person record belongs to (only records in a cluster of two or
    more have a row). ``cluster_id`` is the smallest entity id of the cluster; recomputed from
    the active merge links of the affected component on every merge and undo."""

    __tablename__ = "entity_clusters"

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[str] = mapped_column(String(32), index=True)


# --------------------------------------------------------------------------- procedures
# Complaints, incident reports (procès-verbaux) and investigation case files: workflow
# records, so ordinary tables. The facts they are about (incidents, persons, objects) are
# records of the POLE model, referenced by entity id.


class RefCounter(Base):
    """Per unit, kind and year, the last reference number given: incremented in the creating
    transaction, so numbers have no gaps and no duplicates (``CAS-2026-RABAT-000123``)."""

    __tablename__ = "ref_counters"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    """A complaint, taken at a station or filed by a citizen online."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="received")
    category: Mapped[str] = mapped_column(String(64), default="")
    complainant: Mapped[dict[str, Any]] = mapped_column(JsonData)
    facts: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(300), default="")
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the citizen types to follow the complaint (with the secret code); public.
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    #: argon2 hash of the secret code given to the citizen once.
    secret_hash: Mapped[str] = mapped_column(String(255), default="")
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("entities.id"))
    redirected_to: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    decision_reason: Mapped[str] = mapped_column(String(1000), default="")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Report(Base):
    """An incident report: draft -> submitted -> approved (locked) or returned to its author.
    A correction after approval is a new version with a reason; every version is kept."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("entities.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    content: Mapped[dict[str, Any]] = mapped_column(JsonData)
    classification: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    returned_reason: Mapped[str] = mapped_column(String(1000), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportVersion(Base):
    __tablename__ = "report_versions"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JsonData)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000), default="")


class Case(Base):
    """An investigation case file, opened by a supervisor from one or more incidents.
    Compartmented: only its team, the units above its owning unit and national roles see it."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(24), default="open")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseIncident(Base):
    __tablename__ = "case_incidents"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), primary_key=True, index=True)


class CaseMember(Base):
    """The case team: ``lead`` (one), ``member``, ``supervisor``."""

    __tablename__ = "case_members"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseTask(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_assignee_status", "assignee_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcEvent(Base):
    """The timeline of a complaint, report or case: every action on it and every note, in order."""

    __tablename__ = "proc_events"
    __table_args__ = (Index("ix_proc_events_owner", "owner_kind", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JsonData)


class Attachment(Base):
    """A file attached to a complaint, report or case. The bytes live in the blob store under
    their SHA-256; the row is written after the file is durable."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Notification(Base):
    """An item of a user's in-app inbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        UniqueConstraint("user_id", "dedup", name="uq_notifications_dedup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JsonData)
    link: Mapped[str] = mapped_column(String(300), default="")
    #: Deduplication key: one notification per key and user (e.g. a due-date reminder per task).
    dedup: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(Base):
    """"Tell me when this record is viewed or changed", for users of the record's owner unit."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentFact(Base):
    """The analytic projection of one Incident record: what statistics, hotspots and forecasts
    read. Written in the same transaction as the record (``services.facts``), removed when the
    record is deleted, rebuilt from the records by ``amane analytics rebuild-facts``. Access is
    decided on the record's own owner unit and classification (``policy.visible_facts``)."""

    __tablename__ = "incident_facts"
    __table_args__ = (
        Index("ix_incident_facts_unit_time", "owner_unit_id", "occurred_at"),
        Index("ix_incident_facts_time", "occurred_at"),
    )

    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    classification: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(64))
    category_group: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    region: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(24))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class CrimeAlert(Base):
    """A spike found by the weekly scan: this period's count of one offence group in one unit
    exceeded the upper bound expected from the unit's own history."""

    __tablename__ = "crime_alerts"
    __table_args__ = (UniqueConstraint("unit_id", "category", "period_start", "method", name="uq_crime_alerts_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Offence group (``group:property``) or offence code.
    category: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(32))
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    #: Highest classification of the incidents counted: only users cleared to it see the alert.
    classification: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
    #: The weekly series, expected values and bounds that the alert's chart draws.
    chart: Mapped[dict[str, Any]] = mapped_column(JsonData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --------------------------------------------------------------------------- trace scans
# Trace extraction runs on digital evidence and the selectors they found (``services/traces.py``).


class TraceScan(Base):
    """One trace-extraction run over a digital item's content (a path on the lab's server). Queued
    scans are run by ``amane forensics worker``; one that was running when the worker stopped is
    queued again at the worker's next start, so a restart loses no requested scan."""

    __tablename__ = "trace_scans"
    __table_args__ = (Index("ix_trace_scans_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    out_dir: Mapped[str | None] = mapped_column(String(1000))
    #: queued, running, done, failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JsonData)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JsonData)
    engine: Mapped[str] = mapped_column(String(16), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(String(2000), default="")
    #: ``traces`` (byte-level selector extraction) or ``files`` (file-system listing, hashing and
    #: hash-set matching with The Sleuth Kit).
    kind: Mapped[str] = mapped_column(String(16), default="traces")
    #: For ``files`` scans: the files found in known-bad hash sets (path, inode, digests, set).
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JsonData, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TraceSelector(Base):
    """A distinct selector found by a scan, with how often and where it was first seen."""

    __tablename__ = "trace_selectors"
    __table_args__ = (Index("ix_trace_selectors_lookup", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("trace_scans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_location: Mapped[str] = mapped_column(String(500), default="")


class KnownHashSet(Base):
    """A reference list of file hashes: known-good (NSRL-style, files to skip) or known-bad (files
    that raise an alert when found on an item)."""

    __tablename__ = "known_hash_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    counts: Mapped[dict[str, Any]] = mapped_column(JsonData)
    source: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class KnownHash(Base):
    """One digest of a hash set (raw bytes: 16 for MD5, 20 for SHA-1, 32 for SHA-256)."""

    __tablename__ = "known_hashes"
    __table_args__ = (Index("ix_known_hashes_digest", "algorithm", "digest"),)

    set_id: Mapped[int] = mapped_column(ForeignKey("known_hash_sets.id", ondelete="CASCADE"), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(8), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


# --------------------------------------------------------------------------- cyber watch
# Collected web, dark-web and messaging content (``services/watch.py``, ``docs/watch.md``).


class WatchSource(Base):
    """A named collection (a Telegram channel export, a crawler's output folder, a feed). Its unit
    is responsible for the items: they are in that unit's scope and its analysts get the alerts."""

    __tablename__ = "watch_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="folder")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Feed address for ``kind == "rss"`` (fetched only from configured addresses).
    url: Mapped[str | None] = mapped_column(String(500))
    classification: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WatchItem(Base):
    """One collected post, page or message after the processing pipeline. ``duplicate_of`` /
    ``near_duplicate_of`` point at the first item with the same (or nearly the same) text."""

    __tablename__ = "watch_items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_watch_items_source_external"),
        Index("ix_watch_items_unit_collected", "unit_id", "collected_at"),
        Index("ix_watch_items_category", "top_category", "collected_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("watch_sources.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    location: Mapped[str] = mapped_column(String(500), default="")
    media_type: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(1000))
    author: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("watch_items.id"))
    near_duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("watch_items.id"))
    language: Mapped[str] = mapped_column(String(16), default="unknown")
    script: Mapped[str] = mapped_column(String(16), default="none")
    #: Every category's score, and the best one (``None`` below the threshold: "no category").
    scores: Mapped[dict[str, Any]] = mapped_column(JsonData)
    top_category: Mapped[str | None] = mapped_column(String(32))
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    #: Evidence spans per category and watchlist hits: ``{"evidence": {cat: [[s, e, term]]}, "hits": [...]}``.
    marks: Mapped[dict[str, Any]] = mapped_column(JsonData)
    classification: Mapped[int] = mapped_column(Integer, default=1)
    #: Analyst's reading: new, relevant, not_relevant, escalated.
    status: Mapped[str] = mapped_column(String(16), default="new")
    #: Categories confirmed by an analyst (the classifier's training feedback); ``None``: not reviewed.
    labels: Mapped[list[str] | None] = mapped_column(JsonData)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))


class WatchSelector(Base):
    """A selector (phone, e-mail, wallet, IBAN, card, URL...) found in an item, normalised."""

    __tablename__ = "watch_selectors"
    __table_args__ = (Index("ix_watch_selectors_lookup", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("watch_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


class WatchTerm(Base):
    """A watchlist entry: keyword, phrase, regular expression or person name, written once and
    matched across scripts and spellings. A unit's terms apply to its sources and those below."""

    __tablename__ = "watch_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WatchAlert(Base):
    """An item that met an alert rule (category score, watchlist hit, known selector), for the
    triage queue of the source's unit; the analyst's verdict is kept with it."""

    __tablename__ = "watch_alerts"
    __table_args__ = (Index("ix_watch_alerts_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("watch_items.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: ``[{"rule": "category", "category": "drugs", "score": 0.93}, {"rule": "watchlist", "term": 3}, ...]``
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonData)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    classification: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    triaged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(2000), default="")


class WatchIndicator(Base):
    """An indicator received from a partner (a STIX bundle), kept once per STIX id and value: re-importing
    the same bundle changes nothing. Its selector counts as known when seen in collected content."""

    __tablename__ = "watch_indicators"
    __table_args__ = (
        Index("ix_watch_indicators_lookup", "kind", "value"),
        UniqueConstraint("stix_id", "kind", "value", name="uq_watch_indicators_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: One STIX indicator may carry several values (an OR pattern): one row per value.
    stix_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    tlp: Mapped[str | None] = mapped_column(String(16))
    labels: Mapped[list[str]] = mapped_column(JsonData)
    description: Mapped[str] = mapped_column(Text, default="")
    source_name: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --------------------------------------------------------------------------- evidence
# The evidence register and its chain of custody (``services/evidence.py``, ``docs/evidence.md``).



class EvidenceItem(Base):
    """A physical or digital exhibit under seal. ``custodian_id`` holds it now; during a transfer
    ``pending_to_id`` names the only user who may receive (or refuse) it. Digital items keep the
    hashes of their content at intake. ``custody_seq``/``custody_head`` are the last event's number
    and hash, so that a custody log cut at its end is detected too."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        UniqueConstraint("unit_id", "seal_number", name="uq_evidence_items_unit_seal"),
        Index("ix_evidence_items_unit_state", "unit_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    seal_number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("entities.id"), index=True)
    storage_location: Mapped[str] = mapped_column(String(300), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    custodian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    pending_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="in_custody")
    sha256: Mapped[str | None] = mapped_column(String(64))
    sha1: Mapped[str | None] = mapped_column(String(40))
    md5: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(BigInteger)
    custody_seq: Mapped[int] = mapped_column(Integer, default=0)
    custody_head: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustodyEvent(Base):
    """One event of an item's custody log. Append-only and hash-chained per item:
    ``hash = SHA-256(canonical JSON of the event || prev_hash)``."""

    __tablename__ = "custody_events"
    __table_args__ = (UniqueConstraint("item_id", "seq", name="uq_custody_events_item_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counterpart_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    place: Mapped[str] = mapped_column(String(300), default="")
    purpose: Mapped[str] = mapped_column(String(1000), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JsonData)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# -- lab requests --
# An investigator asks a laboratory unit for an examination of evidence items; the lab accepts
# and assigns a technician, who records the results and attaches the report.


class LabRequest(Base):
    """A request for a laboratory examination. ``classification`` is the highest of its items'
    (and case's), so that the request never shows more than its material. Timestamps of each step
    give the turnaround (``completed_at - submitted_at``)."""

    __tablename__ = "lab_requests"
    __table_args__ = (
        Index("ix_lab_requests_lab_state", "lab_unit_id", "state"),
        Index("ix_lab_requests_requester_unit", "requester_unit_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    lab_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    exam_type: Mapped[str] = mapped_column(String(24))
    questions: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="routine")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Why it was rejected or cancelled.
    reason: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    report_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabRequestItem(Base):
    """An evidence item to examine under a lab request."""

    __tablename__ = "lab_request_items"

    request_id: Mapped[int] = mapped_column(ForeignKey("lab_requests.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), primary_key=True, index=True)
