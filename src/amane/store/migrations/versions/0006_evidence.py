"""evidence register: evidence_items and their hash-chained custody_events

Revision ID: 0006_evidence
Revises: 0005_monitoring
Create Date: 2026-11-29 11:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from amane.store.types import JsonData, UTCDateTime

revision = "0006_evidence"
down_revision = "0005_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id", name="fk_evidence_items_unit_id_units"),
                  nullable=False),
        sa.Column("seal_number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", name="fk_evidence_items_case_id_cases")),
        sa.Column("incident_id", sa.String(32),
                  sa.ForeignKey("entities.id", name="fk_evidence_items_incident_id_entities")),
        sa.Column("storage_location", sa.String(300), nullable=False),
        sa.Column("parent_id", sa.Integer,
                  sa.ForeignKey("evidence_items.id", name="fk_evidence_items_parent_id_evidence_items")),
        sa.Column("custodian_id", sa.Integer, sa.ForeignKey("users.id", name="fk_evidence_items_custodian_id_users")),
        sa.Column("pending_to_id", sa.Integer,
                  sa.ForeignKey("users.id", name="fk_evidence_items_pending_to_id_users")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("sha1", sa.String(40)),
        sa.Column("md5", sa.String(32)),
        sa.Column("size", sa.BigInteger),
        sa.Column("custody_seq", sa.Integer, nullable=False),
        sa.Column("custody_head", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", name="fk_evidence_items_created_by_users")),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_items"),
        sa.UniqueConstraint("reference", name="uq_evidence_items_reference"),
        sa.UniqueConstraint("unit_id", "seal_number", name="uq_evidence_items_unit_seal"),
    )
    op.create_index("ix_evidence_items_unit_state", "evidence_items", ["unit_id", "state"])
    for col in ("case_id", "incident_id", "parent_id", "custodian_id", "pending_to_id"):
        op.create_index(f"ix_evidence_items_{col}", "evidence_items", [col])
    op.create_table(
        "custody_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer,
                  sa.ForeignKey("evidence_items.id", name="fk_custody_events_item_id_evidence_items"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", name="fk_custody_events_actor_id_users")),
        sa.Column("counterpart_id", sa.Integer,
                  sa.ForeignKey("users.id", name="fk_custody_events_counterpart_id_users")),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("purpose", sa.String(1000), nullable=False),
        sa.Column("details", JsonData, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custody_events"),
        sa.UniqueConstraint("item_id", "seq", name="uq_custody_events_item_seq"),
    )


def downgrade() -> None:
    op.drop_table("custody_events")
    op.drop_table("evidence_items")
