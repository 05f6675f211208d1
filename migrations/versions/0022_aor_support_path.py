"""ps_aors.support_path: a phone's registration keeps the Path its proxy (the cluster's Kamailio)
added, and Asterisk sends requests to the phone back along it (pbx/cluster/).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing AOR gets the value too: Asterisk logs an error for each NULL it parses.
    with op.batch_alter_table('ps_aors') as batch:
        batch.add_column(sa.Column('support_path', sa.String(length=3), nullable=False, server_default='yes'))


def downgrade() -> None:
    with op.batch_alter_table('ps_aors') as batch:
        batch.drop_column('support_path')
