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
    Boolean,
    ForeignKey,
    Index,
    Integer,
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


class EntityKey(Base):
    """Normalised look-up keys (phone E.164, CIN, plate, IBAN, name keys...)."""

    __tablename__ = "entity_keys"
    __table_args__ = (Index("ix_entity_keys_kind_value", "kind", "value"),)

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


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


class AuditHead(Base):
    """The chain's head (last seq and hash). Appenders lock this row, which serialises
    the chain across threads and processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
