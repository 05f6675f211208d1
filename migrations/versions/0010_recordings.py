"""Recordings: archive rows, access log, destruction records.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 14:00:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recordings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.String(length=32), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_s', sa.Integer(), nullable=False),
        sa.Column('caller', sa.String(length=20), nullable=False),
        sa.Column('callee', sa.String(length=20), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recordings_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
        sa.UniqueConstraint('file_id', name=op.f('uq_recordings_file_id')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_recordings_tenant_started', 'recordings', ['tenant_id', 'started_at'])
    op.create_index(op.f('ix_recordings_expires_at'), 'recordings', ['expires_at'])
    op.create_table(
        'recording_access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('recording_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_access_log')),
    )
    op.create_index(op.f('ix_recording_access_log_tenant_id'), 'recording_access_log', ['tenant_id'])
    op.create_index('ix_recording_access_log_tenant_recording', 'recording_access_log',
                    ['tenant_id', 'recording_id'])
    op.create_table(
        'recording_destructions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recording_id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.String(length=32), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_destructions')),
    )
    op.create_index(op.f('ix_recording_destructions_tenant_id'), 'recording_destructions', ['tenant_id'])


def downgrade() -> None:
    op.drop_table('recording_destructions')
    op.drop_table('recording_access_log')
    op.drop_table('recordings')
