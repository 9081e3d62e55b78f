"""cyber watch: sources, collected items, selectors, watchlist terms, alerts, partner indicators

Revision ID: 0008_watch
Revises: 0007_labs
Create Date: 2026-11-29 13:07:08.826353
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from amane.store.types import JsonData, UTCDateTime

revision = '0008_watch'
down_revision = '0007_labs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('watch_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stix_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('tlp', sa.String(length=16), nullable=True),
    sa.Column('labels', JsonData, nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('created', UTCDateTime, nullable=True),
    sa.Column('imported_at', UTCDateTime, nullable=False),
    sa.Column('imported_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['imported_by'], ['users.id'], name=op.f('fk_watch_indicators_imported_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_watch_indicators_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_indicators')),
    sa.UniqueConstraint('stix_id', 'kind', 'value', name='uq_watch_indicators_key')
    )
    with op.batch_alter_table('watch_indicators', schema=None) as batch_op:
        batch_op.create_index('ix_watch_indicators_lookup', ['kind', 'value'], unique=False)

    op.create_table('watch_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('classification', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_watch_sources_created_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_watch_sources_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_watch_sources_name'))
    )
    with op.batch_alter_table('watch_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_sources_unit_id'), ['unit_id'], unique=False)

    op.create_table('watch_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pattern', sa.String(length=500), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_watch_terms_created_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_watch_terms_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_terms'))
    )
    with op.batch_alter_table('watch_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_terms_unit_id'), ['unit_id'], unique=False)

    op.create_table('watch_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=300), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('media_type', sa.String(length=16), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('author', sa.String(length=300), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published', UTCDateTime, nullable=True),
    sa.Column('collected_at', UTCDateTime, nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=True),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('near_duplicate_of', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('script', sa.String(length=16), nullable=False),
    sa.Column('scores', JsonData, nullable=False),
    sa.Column('top_category', sa.String(length=32), nullable=True),
    sa.Column('top_score', sa.Float(), nullable=False),
    sa.Column('marks', JsonData, nullable=False),
    sa.Column('classification', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('labels', JsonData, nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_watch_items_case_id_cases')),
    sa.ForeignKeyConstraint(['duplicate_of'], ['watch_items.id'], name=op.f('fk_watch_items_duplicate_of_watch_items')),
    sa.ForeignKeyConstraint(['near_duplicate_of'], ['watch_items.id'],
                            name=op.f('fk_watch_items_near_duplicate_of_watch_items')),
    sa.ForeignKeyConstraint(['source_id'], ['watch_sources.id'], name=op.f('fk_watch_items_source_id_watch_sources')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_watch_items_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_items')),
    sa.UniqueConstraint('source_id', 'external_id', name='uq_watch_items_source_external')
    )
    with op.batch_alter_table('watch_items', schema=None) as batch_op:
        batch_op.create_index('ix_watch_items_category', ['top_category', 'collected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_items_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index('ix_watch_items_unit_collected', ['unit_id', 'collected_at'], unique=False)

    op.create_table('watch_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reasons', JsonData, nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('classification', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('triaged_by', sa.Integer(), nullable=True),
    sa.Column('triaged_at', UTCDateTime, nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['watch_items.id'], name=op.f('fk_watch_alerts_item_id_watch_items')),
    sa.ForeignKeyConstraint(['triaged_by'], ['users.id'], name=op.f('fk_watch_alerts_triaged_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_watch_alerts_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_alerts')),
    sa.UniqueConstraint('item_id', name=op.f('uq_watch_alerts_item_id'))
    )
    with op.batch_alter_table('watch_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_watch_alerts_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('watch_selectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['watch_items.id'], name=op.f('fk_watch_selectors_item_id_watch_items'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_selectors'))
    )
    with op.batch_alter_table('watch_selectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_selectors_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_watch_selectors_lookup', ['kind', 'value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('watch_selectors', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_selectors_lookup')
        batch_op.drop_index(batch_op.f('ix_watch_selectors_item_id'))

    op.drop_table('watch_selectors')
    with op.batch_alter_table('watch_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_alerts_unit_status')

    op.drop_table('watch_alerts')
    with op.batch_alter_table('watch_items', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_items_unit_collected')
        batch_op.drop_index(batch_op.f('ix_watch_items_content_hash'))
        batch_op.drop_index('ix_watch_items_category')

    op.drop_table('watch_items')
    with op.batch_alter_table('watch_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_terms_unit_id'))

    op.drop_table('watch_terms')
    with op.batch_alter_table('watch_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_sources_unit_id'))

    op.drop_table('watch_sources')
    with op.batch_alter_table('watch_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_indicators_lookup')

    op.drop_table('watch_indicators')
