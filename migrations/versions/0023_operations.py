"""Service operations: trunks' endpoints and AORs out of the realtime tables (astdb), trunk status, per-call
trunks, faults with history, affected tenants and linked calls, notice contacts, notices and
their attempts.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(column: str, target: str, ondelete: str = "CASCADE", nullable: bool = False, **kw) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, **kw)


def upgrade() -> None:
    # Trunks' endpoints and AORs move to astdb (pbx/asterisk/trunks.py), published from trunks.
    op.execute("DELETE FROM ps_aors WHERE id IN (SELECT sip_id FROM trunks)")
    op.execute("DELETE FROM ps_endpoints WHERE id IN (SELECT sip_id FROM trunks)")
    op.create_table(
        'trunk_status',
        _fk('trunk_id', 'trunks.id', primary_key=True),
        sa.Column('reachable', sa.Boolean(), nullable=False),
        sa.Column('since', TZ, nullable=False),
        sa.Column('rtt_ms', sa.Float(), nullable=True),
    )
    op.create_table(
        'call_trunks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('linkedid', sa.String(length=32), nullable=False),
        _fk('trunk_id', 'trunks.id', index=True),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('dial_status', sa.String(length=16), nullable=False),
        sa.Column('at', TZ, nullable=False),
        sa.UniqueConstraint('linkedid', 'trunk_id', name='uq_call_trunks_linkedid_trunk'),
        sqlite_autoincrement=True,
    )
    _faults()
    _notices()


def _faults() -> None:
    op.create_table(
        'faults',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('priority', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        _fk('tenant_id', 'tenants.id', nullable=True, index=True),
        _fk('trunk_id', 'trunks.id', ondelete='SET NULL', nullable=True, index=True),
        sa.Column('number', sa.String(length=32), nullable=True),
        sa.Column('period_from', TZ, nullable=True),
        sa.Column('period_to', TZ, nullable=True),
        sa.Column('opened_at', TZ, nullable=False),
        sa.Column('respond_by', TZ, nullable=False),
        sa.Column('resolve_by', TZ, nullable=False),
        sa.Column('responded_at', TZ, nullable=True),
        sa.Column('resolved_at', TZ, nullable=True),
        sa.Column('cause', sa.Text(), nullable=True),
        sa.Column('fix', sa.Text(), nullable=True),
        sa.Column('prevention', sa.Text(), nullable=True),
        sa.Column('rfo_due_at', TZ, nullable=True),
        sa.Column('rfo_completed_at', TZ, nullable=True),
        sa.Column('breaches', sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'fault_tenants',
        _fk('fault_id', 'faults.id', primary_key=True),
        _fk('tenant_id', 'tenants.id', primary_key=True, index=True),
    )
    op.create_table(
        'fault_history',
        sa.Column('id', sa.Integer(), primary_key=True),
        _fk('fault_id', 'faults.id', index=True),
        sa.Column('at', TZ, nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('by', sa.String(length=40), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'fault_calls',
        _fk('fault_id', 'faults.id', primary_key=True),
        _fk('call_id', 'calls.id', primary_key=True),
    )


def _notices() -> None:
    op.create_table(
        'notice_contacts',
        sa.Column('id', sa.Integer(), primary_key=True),
        _fk('tenant_id', 'tenants.id', index=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('channels', sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), primary_key=True),
        _fk('fault_id', 'faults.id', index=True),
        sa.Column('event', sa.String(length=10), nullable=False),
        _fk('tenant_id', 'tenants.id', index=True),
        _fk('contact_id', 'notice_contacts.id'),
        sa.Column('channel', sa.String(length=5), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', TZ, nullable=False, index=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.UniqueConstraint('fault_id', 'event', 'contact_id', 'channel', name='uq_notices_once'),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'notice_attempts',
        sa.Column('id', sa.Integer(), primary_key=True),
        _fk('notice_id', 'notices.id', index=True),
        sa.Column('at', TZ, nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ('notice_attempts', 'notices', 'notice_contacts', 'fault_calls', 'fault_history',
                  'fault_tenants', 'faults', 'call_trunks', 'trunk_status'):
        op.drop_table(table)
    # The trunks' AORs back as realtime rows (their endpoints are made again by editing each trunk).
    op.execute("INSERT INTO ps_aors (id, max_contacts, qualify_frequency, remove_existing, default_expiration, "
               "minimum_expiration, maximum_expiration, contact) SELECT sip_id, 1, 0, 'no', 3600, 60, 7200, "
               "'sip:' || host || ':' || port FROM trunks")
