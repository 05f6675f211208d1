"""Ids are never reused (SQLite AUTOINCREMENT); token expiry and last use; number allocations.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Every table whose integer id a tenant or an operator sees. Asterisk's ps_* tables are
# keyed by text ids we make, and cdr_file_state by name: nothing to renumber there.
TABLES = ('tenants', 'api_tokens', 'extensions', 'prompts', 'numbers', 'trunks', 'ivrs', 'schedules',
          'ring_groups', 'voicemail_messages', 'recording_access_log', 'recording_destructions',
          'call_legs', 'calls')
# Rows that name a tenant and outlive it: the next tenant id must be above all of them.
TENANT_TRACES = ('recording_access_log', 'recording_destructions', 'call_legs', 'calls', 'recordings')


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', recreate='never') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'number_allocations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_number_allocations_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_number_allocations')),
        sa.UniqueConstraint('number', name=op.f('uq_number_allocations_number')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_number_allocations_tenant_id'), 'number_allocations', ['tenant_id'])
    # Numbers already routed were, in effect, allocated to their tenant.
    op.execute("INSERT INTO number_allocations (tenant_id, number, created_at) "
               "SELECT tenant_id, number, created_at FROM numbers")
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_autoincrement()


def _sqlite_autoincrement() -> None:
    """Rebuilds each table with AUTOINCREMENT (env.py turns foreign keys off around
    this, as SQLite's table-rebuild recipe says); copying the rows seeds sqlite_sequence."""
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
    bind = op.get_bind()
    highest = max(bind.exec_driver_sql(f"SELECT coalesce(max(tenant_id), 0) FROM {t}").scalar()
                  for t in TENANT_TRACES)
    row = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'tenants'").first()
    if row is None:
        bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('tenants', ?)", (highest,))
    elif row[0] < highest:
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = 'tenants'", (highest,))


def downgrade() -> None:
    # AUTOINCREMENT stays: reusing ids again would be the bug this revision fixes.
    op.drop_index(op.f('ix_number_allocations_tenant_id'), table_name='number_allocations')
    op.drop_table('number_allocations')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('last_used_at')
        batch.drop_column('expires_at')
