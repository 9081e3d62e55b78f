"""lab requests: lab_requests and the evidence items they cover (lab_request_items)

Revision ID: 0007_labs
Revises: 0006_evidence
Create Date: 2026-11-29 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from amane.store.types import UTCDateTime

revision = "0007_labs"
down_revision = "0006_evidence"
branch_labels = None
depends_on = None


def _fk(table: str, col: str, target: str, *, ondelete: str | None = None) -> sa.ForeignKey:
    ref_table = target.split(".")[0]
    return sa.ForeignKey(target, name=f"fk_{table}_{col}_{ref_table}", ondelete=ondelete)


def upgrade() -> None:
    t = "lab_requests"
    op.create_table(
        t,
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("lab_unit_id", sa.Integer, _fk(t, "lab_unit_id", "units.id"), nullable=False),
        sa.Column("requester_id", sa.Integer, _fk(t, "requester_id", "users.id")),
        sa.Column("requester_unit_id", sa.Integer, _fk(t, "requester_unit_id", "units.id"), nullable=False),
        sa.Column("exam_type", sa.String(24), nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer, _fk(t, "case_id", "cases.id")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("technician_id", sa.Integer, _fk(t, "technician_id", "users.id")),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("results", sa.Text, nullable=False),
        sa.Column("report_attachment_id", sa.Integer, _fk(t, "report_attachment_id", "attachments.id")),
        sa.Column("submitted_at", UTCDateTime, nullable=False),
        sa.Column("accepted_at", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lab_requests"),
        sa.UniqueConstraint("reference", name="uq_lab_requests_reference"),
    )
    op.create_index("ix_lab_requests_lab_state", t, ["lab_unit_id", "state"])
    op.create_index("ix_lab_requests_requester_unit", t, ["requester_unit_id", "state"])
    for col in ("requester_id", "case_id", "technician_id"):
        op.create_index(f"ix_lab_requests_{col}", t, [col])
    i = "lab_request_items"
    op.create_table(
        i,
        sa.Column("request_id", sa.Integer, _fk(i, "request_id", "lab_requests.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("item_id", sa.Integer, _fk(i, "item_id", "evidence_items.id"), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "item_id", name="pk_lab_request_items"),
    )
    op.create_index("ix_lab_request_items_item_id", i, ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_lab_request_items_item_id", table_name="lab_request_items")
    op.drop_table("lab_request_items")
    for col in ("requester_id", "case_id", "technician_id"):
        op.drop_index(f"ix_lab_requests_{col}", table_name="lab_requests")
    op.drop_index("ix_lab_requests_requester_unit", table_name="lab_requests")
    op.drop_index("ix_lab_requests_lab_state", table_name="lab_requests")
    op.drop_table("lab_requests")
