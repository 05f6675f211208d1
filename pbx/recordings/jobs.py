"""The two background jobs of the recordings flow, each an owned task that the
composition root starts and stops.

Finished rule (the archive sweep): a spool file is archived when no live channel
has it as its PBX_RECORDING (AMI Status) and it has not changed for SETTLE_S
seconds (MixMonitor's writer thread closes the file just after the channel is
gone). Without AMI, Asterisk may be gone or alive: a file untouched for QUIET_S
is finished either way (a live MixMonitor writes every 20 ms while bridged).
Sweeps run at start-up, SETTLE_S after the `Cdr` event of a recorded call, and
every interval regardless (events can be lost while AMI reconnects)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from pbx.db.unit import Database
from pbx.recordings.archive import Archiver
from pbx.recordings.retention import purge_expired, remove_pending_files
from pbx.recordings.store import ArchiveStore
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

SETTLE_S = 2.0
QUIET_S = 120.0


class ArchiveSweeper:
    def __init__(self, archiver: Archiver, active: Callable[[], Awaitable[set[str] | None]], interval_s: float):
        self.archiver = archiver
        self.active = active
        self.interval_s = interval_s
        self._wake = asyncio.Event()
        self._tasks = OwnedTasks()

    def poke(self) -> None:
        """A recorded call's CDR came: its recording may have finished."""
        self._wake.set()

    def start(self) -> None:
        self._tasks.spawn(self._run(), "recording-archive")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def sweep_once(self) -> int:
        files, now = await self.archiver.listing(), time.time()
        if not any(now - f.mtime >= SETTLE_S for f in files):
            return 0  # nothing that could be finished: no need to ask Asterisk what is live
        active = await self.active()
        quiet = SETTLE_S if active is not None else QUIET_S
        return await self.archiver.sweep(active, quiet, now, files)

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:
                log.exception("recording sweep failed; retrying on the next one")
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
                await asyncio.sleep(SETTLE_S + 0.5)
            except TimeoutError:
                pass
            self._wake.clear()


class RetentionJob:
    def __init__(self, database: Database, store: ArchiveStore, interval_s: float):
        self.database = database
        self.store = store
        self.interval_s = interval_s
        self._tasks = OwnedTasks()

    def start(self) -> None:
        self._tasks.spawn(self._run(), "recording-retention")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _run(self) -> None:
        while True:
            try:
                count = await purge_expired(self.database, self.store, datetime.now(timezone.utc))
                if count:
                    log.info("retention: destroyed %d expired recordings", count)
            except Exception:
                log.exception("retention run failed; retrying on the next one")
            await asyncio.sleep(self.interval_s)


class FileRemover:
    """Removes the files of shredded recordings (already unreadable: their keys
    went with their rows) after each destruction commits, and every interval."""

    def __init__(self, database: Database, store: ArchiveStore, interval_s: float = 300.0):
        self.database = database
        self.store = store
        self.interval_s = interval_s
        self._wake = asyncio.Event()
        self._tasks = OwnedTasks()

    def poke(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._tasks.spawn(self._run(), "recording-file-removal")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await remove_pending_files(self.database, self.store)
            except Exception:
                log.exception("removing shredded recording files failed; retrying on the next run")
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            except TimeoutError:
                pass
