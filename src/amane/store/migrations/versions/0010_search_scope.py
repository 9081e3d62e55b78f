"""search scope: entity_keys carry their record's owner unit path and classification

A user of a region or a station reads only the postings of their subtree within their
clearance (index ``kind, value, unit_path, classification, entity_id``) instead of every
namesake in the country. Existing rows are filled from their record.

Revision ID: 0010_search_scope
Revises: 0009_traces
Create Date: 2026-11-29 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_search_scope"
down_revision = "0009_traces"
branch_labels = None
depends_on = None

#: Byte order on PostgreSQL whatever the database's collation: a subtree is one index range.
UNIT_PATH = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


def upgrade() -> None:
    # NOT NULL with a default: SQLite adds such a column without rewriting the table
    op.add_column("entity_keys", sa.Column("unit_path", UNIT_PATH, server_default="", nullable=False))
    op.add_column("entity_keys", sa.Column("classification", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE entity_keys SET unit_path = u.path, classification = e.classification "
        "FROM entities AS e JOIN units AS u ON u.id = e.owner_unit_id WHERE e.id = entity_keys.entity_id"
    )
    op.create_index("ix_entity_keys_scope", "entity_keys",
                    ["kind", "value", "unit_path", "classification", "entity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_entity_keys_scope", table_name="entity_keys")
    with op.batch_alter_table("entity_keys", schema=None) as batch_op:
        batch_op.drop_column("classification")
        batch_op.drop_column("unit_path")
