"""Call records built from Asterisk's events.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_legs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uniqueid', sa.String(length=32), nullable=False),
        sa.Column('sequence', sa.BigInteger(), nullable=False),
        sa.Column('linkedid', sa.String(length=32), nullable=False),
        sa.Column('start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answer', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disposition', sa.String(length=12), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=True),
        sa.Column('route', sa.String(length=20), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=True),
        sa.Column('dialled', sa.String(length=32), nullable=True),
        sa.Column('caller', sa.String(length=32), nullable=True),
        sa.Column('callee', sa.String(length=32), nullable=True),
        sa.Column('outcome', sa.String(length=12), nullable=True),
        sa.Column('recording', sa.String(length=40), nullable=True),
        sa.Column('jitter_ms', sa.Float(), nullable=True),
        sa.Column('loss_percent', sa.Float(), nullable=True),
        sa.Column('rtt_ms', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_legs')),
        sa.UniqueConstraint('uniqueid', 'sequence', name=op.f('uq_call_legs_uniqueid')),
    )
    op.create_index(op.f('ix_call_legs_linkedid'), 'call_legs', ['linkedid'], unique=False)
    op.create_table(
        'calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('linkedid', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('caller', sa.String(length=32), nullable=True),
        sa.Column('callee', sa.String(length=32), nullable=True),
        sa.Column('number', sa.String(length=32), nullable=True),
        sa.Column('extension', sa.String(length=32), nullable=True),
        sa.Column('disposition', sa.String(length=10), nullable=False),
        sa.Column('duration_s', sa.Integer(), nullable=False),
        sa.Column('billsec', sa.Integer(), nullable=False),
        sa.Column('wait_s', sa.Integer(), nullable=True),
        sa.Column('recording_file_id', sa.String(length=40), nullable=True),
        sa.Column('jitter_ms', sa.Float(), nullable=True),
        sa.Column('loss_percent', sa.Float(), nullable=True),
        sa.Column('rtt_ms', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_calls_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
        sa.UniqueConstraint('linkedid', name=op.f('uq_calls_linkedid')),
    )
    op.create_index('ix_calls_tenant_started', 'calls', ['tenant_id', 'started_at', 'id'], unique=False)
    op.create_table(
        'cdr_file_state',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('inode', sa.BigInteger(), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cdr_file_state')),
    )


def downgrade() -> None:
    op.drop_table('cdr_file_state')
    op.drop_index('ix_calls_tenant_started', table_name='calls')
    op.drop_table('calls')
    op.drop_index(op.f('ix_call_legs_linkedid'), table_name='call_legs')
    op.drop_table('call_legs')
