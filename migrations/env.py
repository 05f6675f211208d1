"""Alembic environment: runs on the same async engine the service uses."""
import asyncio

from alembic import context

from pbx.db.base import Base
from pbx.db.engine import make_engine
import pbx.db.models  # noqa: F401  (registers the tables)
import pbx.db.realtime  # noqa: F401

target_metadata = Base.metadata


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite's own recipe for rebuilding a table: with foreign keys on, dropping
        # the old copy of `tenants` would cascade-delete every tenant's rows.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(_migrate)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
existing = context.config.attributes.get("connection")
if existing is not None:
    _migrate(existing)
else:
    asyncio.run(_run())
