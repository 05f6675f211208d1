"""Voicemail messages.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:34:17.809851
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voicemail_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.String(length=40), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_voicemail_messages_extension_id_extensions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_voicemail_messages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voicemail_messages')),
    sa.UniqueConstraint('file_id', name=op.f('uq_voicemail_messages_file_id'))
    )
    with op.batch_alter_table('voicemail_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voicemail_messages_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voicemail_messages_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voicemail_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voicemail_messages_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_voicemail_messages_extension_id'))

    op.drop_table('voicemail_messages')
