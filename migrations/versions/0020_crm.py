"""CRM: each tenant's connection (credentials sealed) and the call activities owed to it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crm_connections',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False,
                  unique=True),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('base_url', sa.String(length=2000), nullable=False),
        sa.Column('credentials', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'crm_call_logs',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('call_id', sa.String(length=32), nullable=False),
        sa.Column('call', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('tenant_id', 'call_id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_crm_call_logs_due', 'crm_call_logs', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_table('crm_call_logs')
    op.drop_table('crm_connections')
