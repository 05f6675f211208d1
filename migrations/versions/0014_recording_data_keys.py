"""Recordings: a wrapped data key per recording (crypto-shredding), and the
destruction records whose files still await background removal.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('recordings', sa.Column('wrapped_key', sa.LargeBinary(length=64), nullable=True))
    op.add_column('recording_destructions', sa.Column('file_pending', sa.Boolean(), nullable=False,
                                                      server_default=sa.false()))
    op.create_index('ix_recording_destructions_file_pending', 'recording_destructions', ['file_pending'],
                    sqlite_where=sa.text('file_pending'), postgresql_where=sa.text('file_pending'))


def downgrade() -> None:
    op.drop_index('ix_recording_destructions_file_pending', table_name='recording_destructions')
    with op.batch_alter_table('recording_destructions') as batch:
        batch.drop_column('file_pending')
    with op.batch_alter_table('recordings') as batch:
        batch.drop_column('wrapped_key')
