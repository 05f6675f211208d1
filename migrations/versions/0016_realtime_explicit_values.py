"""Realtime AOR rows carry explicit values: Asterisk logged an error for every NULL it
parsed (qualify_frequency= on each extension's AOR, default_expiration= and the other
expirations on each trunk's), 60,000 lines for a start over 30,000 extensions. The values
are the ones the product now writes (pbx/asterisk/endpoints.py, pbx/asterisk/trunks.py),
which are Asterisk's own defaults, so no AOR behaves differently.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

DEFAULTS = {"qualify_frequency": 0, "max_contacts": 1, "remove_existing": "no", "default_expiration": 3600,
            "minimum_expiration": 60, "maximum_expiration": 7200}


def upgrade() -> None:
    aors = sa.table("ps_aors", *(sa.column(name) for name in DEFAULTS))
    for name, value in DEFAULTS.items():
        op.execute(aors.update().where(aors.c[name].is_(None)).values({name: value}))


def downgrade() -> None:
    pass  # the values are Asterisk's defaults: NULL again would only bring the errors back
