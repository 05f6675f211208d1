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

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from pbx.db.unit import Database
from pbx.recordings.archive import Archiver
from pbx.recordings.retention import purge_expired, remove_pending_files
from pbx.recordings.store import ArchiveStore
from pbx.tasks import Clock, WakeableLoop

log = logging.getLogger(__name__)

SETTLE_S = 2.0
QUIET_S = 120.0


class ArchiveSweeper:
    def __init__(self, archiver: Archiver, active: Callable[[], Awaitable[set[str] | None]], interval_s: float,
                 *, clock: Clock | None = None):
        self.archiver = archiver
        self.active = active
        # After a poke, SETTLE_S and a little: the file is then old enough to be finished.
        self._loop = WakeableLoop("recording-archive", self.sweep_once, interval_s=interval_s,
                                  debounce_s=SETTLE_S + 0.5, run_at_start=True, clock=clock)

    def poke(self) -> None:
        """A recorded call's CDR came: its recording may have finished."""
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()  # its first sweep is the start-up sweep

    async def stop(self) -> None:
        await self._loop.stop()

    async def sweep_once(self) -> int:
        files, now = await self.archiver.listing(), time.time()
        if not any(now - f.mtime >= SETTLE_S for f in files):
            return 0  # nothing that could be finished: no need to ask Asterisk what is live
        active = await self.active()
        quiet = SETTLE_S if active is not None else QUIET_S
        return await self.archiver.sweep(active, quiet, now, files)


class RetentionJob:
    def __init__(self, database: Database, store: ArchiveStore, interval_s: float):
        self.database = database
        self.store = store
        self._loop = WakeableLoop("recording-retention", self.purge_once, interval_s=interval_s,
                                  run_at_start=True)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def purge_once(self) -> None:
        count = await purge_expired(self.database, self.store, datetime.now(timezone.utc))
        if count:
            log.info("retention: destroyed %d expired recordings", count)


class FileRemover:
    """Removes the files of shredded recordings (already unreadable: their keys
    went with their rows) after each destruction commits, and every interval."""

    def __init__(self, database: Database, store: ArchiveStore, interval_s: float = 300.0):
        self.database = database
        self.store = store
        self._loop = WakeableLoop("recording-file-removal", self.remove_once, interval_s=interval_s,
                                  run_at_start=True)

    def poke(self) -> None:
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def remove_once(self) -> None:
        await remove_pending_files(self.database, self.store)
