"""One open system fault per trunk and kind: two control planes watching the same trunk (a
cluster on PostgreSQL) that both see it fail open one record, not two (pbx/ops/faults.py).

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

OPEN_SYSTEM = "status = 'open' AND source = 'system'"


def upgrade() -> None:
    op.create_index("uq_faults_open_system", "faults", ["trunk_id", "reason"], unique=True,
                    sqlite_where=sa.text(OPEN_SYSTEM), postgresql_where=sa.text(OPEN_SYSTEM))


def downgrade() -> None:
    op.drop_index("uq_faults_open_system", table_name="faults")
