"""Retention purge: N expired recordings (rows with wrapped data keys + small archive
files) destroyed by the retention job: journal appended and fsynced, destruction records
and chained access-log entries written, rows (and with them the data keys) deleted, 1,000
per transaction: from then on unreadable. Then the background removal of their files.
Prints both rates and peak memory. --legacy: rows without data keys (PBXREC1, files
unlinked before the rows go, as before crypto-shredding).

    cd /work/main && PYTHONPATH=. .venv/bin/python bench/purge.py [--count 100000] [--legacy] [--tracemalloc]"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from bench.recordings_common import fresh, peak_rss_mib, report
from pbx.db.models import Recording, RecordingDestruction
from pbx.recordings.keys import new_data_key
from pbx.recordings.retention import purge_expired, remove_pending_files

BATCH = 5000


async def fill(database, store, tenant_id: int, count: int, legacy: bool) -> None:
    """count expired rows, each with a 64-byte file where the archive keeps it."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for first in range(0, count, BATCH):
        rows = []
        for i in range(first, min(count, first + BATCH)):
            started = base + timedelta(minutes=i)
            rows.append({"tenant_id": tenant_id, "file_id": secrets.token_hex(16), "started_at": started,
                         "duration_s": 60, "caller": "101", "callee": "+905321112233", "size_bytes": 64,
                         "sha256": "0" * 64, "expires_at": started + timedelta(days=30), "archived_at": started,
                         "wrapped_key": None if legacy else store.keyring.wrap(new_data_key())})
        await asyncio.to_thread(_files, store, rows)
        async with database.unit() as unit:
            await unit.session.execute(insert(Recording), rows)


def _files(store, rows) -> None:
    for row in rows:
        path = store.path(row["tenant_id"], row["started_at"], row["file_id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 64)


async def main(count: int, legacy: bool, trace: bool) -> None:
    async with fresh() as (_settings, database, store, tenant_id):
        await fill(database, store, tenant_id, count, legacy)
        os.sync()  # archived files are fsynced: unlinking them costs what it costs on disk
        rss_before = peak_rss_mib()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        destroyed = await purge_expired(database, store, datetime(2030, 1, 1, tzinfo=timezone.utc))
        elapsed = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
        started = time.perf_counter()
        removed = await remove_pending_files(database, store)
        removal = time.perf_counter() - started
        async with database.read() as session:
            left = await session.scalar(select(func.count()).select_from(Recording))
            records = await session.scalar(select(func.count()).select_from(RecordingDestruction))
        assert destroyed == count == records and left == 0 and not any(store.root.rglob("*.enc"))
        assert removed == (0 if legacy else count)
        files = "files unlinked before each commit" if legacy else \
            f"then their files removed in the background in {removal:.2f} s: {count / removal:,.0f} files/s"
        report(f"{'legacy (PBXREC1) ' if legacy else 'shredded '}{count} expired recordings in {elapsed:.2f} s: "
               f"{count / elapsed:,.0f} recordings/s; {files}; "
               f"peak RSS {rss_before:.0f} MiB before the purge, {peak_rss_mib():.0f} MiB after"
               + (f"; tracemalloc peak during the purge {traced:.1f} MiB" if trace else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--legacy", action="store_true", help="rows without data keys: files removed first")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.legacy, args.tracemalloc))
