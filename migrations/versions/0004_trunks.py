"""Trunks (carriers) and the PJSIP realtime tables that make them live: static AOR contacts, identify-by-address.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:09:32.289210
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ps_endpoint_id_ips',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('endpoint', sa.String(length=40), nullable=True),
    sa.Column('match', sa.String(length=1024), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ps_endpoint_id_ips'))
    )
    op.create_table('trunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('match', sa.JSON(), nullable=False),
    sa.Column('default_outbound', sa.Boolean(), nullable=False),
    sa.Column('sip_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunks')),
    sa.UniqueConstraint('sip_id', name=op.f('uq_trunks_sip_id'))
    )
    with op.batch_alter_table('ps_aors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact', sa.String(length=255), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ps_aors', schema=None) as batch_op:
        batch_op.drop_column('contact')

    op.drop_table('trunks')
    op.drop_table('ps_endpoint_id_ips')
