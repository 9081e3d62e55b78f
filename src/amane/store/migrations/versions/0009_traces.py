"""trace scans of digital evidence, the selectors they found, known-file hash sets

Revision ID: 0009_traces
Revises: 0008_watch
Create Date: 2026-11-29 13:22:34.487444
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from amane.store.types import JsonData, UTCDateTime

revision = '0009_traces'
down_revision = '0008_watch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('known_hash_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('counts', JsonData, nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_known_hash_sets_created_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_known_hash_sets_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_hash_sets')),
    sa.UniqueConstraint('name', name=op.f('uq_known_hash_sets_name'))
    )
    op.create_table('known_hashes',
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=8), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['known_hash_sets.id'], name=op.f('fk_known_hashes_set_id_known_hash_sets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'algorithm', 'digest', name=op.f('pk_known_hashes'))
    )
    with op.batch_alter_table('known_hashes', schema=None) as batch_op:
        batch_op.create_index('ix_known_hashes_digest', ['algorithm', 'digest'], unique=False)

    op.create_table('trace_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('out_dir', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('bytes_done', sa.BigInteger(), nullable=False),
    sa.Column('counts', JsonData, nullable=False),
    sa.Column('skipped', JsonData, nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('error', sa.String(length=2000), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('findings', JsonData, nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('started_at', UTCDateTime, nullable=True),
    sa.Column('finished_at', UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_trace_scans_created_by_users')),
    sa.ForeignKeyConstraint(['item_id'], ['evidence_items.id'], name=op.f('fk_trace_scans_item_id_evidence_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_scans'))
    )
    with op.batch_alter_table('trace_scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_scans_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_trace_scans_status', ['status', 'id'], unique=False)

    op.create_table('trace_selectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_location', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['trace_scans.id'], name=op.f('fk_trace_selectors_scan_id_trace_scans'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_selectors'))
    )
    with op.batch_alter_table('trace_selectors', schema=None) as batch_op:
        batch_op.create_index('ix_trace_selectors_lookup', ['kind', 'value'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_selectors_scan_id'), ['scan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trace_selectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_selectors_scan_id'))
        batch_op.drop_index('ix_trace_selectors_lookup')

    op.drop_table('trace_selectors')
    with op.batch_alter_table('trace_scans', schema=None) as batch_op:
        batch_op.drop_index('ix_trace_scans_status')
        batch_op.drop_index(batch_op.f('ix_trace_scans_item_id'))

    op.drop_table('trace_scans')
    with op.batch_alter_table('known_hashes', schema=None) as batch_op:
        batch_op.drop_index('ix_known_hashes_digest')

    op.drop_table('known_hashes')
    op.drop_table('known_hash_sets')
