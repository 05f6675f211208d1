"""Ring groups.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:23:33.434541
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ring_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('extensions', sa.JSON(), nullable=False),
    sa.Column('strategy', sa.String(length=12), nullable=False),
    sa.Column('ring_seconds', sa.Integer(), nullable=False),
    sa.Column('next_destination', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ring_groups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ring_groups'))
    )
    with op.batch_alter_table('ring_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ring_groups_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ring_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ring_groups_tenant_id'))

    op.drop_table('ring_groups')
