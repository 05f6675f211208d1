"""Destroying recordings: retention expiry, deletion, erasure, plan changes,
tenant deletion all go through destroy(). A recording archived with its own data
key (PBXREC2) is destroyed by deleting its row, which holds the only copy of that
key (wrapped): the file is unreadable from the commit on, and removed afterwards
in the background (remove_pending_files; pending until then in its destruction
record). An older recording encrypted with the master key directly (PBXREC1,
wrapped_key NULL) still has its file removed first, as before. Every destruction
is written to the destruction journal (fsynced) before it commits, and in the
transaction a destruction record and an access-log entry replace each row."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Recording, RecordingDestruction
from pbx.db.unit import Database, Unit
from pbx.domain.plans import Plan
from pbx.recordings import access_log
from pbx.recordings.store import ArchiveStore

log = logging.getLogger(__name__)

BATCH = 1000
UNLINK_THREADS = 8
REASONS = ("retention", "deleted", "erasure", "plan_change", "tenant_deleted")
_COLUMNS = (Recording.id, Recording.tenant_id, Recording.file_id, Recording.started_at, Recording.sha256,
            Recording.size_bytes, Recording.expires_at, Recording.wrapped_key.is_(None).label("legacy"))


def expiry_after_plan_change(started_at: datetime, expires_at: datetime, plan: Plan,
                             now: datetime) -> datetime:
    """A plan change never lengthens a recording's life, and never leaves it
    longer than the new plan keeps recordings (no recording at all: now)."""
    if plan.recording_retention_days is None:
        return min(expires_at, now)
    return min(expires_at, started_at + timedelta(days=plan.recording_retention_days))


def select_rows():
    return select(*_COLUMNS)


async def destroy(unit: Unit, store: ArchiveStore, rows: list, reason: str, actor: str,
                  now: datetime) -> int:
    """Legacy files first; then journal; then, in the caller's transaction, rows +
    destruction records + log. Shredded files are removed once it commits."""
    assert reason in REASONS
    if not rows:
        return 0
    await remove_files(store, [r for r in rows if r.legacy])
    records = [{"recording_id": r.id, "tenant_id": r.tenant_id, "file_id": r.file_id, "sha256": r.sha256,
                "size_bytes": r.size_bytes, "started_at": r.started_at, "destroyed_at": now, "reason": reason,
                "actor": actor, "file_pending": not r.legacy} for r in rows]
    # The journal is fsynced while the statements run; the caller commits only after both.
    journal = asyncio.ensure_future(asyncio.to_thread(store.journal.append, records))
    try:
        await record_destruction(unit.session, records)
        await unit.session.execute(delete(Recording.__table__).where(
            Recording.__table__.c.id.in_([r.id for r in rows])))
    finally:
        await journal
    if any(r["file_pending"] for r in records):
        unit.after_commit(store.shredded)
    return len(rows)


async def remove_files(store: ArchiveStore, rows: list) -> None:
    paths = [store.path(r.tenant_id, r.started_at, r.file_id) for r in rows]
    if paths:
        await asyncio.to_thread(_remove_all, store, paths)


async def record_destruction(session: AsyncSession, records: list[dict]) -> None:
    """Destruction records and access-log entries (chained per tenant)."""
    await session.execute(insert(RecordingDestruction.__table__), records)
    by_tenant = defaultdict(list)
    for r in records:
        by_tenant[r["tenant_id"]].append(access_log.Entry(
            r["tenant_id"], r["recording_id"], r["file_id"], r["reason"], r["actor"], r["destroyed_at"]))
    for entries in by_tenant.values():
        await access_log.append(session, entries)


def _remove_all(store: ArchiveStore, paths) -> None:
    # Unlinking a file whose blocks are on disk waits on the file system's journal
    # (~0.3 ms here); several in flight overlap those waits (3-4x faster).
    with ThreadPoolExecutor(UNLINK_THREADS) as pool:
        for _ in pool.map(store.remove, paths, chunksize=32):
            pass


async def remove_pending_files(database: Database, store: ArchiveStore) -> int:
    """Removes the files of shredded recordings (already unreadable), a batch at a
    time, and marks their destruction records done; returns how many. Safe to
    repeat: a crash leaves some pending, whose files the next run unlinks again."""
    total = 0
    pending = RecordingDestruction.file_pending
    while True:
        async with database.read() as session:
            rows = (await session.execute(select(
                RecordingDestruction.id, RecordingDestruction.tenant_id, RecordingDestruction.started_at,
                RecordingDestruction.file_id).where(pending).order_by(RecordingDestruction.id).limit(BATCH))).all()
        if not rows:
            if total:
                await _checkpoint(database)
            return total
        await remove_files(store, rows)
        async with database.unit() as unit:
            await unit.session.execute(update(RecordingDestruction).where(
                RecordingDestruction.id.in_([r.id for r in rows])).values(file_pending=False))
        total += len(rows)


async def _checkpoint(database: Database) -> None:
    """SQLite: old page images (wrapped keys of shredded rows among them) stay in the
    WAL until a checkpoint; one that truncates it leaves them nowhere."""
    async with database.read() as session:
        if session.bind.dialect.name == "sqlite":
            busy, _, _ = (await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
            if busy:
                log.warning("WAL checkpoint after shredding was blocked by a reader; the next one retries")


async def purge_expired(database: Database, store: ArchiveStore, now: datetime, *, tenant_id: int | None = None,
                        reason: str = "retention", actor: str = "system") -> int:
    """Destroys everything expired at `now`, a batch per transaction (memory and
    lock time do not grow with the count). The next batch is read while this one
    commits (keyset after its last row: what this one destroys is not in it)."""
    total, batch = 0, await _expired_batch(database, now, tenant_id, None)
    while batch:
        following = asyncio.ensure_future(_expired_batch(database, now, tenant_id, batch[-1])
                                          if len(batch) == BATCH else _nothing())
        try:
            async with database.unit() as unit:
                total += await destroy(unit, store, batch, reason, actor, now)
        except BaseException:
            following.cancel()
            raise
        batch = await following
    return total


async def _nothing() -> list:
    return []


async def _expired_batch(database: Database, now: datetime, tenant_id: int | None, after) -> list:
    """The next BATCH expired rows in (expires_at, id) order, after `after` (keyset:
    the index walks straight to them; ORDER BY id alone would sort them all)."""
    query = select_rows().where(Recording.expires_at <= now)
    if tenant_id is not None:
        query = query.where(Recording.tenant_id == tenant_id)
    if after is not None:
        query = query.where(tuple_(Recording.expires_at, Recording.id) > tuple_(after.expires_at, after.id))
    async with database.read() as session:
        return (await session.execute(query.order_by(Recording.expires_at, Recording.id).limit(BATCH))).all()


async def shorten_for_plan(session: AsyncSession, tenant_id: int, plan: Plan, now: datetime) -> None:
    """Applies expiry_after_plan_change to every recording of the tenant, in batches."""
    after = 0
    while True:
        rows = (await session.execute(select(Recording.id, Recording.started_at, Recording.expires_at).where(
            Recording.tenant_id == tenant_id, Recording.id > after).order_by(Recording.id).limit(BATCH))).all()
        for r in rows:
            new = expiry_after_plan_change(r.started_at, r.expires_at, plan, now)
            if new != r.expires_at:
                await session.execute(update(Recording).where(Recording.id == r.id).values(expires_at=new))
        if len(rows) < BATCH:
            return
        after = rows[-1].id


async def destroy_tenant(unit: Unit, store: ArchiveStore, tenant_id: int, actor: str, now: datetime) -> int:
    """Every recording of a tenant that is being deleted, in the deleting transaction."""
    total = 0
    while True:
        rows = (await unit.session.execute(select_rows().where(Recording.tenant_id == tenant_id)
                                           .order_by(Recording.id).limit(BATCH))).all()
        total += await destroy(unit, store, rows, "tenant_deleted", actor, now)
        if len(rows) < BATCH:
            return total
