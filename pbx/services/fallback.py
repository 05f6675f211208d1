"""Keeps Asterisk's fallback snapshot current: after every committed change, when
AMI (re)connects, and every minute (schedules change with the clock)."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from pbx.asterisk.ami import Ami
from pbx.db.models import Extension, Number
from pbx.db.unit import Database
from pbx.domain.errors import AsteriskUnavailable
from pbx.routing import fallback
from pbx.services.resolver import decide_destination

log = logging.getLogger(__name__)


async def snapshot(database: Database) -> dict[str, str]:
    entries: dict[str, str] = {}
    async with database.read() as session:
        for ext in await session.scalars(select(Extension)):
            entries |= fallback.extension_entries(ext.tenant_id, ext.number, ext.sip_username)
        for number in await session.scalars(select(Number)):
            if action := fallback.static_action(await decide_destination(session, number)):
                entries[fallback.number_key(number.number)] = action
    return entries


class FallbackPublisher:
    def __init__(self, database: Database, ami: Ami, *, refresh_s: float = 60.0, debounce_s: float = 0.3):
        self.database = database
        self.ami = ami
        self.refresh_s = refresh_s
        self.debounce_s = debounce_s
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def changed(self) -> None:
        self._changed.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fallback-publisher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), self.refresh_s)
            except TimeoutError:
                pass
            await asyncio.sleep(self.debounce_s)  # one publish for a burst of changes
            self._changed.clear()
            await self.publish_once()

    async def publish_once(self) -> None:
        if not self.ami.connected:
            return  # published again on login
        try:
            await self.ami.replace_family(fallback.FAMILY, await snapshot(self.database))
        except AsteriskUnavailable:
            self._changed.set()
        except Exception:
            log.exception("publishing the fallback snapshot failed")
