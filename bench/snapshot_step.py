"""The routing snapshot's cost per write, read whole (as before) and stepped by the rows written.

    PYTHONPATH=. .venv/bin/python bench/snapshot_step.py [--writes 30]

A SQLite database with 10,000 extensions in one tenant, then 100,000 over 100 tenants
(rows written straight into SQLite). Then, --writes times, one extension is created
through a unit of work, and both ways of bringing the snapshot up to date are timed on
the same data, in turn (A B A B ...: a busy machine slows both alike): "whole" reads every
row and rebuilds the changed tenant (what RoutingSnapshots did until 2026-12), "step"
reads back the written rows by primary key (what it does now). Also times the fallback
publisher's work for that write, whole (every astdb entry built and compared) and as
the difference between two snapshots. Each step's result is checked equal to a full build.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import bench_parser
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Extension
from pbx.db.unit import Database
from pbx.routing import fallback
from pbx.services import routing_snapshot
from pbx.services.routing_snapshot import TABLES


def fill(path: Path, tenants: int, per_tenant: int) -> None:
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO tenants (id, name, plan, extra_extensions, international_calls, created_at, "
                       "record_calls, recording_notice) VALUES (?, ?, 'enterprise', 0, 0, '2026-12-01', 0, 1)",
                       ((t, f"T{t}") for t in range(1, tenants + 1)))
        db.executemany("INSERT INTO extensions (tenant_id, number, name, voicemail, record_calls, sip_username, "
                       "created_at) VALUES (?, ?, 'E', 0, 0, ?, '2026-12-01')",
                       ((t, str(10000 + n), f"{10000 + n}-{t:03d}x") for t in range(1, tenants + 1)
                        for n in range(per_tenant)))


def ms(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"median {statistics.median(values) * 1000:7.2f} ms, max {p99 * 1000:7.2f} ms"


async def measure(url: str, writes: int) -> dict:
    engine = make_engine(url)
    database = Database(make_sessionmaker(engine), serialize_writes=True)
    pending = []
    database.subscribe(TABLES, pending.append)
    current = await routing_snapshot.load(database)
    times = {"whole": [], "step": [], "fallback whole": [], "fallback step": []}
    now = datetime.now(timezone.utc)
    for i in range(writes):
        async with database.unit() as unit:
            unit.session.add(Extension(tenant_id=1, number=str(90000 + i), name="N", sip_username=f"b{i}"))
        written = pending.pop()
        runs = [("whole", lambda: routing_snapshot.load(database, current)),
                ("step", lambda: routing_snapshot.refresh(database, current, written))]
        results = {}
        for name, run in runs if i % 2 else reversed(runs):
            started = time.perf_counter()
            results[name] = await run()
            times[name].append(time.perf_counter() - started)
        assert results["step"] == results["whole"]
        before, current = current, results["step"]
        started = time.perf_counter()
        entries_before, entries_after = fallback.entries(before, now), fallback.entries(current, now)
        [k for k, v in entries_after.items() if entries_before.get(k) != v]
        times["fallback whole"].append(time.perf_counter() - started)
        started = time.perf_counter()
        fallback.extension_delta(before, current), fallback.number_entries(current, now)
        times["fallback step"].append(time.perf_counter() - started)
    await engine.dispose()
    return times


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--writes", type=int, default=30)
    args = parser.parse_args()
    print(f"load average before start: {os.getloadavg()}", flush=True)
    for tenants, per_tenant in ((1, 10_000), (100, 1_000)):
        with tempfile.TemporaryDirectory(prefix="pbx-step-") as tmp:
            path = Path(tmp) / "s.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"
            upgrade(url)
            fill(path, tenants, per_tenant)
            times = asyncio.run(measure(url, args.writes))
        print(f"{tenants * per_tenant:,} extensions over {tenants} tenant(s), {args.writes} writes:")
        for name, values in times.items():
            print(f"  {name:<15} {ms(values)}")
    print(f"load average after: {os.getloadavg()} (2 cores, shared with other work)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
