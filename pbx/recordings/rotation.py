"""Master key rotation without touching audio: a new master key (the old one
retired, still resolvable), then every row's data key unwrapped with the key
that wrapped it and wrapped again with the new one, a batch per transaction.
Crash-safe at any point: a row holds either wrapping, and both keys are on
disk; running it again finishes the work. Recordings from before data keys
(PBXREC1) cannot be rewrapped: they keep needing their retired key until they expire."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, update

from pbx.db.models import Recording
from pbx.db.unit import Database
from pbx.recordings.keys import ID_BYTES, Keyring

BATCH = 1000


async def rewrap_all(database: Database, keyring: Keyring) -> dict:
    keyring.reload()
    rewrapped, after = 0, 0
    while True:
        async with database.read() as session:
            rows = (await session.execute(select(Recording.id, Recording.wrapped_key).where(
                Recording.wrapped_key.is_not(None), Recording.id > after).order_by(Recording.id).limit(BATCH))).all()
        stale = [{"rid": r.id, "key": keyring.rewrap(r.wrapped_key)} for r in rows
                 if r.wrapped_key[:ID_BYTES] != keyring.current_id]
        if stale:
            async with database.unit() as unit:
                await unit.session.execute(
                    update(Recording.__table__).where(Recording.__table__.c.id == bindparam("rid"))
                    .values(wrapped_key=bindparam("key")), stale)
            rewrapped += len(stale)
        if len(rows) < BATCH:
            break
        after = rows[-1].id
    async with database.read() as session:
        legacy = await session.scalar(select(func.count()).select_from(Recording).where(
            Recording.wrapped_key.is_(None)))
    return {"key_id": keyring.current_id.hex(), "rewrapped": rewrapped, "legacy_on_master_keys": legacy}
