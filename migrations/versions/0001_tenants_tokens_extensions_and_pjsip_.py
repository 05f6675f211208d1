"""Tenants, tokens, extensions, and the PJSIP realtime tables Asterisk reads (ps_*).

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:36:46.173952
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ps_aors',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('max_contacts', sa.Integer(), nullable=True),
    sa.Column('remove_existing', sa.String(length=3), nullable=True),
    sa.Column('default_expiration', sa.Integer(), nullable=True),
    sa.Column('maximum_expiration', sa.Integer(), nullable=True),
    sa.Column('minimum_expiration', sa.Integer(), nullable=True),
    sa.Column('qualify_frequency', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ps_aors'))
    )
    op.create_table('ps_auths',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('auth_type', sa.String(length=10), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=True),
    sa.Column('password', sa.String(length=80), nullable=True),
    sa.Column('md5_cred', sa.String(length=40), nullable=True),
    sa.Column('realm', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ps_auths'))
    )
    op.create_table('ps_endpoints',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('transport', sa.String(length=40), nullable=True),
    sa.Column('aors', sa.String(length=200), nullable=True),
    sa.Column('auth', sa.String(length=40), nullable=True),
    sa.Column('context', sa.String(length=40), nullable=True),
    sa.Column('disallow', sa.String(length=200), nullable=True),
    sa.Column('allow', sa.String(length=200), nullable=True),
    sa.Column('direct_media', sa.String(length=3), nullable=True),
    sa.Column('dtmf_mode', sa.String(length=10), nullable=True),
    sa.Column('callerid', sa.String(length=255), nullable=True),
    sa.Column('rtp_symmetric', sa.String(length=3), nullable=True),
    sa.Column('force_rport', sa.String(length=3), nullable=True),
    sa.Column('rewrite_contact', sa.String(length=3), nullable=True),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ps_endpoints'))
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('plan', sa.String(length=20), nullable=False),
    sa.Column('extra_extensions', sa.Integer(), nullable=False),
    sa.Column('international_calls', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('voicemail', sa.Boolean(), nullable=False),
    sa.Column('record_calls', sa.Boolean(), nullable=False),
    sa.Column('sip_username', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_extensions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extensions')),
    sa.UniqueConstraint('sip_username', name=op.f('uq_extensions_sip_username')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_extensions_tenant_id'))
    )
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extensions_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extensions_tenant_id'))

    op.drop_table('extensions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_tenant_id'))

    op.drop_table('api_tokens')
    op.drop_table('tenants')
    op.drop_table('ps_endpoints')
    op.drop_table('ps_auths')
    op.drop_table('ps_aors')
