"""store_meta: the version of the names engine's keys that the key index was built with

Every key stored before this revision was computed by keys version 1 (the only one there was), so
the row starts at 1; ``amane db rekey`` moves it to the running code's version.

Revision ID: 0011_store_meta
Revises: 0010_search_scope
Create Date: 2026-11-30 01:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_store_meta"
down_revision = "0010_search_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "store_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_meta")),
    )
    op.bulk_insert(meta, [{"name": "keys_version", "value": "1"}])


def downgrade() -> None:
    op.drop_table("store_meta")
