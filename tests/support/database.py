"""A database of a test's own: SQLite under its tmp_path, migrated to head."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.unit import Database

T = TypeVar("T")


def run_on_fresh_database(tmp_path: Path, main: Callable[[Database], Awaitable[T]], name: str = "db.sqlite3") -> T:
    """main(database) in an event loop of its own; the engine is disposed of after. The
    migration runs first, outside the loop (Alembic's env starts its own)."""
    url = f"sqlite+aiosqlite:///{tmp_path / name}"
    upgrade(url)

    async def run() -> T:
        engine = make_engine(url)
        try:
            return await main(Database(make_sessionmaker(engine), serialize_writes=True))
        finally:
            await engine.dispose()

    return asyncio.run(run())
