"""The Alembic history builds exactly the tables the models describe."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pbx.db.models  # noqa: F401  (registers the tables)
import pbx.db.realtime  # noqa: F401
from pbx.db.base import Base
from pbx.db.migrate import upgrade


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
