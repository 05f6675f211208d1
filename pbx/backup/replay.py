"""After a restore: destructions recorded since the backup are applied again
from the destruction journal (KVKK: a destroyed recording stays destroyed).
Replaying a destruction drops the row and with it the wrapped data key (the
file can no longer be read), removes the file, and writes the destruction
record and access-log entry the restored database lacks, with their original
time, reason and actor. Files with no row (shredded before the backup, their
removal still pending then) are removed too."""
from __future__ import annotations

import asyncio
from itertools import islice

from sqlalchemy import delete, select

from pbx.db.models import Recording, RecordingDestruction
from pbx.db.unit import Database
from pbx.recordings import retention
from pbx.recordings.store import ArchiveStore

BATCH = 1000


async def replay_journal(database: Database, store: ArchiveStore) -> dict:
    entries = store.journal.entries()
    counts = {"journal_entries": 0, "destroyed_again": 0}
    while batch := list(islice(entries, BATCH)):
        counts["journal_entries"] += len(batch)
        counts["destroyed_again"] += await _apply(database, store, batch)
    counts["orphan_files_removed"] = await remove_orphans(database, store)
    await retention.remove_pending_files(database, store)
    return counts


async def _apply(database: Database, store: ArchiveStore, batch: list[dict]) -> int:
    await retention.remove_files(store, [_Row(e) for e in batch])
    file_ids = [e["file_id"] for e in batch]
    async with database.unit() as unit:
        recorded = set(await unit.session.scalars(select(RecordingDestruction.file_id).where(
            RecordingDestruction.file_id.in_(file_ids))))
        alive = set(await unit.session.scalars(select(Recording.file_id).where(Recording.file_id.in_(file_ids))))
        missing = {e["file_id"]: {**e, "file_pending": False} for e in batch if e["file_id"] not in recorded}
        if missing:
            await retention.record_destruction(unit.session, list(missing.values()))
        await unit.session.execute(delete(Recording).where(Recording.file_id.in_(alive)))
    return len(alive)


async def remove_orphans(database: Database, store: ArchiveStore) -> int:
    async with database.read() as session:
        known = set(await session.scalars(select(Recording.file_id)))
    return await asyncio.to_thread(_remove_orphans, store, known)


def _remove_orphans(store: ArchiveStore, known: set[str]) -> int:
    removed = 0
    for path in store.root.rglob("*.wav.enc"):
        if path.name.removesuffix(".wav.enc") not in known:
            store.remove(path)
            removed += 1
    return removed


class _Row:
    def __init__(self, entry: dict):
        self.tenant_id, self.started_at, self.file_id = entry["tenant_id"], entry["started_at"], entry["file_id"]
