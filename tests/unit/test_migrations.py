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


def test_realtime_aors_written_before_0013_get_explicit_values(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}"
    upgrade(url, "0011")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with engine.begin() as connection:  # as 0011's code wrote them: an extension's AOR, a trunk's
        connection.execute(sa.text("INSERT INTO ps_aors (id, max_contacts, remove_existing, default_expiration, "
                                   "minimum_expiration, maximum_expiration) VALUES ('101-x', 1, 'yes', 300, 60, 3600)"))
        connection.execute(sa.text("INSERT INTO ps_aors (id, max_contacts, qualify_frequency, contact) "
                                   "VALUES ('trunk-x', 1, 0, 'sip:127.0.0.1:5070')"))
    upgrade(url, "0013")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM ps_aors ORDER BY id")).mappings().all()
    engine.dispose()
    assert all(value is not None for row in rows for name, value in row.items() if name != "contact")
    assert rows[0]["qualify_frequency"] == 0 and rows[0]["default_expiration"] == 300  # kept
    assert rows[1]["default_expiration"] == 3600 and rows[1]["remove_existing"] == "no"
