"""core: units, users, sessions, entities, audit

Revision ID: 0001_core
Revises: (none)
Create Date: 2026-11-29 04:59:23.420132
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amane.store.types

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_unit_code"), ["unit_code"], unique=False)
        batch_op.create_index("ix_audit_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index("ix_audit_user_at", ["username", "at"], unique=False)

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_username"), ["username"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("national", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("province", sa.String(length=16), nullable=True),
        sa.Column("commune", sa.String(length=24), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_path"), ["path"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("service_number", sa.String(length=32), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("clearance", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_users_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("service_number", name=op.f("uq_users_service_number")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", amane.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "entities",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("schema", sa.String(length=64), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", amane.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_entities_created_by_users")),
        sa.ForeignKeyConstraint(["owner_unit_id"], ["units.id"], name=op.f("fk_entities_owner_unit_id_units")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_entities_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("schema", "owner_unit_id", "external_id", name="uq_entities_external"),
    )
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entities_owner_unit_id"), ["owner_unit_id"], unique=False)
        batch_op.create_index("ix_entities_schema_updated", ["schema", "updated_at"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "entity_keys",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_keys_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entity_id", "kind", "value", name=op.f("pk_entity_keys")),
    )
    with op.batch_alter_table("entity_keys", schema=None) as batch_op:
        batch_op.create_index("ix_entity_keys_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "entity_refs",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("prop", sa.String(length=64), nullable=False),
        sa.Column("ref_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_refs_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entity_id", "prop", "ref_id", name=op.f("pk_entity_refs")),
    )
    with op.batch_alter_table("entity_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_refs_ref_id"), ["ref_id"], unique=False)

    op.create_table(
        "entity_shares",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("shared_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shared_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_shares_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["shared_by"], ["users.id"], name=op.f("fk_entity_shares_shared_by_users")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_entity_shares_unit_id_units")),
        sa.PrimaryKeyConstraint("entity_id", "unit_id", name=op.f("pk_entity_shares")),
    )
    with op.batch_alter_table("entity_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_shares_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "entity_versions",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=16), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("changed_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"], name=op.f("fk_entity_versions_changed_by_users")),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_entity_versions_entity_id_entities")),
        sa.PrimaryKeyConstraint("entity_id", "version", name=op.f("pk_entity_versions")),
    )

    head = sa.table(
        "audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("hash", sa.String)
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    op.drop_table("entity_versions")
    with op.batch_alter_table("entity_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_shares_unit_id"))

    op.drop_table("entity_shares")
    with op.batch_alter_table("entity_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_refs_ref_id"))

    op.drop_table("entity_refs")
    with op.batch_alter_table("entity_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_keys_kind_value")

    op.drop_table("entity_keys")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    op.drop_table("user_roles")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_schema_updated")
        batch_op.drop_index(batch_op.f("ix_entities_owner_unit_id"))

    op.drop_table("entities")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_unit_id"))

    op.drop_table("users")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_path"))
        batch_op.drop_index(batch_op.f("ix_units_parent_id"))

    op.drop_table("units")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_username"))

    op.drop_table("login_failures")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_user_at")
        batch_op.drop_index("ix_audit_object")
        batch_op.drop_index(batch_op.f("ix_audit_log_unit_code"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    op.drop_table("audit_head")
