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


def test_the_autoincrement_rebuild_keeps_every_row_and_never_hands_out_a_deleted_tenants_id(tmp_path):
    """An existing SQLite database: the rebuild keeps rows and foreign keys, and the next
    tenant id is above every id a deleted tenant left traces under."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url, "0011")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    now = "2026-01-01 00:00:00"
    with engine.begin() as db:
        db.exec_driver_sql("PRAGMA foreign_keys=ON")
        for name in ("a", "b", "c"):
            db.execute(sa.text("INSERT INTO tenants (name, plan, extra_extensions, international_calls, record_calls,"
                               " recording_notice, created_at) VALUES (:n, 'kobi', 0, 0, 0, 1, :t)"),
                       {"n": name, "t": now})
        db.execute(sa.text("INSERT INTO extensions (tenant_id, number, name, voicemail, record_calls, sip_username,"
                           " created_at) VALUES (2, '101', 'x', 0, 0, 'u2', :t)"), {"t": now})
        db.execute(sa.text("INSERT INTO numbers (tenant_id, number, destination, created_at)"
                           " VALUES (2, '+908505550000', '{\"type\": \"hangup\"}', :t)"), {"t": now})
        db.execute(sa.text("INSERT INTO recording_access_log (tenant_id, recording_id, file_id, action, actor, at,"
                           " prev_hash, hash) VALUES (7, 1, 'f', 'read', 'cli', :t, 'a', 'b')"), {"t": now})
        db.exec_driver_sql("DELETE FROM tenants WHERE id = 3")  # deleted before AUTOINCREMENT: 3 was free again
    upgrade(url)
    with engine.begin() as db:
        db.exec_driver_sql("PRAGMA foreign_keys=ON")
        assert db.exec_driver_sql("SELECT count(*) FROM extensions").scalar() == 1
        assert db.exec_driver_sql("SELECT tenant_id, number FROM number_allocations").all() == [(2, "+908505550000")]
        db.execute(sa.text("INSERT INTO tenants (name, plan, extra_extensions, international_calls, record_calls,"
                           " recording_notice, created_at) VALUES ('new', 'kobi', 0, 0, 0, 1, :t)"), {"t": now})
        assert db.exec_driver_sql("SELECT max(id) FROM tenants").scalar() == 8
        db.exec_driver_sql("DELETE FROM tenants WHERE id = 2")
        assert db.exec_driver_sql("SELECT count(*) FROM extensions").scalar() == 0  # cascades still hold
    engine.dispose()


def test_every_table_with_an_integer_id_never_reuses_it(tmp_path):
    """Every table of ours keyed by an integer `id` is AUTOINCREMENT on SQLite after the whole
    history, so a later migration's new table cannot quietly reuse ids (#13)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with engine.connect() as db:
        tables = db.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
        reusing = [name for name, sql in tables
                   if any(c["name"] == "id" and c["pk"] and c["type"].upper() == "INTEGER"
                          for c in db.exec_driver_sql(f'PRAGMA table_info("{name}")').mappings())
                   and "AUTOINCREMENT" not in sql.upper()]
    engine.dispose()
    assert reusing == []


def test_realtime_aors_written_before_0016_get_explicit_values(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}"
    upgrade(url, "0011")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with engine.begin() as connection:  # as 0011's code wrote them: an extension's AOR, a trunk's
        connection.execute(sa.text("INSERT INTO ps_aors (id, max_contacts, remove_existing, default_expiration, "
                                   "minimum_expiration, maximum_expiration) VALUES ('101-x', 1, 'yes', 300, 60, 3600)"))
        connection.execute(sa.text("INSERT INTO ps_aors (id, max_contacts, qualify_frequency, contact) "
                                   "VALUES ('trunk-x', 1, 0, 'sip:127.0.0.1:5070')"))
    upgrade(url, "0016")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM ps_aors ORDER BY id")).mappings().all()
    engine.dispose()
    assert all(value is not None for row in rows for name, value in row.items() if name != "contact")
    assert rows[0]["qualify_frequency"] == 0 and rows[0]["default_expiration"] == 300  # kept
    assert rows[1]["default_expiration"] == 3600 and rows[1]["remove_existing"] == "no"
