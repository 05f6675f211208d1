"""Tenant recording defaults: record_calls for new extensions, the KVKK notice.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_calls', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('recording_notice', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('recording_notice')
        batch_op.drop_column('record_calls')
