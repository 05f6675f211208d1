"""extension_registrations: which extensions the control plane last saw registered, so that
extension.registered / extension.unregistered are raised once per change, across restarts.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'extension_registrations',
        sa.Column('extension_id', sa.Integer(), sa.ForeignKey('extensions.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('sip_id', sa.String(length=40), nullable=False, unique=True),
        sa.Column('contact', sa.String(length=512), nullable=False),
        sa.Column('node', sa.String(length=80), nullable=False),
        sa.Column('expires_at', TZ, nullable=True),
        sa.Column('since', TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table('extension_registrations')
