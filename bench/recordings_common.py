"""What bench/archive.py and bench/purge.py share: a fresh SQLite database with the
schema, the archive store, and one tenant; the machine line; peak memory."""
from __future__ import annotations

import asyncio
import os
import platform
import resource
import shutil
import sqlite3
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from pbx.config import settings_from_env
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.recordings.flow import archive_store


@asynccontextmanager
async def fresh(plan: str = "kobi"):
    """(settings, database, store, tenant_id) in a temporary folder, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="pbx-bench-rec-"))
    settings = settings_from_env(env={}, data_dir=tmp / "var")
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        async with database.unit() as unit:
            tenant = Tenant(name="Bench", plan=plan)
            unit.session.add(tenant)
            await unit.session.flush()
            tenant_id = tenant.id
        yield settings, database, archive_store(settings), tenant_id
    finally:
        await engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def machine_line() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {mem / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, load average {load}")


def report(line: str) -> None:
    print(f"machine: {machine_line()}")
    print(line)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
