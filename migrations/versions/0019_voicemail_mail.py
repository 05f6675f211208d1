"""Voicemail to e-mail: a message is settled (with its duration) once its recording is
complete, and the e-mail it is owed is a row until the server accepts it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('voicemail_messages', sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('voicemail_messages', sa.Column('duration_ms', sa.Integer(), nullable=True))
    # Messages left before this version raise no event and are owed no e-mail.
    op.execute("UPDATE voicemail_messages SET settled_at = created_at")
    op.create_table(
        'voicemail_mails',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('message_id', sa.Integer(), sa.ForeignKey('voicemail_messages.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('message_id', name=op.f('uq_voicemail_mails_message_id')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_voicemail_mails_due', 'voicemail_mails', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_table('voicemail_mails')
    with op.batch_alter_table('voicemail_messages') as batch_op:
        batch_op.drop_column('duration_ms')
        batch_op.drop_column('settled_at')
