"""Test fixture, not product behaviour: a finished call and its recording moved back in time, so a
test can look up "yesterday's call" that the real Asterisk recorded a moment ago."""
from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.engine import make_engine
from pbx.db.models import Call, Recording
from pbx.recordings.store import ArchiveStore

DAY = timedelta(days=1)


def date_back_one_day(stack, call_id: int) -> None:
    """The call record and its recording move to the same wall-clock time one day earlier
    (Istanbul has no DST, so that is yesterday there), and the encrypted archive file to the
    folder its new start date names (pbx/recordings/store.py), once the rows are committed.
    Everything else about them is what the real Asterisk recorded."""
    async def run():
        engine = make_engine(stack.settings.effective_database_url)
        store = ArchiveStore(stack.settings.recording_archive_dir, None, None)
        try:
            async with AsyncSession(engine) as session, session.begin():
                call = await session.get(Call, call_id)
                recording = await session.scalar(select(Recording).where(
                    Recording.tenant_id == call.tenant_id, Recording.file_id == call.recording_file_id))
                was = store.path(recording.tenant_id, recording.started_at, recording.file_id)
                for row, fields in ((call, ("started_at", "answered_at", "ended_at")), (recording, ("started_at", "expires_at"))):
                    for name in fields:
                        setattr(row, name, getattr(row, name) - DAY)
                moved = store.path(recording.tenant_id, recording.started_at, recording.file_id)
            moved.parent.mkdir(parents=True, exist_ok=True)
            os.replace(was, moved)
        finally:
            await engine.dispose()

    asyncio.run(run())
