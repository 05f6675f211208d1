"""Billing: terms per tenant, monthly usage, international rates, resellers, invoices.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resellers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('discount_percent', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'reseller_tokens',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('reseller_id', sa.Integer(), sa.ForeignKey('resellers.id', ondelete='CASCADE'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_reseller_tokens_reseller_id', 'reseller_tokens', ['reseller_id'])
    op.create_table(
        'billing_accounts',
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('circuit_pricing', sa.Boolean(), nullable=False),
        sa.Column('enterprise_monthly', sa.String(length=20), nullable=True),
        sa.Column('trial_ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('trial_converted', sa.Boolean(), nullable=False),
        sa.Column('pending_plan', sa.String(length=20), nullable=True),
        sa.Column('billing_email', sa.String(length=254), nullable=True),
        sa.Column('reminders_sent', sa.JSON(), nullable=False),
        sa.Column('term_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reseller_id', sa.Integer(), sa.ForeignKey('resellers.id', ondelete='RESTRICT'), nullable=True),
    )
    op.create_index('ix_billing_accounts_reseller_id', 'billing_accounts', ['reseller_id'])
    op.create_table(
        'billing_usage',
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('month', sa.String(length=7), primary_key=True),
        sa.Column('max_circuits', sa.Integer(), nullable=False),
        sa.Column('max_extra_extensions', sa.Integer(), nullable=False),
    )
    op.create_table(
        'billing_charges',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('amount', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_billing_charges_tenant_id', 'billing_charges', ['tenant_id'])
    op.create_table(
        'international_rates',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('prefix', sa.String(length=15), nullable=False, unique=True),
        sa.Column('destination', sa.String(length=100), nullable=False),
        sa.Column('per_minute', sa.String(length=20), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'invoices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('invoice_key', sa.String(length=24), nullable=True, unique=True),
        sa.Column('corrects_id', sa.Integer(), sa.ForeignKey('invoices.id', ondelete='RESTRICT'), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('subtotal', sa.String(length=20), nullable=False),
        sa.Column('kdv', sa.String(length=20), nullable=False),
        sa.Column('total', sa.String(length=20), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_invoices_tenant_id', 'invoices', ['tenant_id'])
    op.create_table(
        'number_pool',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('number', sa.String(length=16), nullable=False, unique=True),
        sa.Column('area', sa.String(length=4), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_number_pool_area', 'number_pool', ['area'])
    op.create_table(
        'porting_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('number', sa.String(length=16), nullable=False),
        sa.Column('current_operator', sa.String(length=100), nullable=False),
        sa.Column('destination', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('expected_date', sa.Date(), nullable=False),
        sa.Column('document_name', sa.String(length=100), nullable=True),
        sa.Column('document_type', sa.String(length=40), nullable=True),
        sa.Column('document_sha256', sa.String(length=64), nullable=True),
        sa.Column('document_size', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_porting_requests_tenant_id', 'porting_requests', ['tenant_id'])
    # A plain ADD COLUMN: a batch rebuild of tenants would drop its AUTOINCREMENT high-water mark.
    op.add_column('tenants', sa.Column('suspended', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('suspended')
    op.drop_index('ix_porting_requests_tenant_id', 'porting_requests')
    op.drop_table('porting_requests')
    op.drop_index('ix_number_pool_area', 'number_pool')
    op.drop_table('number_pool')
    op.drop_table('invoices')
    op.drop_table('international_rates')
    op.drop_index('ix_billing_charges_tenant_id', 'billing_charges')
    op.drop_table('billing_charges')
    op.drop_table('billing_usage')
    op.drop_index('ix_billing_accounts_reseller_id', 'billing_accounts')
    op.drop_table('billing_accounts')
    op.drop_index('ix_reseller_tokens_reseller_id', 'reseller_tokens')
    op.drop_table('reseller_tokens')
    op.drop_table('resellers')
