"""resolution: review queue, merges, clusters

Revision ID: 0002_resolution
Revises: 0001_core
Create Date: 2026-11-29 07:40:04.954847
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amane.store.types

revision = "0002_resolution"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "resolution_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column(
            "stats", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["started_by"], ["users.id"], name=op.f("fk_resolution_runs_started_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_runs")),
    )
    op.create_table(
        "entity_clusters",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("cluster_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_clusters_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_entity_clusters")),
    )
    with op.batch_alter_table("entity_clusters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_clusters_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "match_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a_id", sa.String(length=32), nullable=False),
        sa.Column("b_id", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column(
            "evidence", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", amane.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["a_id"], ["entities.id"], name=op.f("fk_match_candidates_a_id_entities")),
        sa.ForeignKeyConstraint(["b_id"], ["entities.id"], name=op.f("fk_match_candidates_b_id_entities")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_match_candidates_decided_by_users")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["resolution_runs.id"], name=op.f("fk_match_candidates_run_id_resolution_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_candidates")),
        sa.UniqueConstraint("a_id", "b_id", name="uq_match_candidates_pair"),
    )
    with op.batch_alter_table("match_candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_candidates_b_id"), ["b_id"], unique=False)
        batch_op.create_index("ix_match_candidates_status_prob", ["status", "probability"], unique=False)

    op.create_table(
        "merge_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a_id", sa.String(length=32), nullable=False),
        sa.Column("b_id", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("created_at", amane.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("undone_at", amane.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["a_id"], ["entities.id"], name=op.f("fk_merge_links_a_id_entities")),
        sa.ForeignKeyConstraint(["b_id"], ["entities.id"], name=op.f("fk_merge_links_b_id_entities")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["match_candidates.id"], name=op.f("fk_merge_links_candidate_id_match_candidates")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_merge_links_created_by_users")),
        sa.ForeignKeyConstraint(["undone_by"], ["users.id"], name=op.f("fk_merge_links_undone_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_links")),
    )
    with op.batch_alter_table("merge_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_links_a_id"), ["a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merge_links_b_id"), ["b_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("merge_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_links_b_id"))
        batch_op.drop_index(batch_op.f("ix_merge_links_a_id"))

    op.drop_table("merge_links")
    with op.batch_alter_table("match_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_match_candidates_status_prob")
        batch_op.drop_index(batch_op.f("ix_match_candidates_b_id"))

    op.drop_table("match_candidates")
    with op.batch_alter_table("entity_clusters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_clusters_cluster_id"))

    op.drop_table("entity_clusters")
    op.drop_table("resolution_runs")
