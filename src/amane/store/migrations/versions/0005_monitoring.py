"""crime monitoring: incident_facts (analytic projection of Incident records) and crime_alerts

The facts of the Incident records already stored are written by this migration, so that
statistics cover them from the first start.

Revision ID: 0005_monitoring
Revises: 0004_search_index
Create Date: 2026-11-29 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from amane.store.types import JsonData, UTCDateTime

revision = "0005_monitoring"
down_revision = "0004_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_facts",
        sa.Column("entity_id", sa.String(32), sa.ForeignKey("entities.id", ondelete="CASCADE",
                                                           name="fk_incident_facts_entity_id_entities"),
                  nullable=False),
        sa.Column("owner_unit_id", sa.Integer, sa.ForeignKey("units.id", name="fk_incident_facts_owner_unit_id_units"),
                  nullable=False),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("category_group", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("region", sa.String(8)),
        sa.Column("commune", sa.String(24)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.PrimaryKeyConstraint("entity_id", name="pk_incident_facts"),
    )
    op.create_index("ix_incident_facts_unit_time", "incident_facts", ["owner_unit_id", "occurred_at"])
    op.create_index("ix_incident_facts_time", "incident_facts", ["occurred_at"])
    op.create_table(
        "crime_alerts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id", name="fk_crime_alerts_unit_id_units"),
                  nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("period_start", UTCDateTime, nullable=False),
        sa.Column("period_end", UTCDateTime, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("observed", sa.Integer, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("p_value", sa.Float),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("chart", JsonData, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crime_alerts"),
        sa.UniqueConstraint("unit_id", "category", "period_start", "method", name="uq_crime_alerts_key"),
    )
    op.create_index("ix_crime_alerts_unit_id", "crime_alerts", ["unit_id"])
    from amane.services.facts import rebuild_facts

    rebuild_facts(op.get_bind())


def downgrade() -> None:
    op.drop_table("crime_alerts")
    op.drop_table("incident_facts")
