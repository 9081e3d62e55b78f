"""search index: entity_keys (kind, value, entity_id) replaces (kind, value)

Person search and every key look-up read the entity ids of a (kind, value) from the index
alone (no visit of the table's rows) and, capped, in id order.

Revision ID: 0004_search_index
Revises: 0003_procedures
Create Date: 2026-11-29 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004_search_index"
down_revision = "0003_procedures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entity_keys_lookup", "entity_keys", ["kind", "value", "entity_id"], unique=False)
    op.drop_index("ix_entity_keys_kind_value", table_name="entity_keys")


def downgrade() -> None:
    op.create_index("ix_entity_keys_kind_value", "entity_keys", ["kind", "value"], unique=False)
    op.drop_index("ix_entity_keys_lookup", table_name="entity_keys")
