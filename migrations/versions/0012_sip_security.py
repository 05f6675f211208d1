"""SIP brute-force bans (kept across restarts), their allowlist, and per-tenant toll-fraud limits.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sip_bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('banned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sip_bans')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_sip_bans_address', 'sip_bans', ['address'])
    op.create_table(
        'sip_ban_allowlist',
        sa.Column('network', sa.String(length=49), nullable=False),
        sa.PrimaryKeyConstraint('network', name=op.f('pk_sip_ban_allowlist')),
    )
    # SRTP (SDES) where the phone offers it, plain RTP where it does not: every extension.
    with op.batch_alter_table('ps_endpoints') as batch:
        batch.add_column(sa.Column('media_encryption', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('media_encryption_optimistic', sa.String(length=3), nullable=True))
    # No pinned transport: a phone registered over TLS is called over TLS.
    op.execute("UPDATE ps_endpoints SET media_encryption = 'sdes', media_encryption_optimistic = 'yes', "
               "transport = NULL WHERE context = 'pbx-internal'")
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('max_concurrent_calls', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('max_international_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('max_call_attempts_per_minute', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('max_call_attempts_per_minute')
        batch.drop_column('max_international_minutes')
        batch.drop_column('max_concurrent_calls')
    with op.batch_alter_table('ps_endpoints') as batch:
        batch.drop_column('media_encryption_optimistic')
        batch.drop_column('media_encryption')
    op.drop_table('sip_ban_allowlist')
    op.drop_index('ix_sip_bans_address', table_name='sip_bans')
    op.drop_table('sip_bans')
