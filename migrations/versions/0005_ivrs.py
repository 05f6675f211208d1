"""IVR menus.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:14:40.832392
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ivrs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('greeting_prompt_id', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('timeout_destination', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['greeting_prompt_id'], ['prompts.id'], name=op.f('fk_ivrs_greeting_prompt_id_prompts')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ivrs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivrs'))
    )
    with op.batch_alter_table('ivrs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivrs_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ivrs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivrs_tenant_id'))

    op.drop_table('ivrs')
