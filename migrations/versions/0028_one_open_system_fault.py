"""One open system fault per trunk and kind: two control planes watching the same trunk (a
cluster on PostgreSQL) that both see it fail open one record, not two (pbx/ops/faults.py).

Revision ID: 0028
Revises: 0023
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0023'
branch_labels = None
depends_on = None

OPEN_SYSTEM = "status = 'open' AND source = 'system'"


def upgrade() -> None:
    op.create_index("uq_faults_open_system", "faults", ["trunk_id", "reason"], unique=True,
                    sqlite_where=sa.text(OPEN_SYSTEM), postgresql_where=sa.text(OPEN_SYSTEM))


def downgrade() -> None:
    op.drop_index("uq_faults_open_system", table_name="faults")
