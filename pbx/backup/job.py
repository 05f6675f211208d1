"""The scheduled backup (daily by default), owned by the composition root. Due
one interval after the newest complete backup; with none yet, one interval
(at most an hour) after start, so a restarting process does not back up on
every start."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from pbx.backup.take import existing, take_backup
from pbx.config import Settings
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

FIRST_AFTER_S = 3600.0


def seconds_until_due(newest: datetime | None, interval_s: float, now: datetime) -> float:
    if newest is None:
        return min(interval_s, FIRST_AFTER_S)
    return max(0.0, interval_s - (now - newest).total_seconds())


class BackupJob:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._tasks = OwnedTasks()

    def start(self) -> None:
        if self.settings.backup_interval_s > 0:
            self._tasks.spawn(self._run(), "backup")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _run(self) -> None:
        taken = await asyncio.to_thread(existing, self.settings.backup_path)
        wait = seconds_until_due(max(taken.values(), default=None), self.settings.backup_interval_s,
                                 datetime.now(timezone.utc))
        while True:
            await asyncio.sleep(wait)
            try:
                path = await asyncio.to_thread(take_backup, self.settings)
                log.info("backup written and verified: %s", path)
            except Exception:
                log.exception("backup failed; trying again in an hour")
                wait = min(self.settings.backup_interval_s, FIRST_AFTER_S)
                continue
            wait = self.settings.backup_interval_s
