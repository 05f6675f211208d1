"""The recordings flow as the composition root sees it: Asterisk events ->
archive -> retention -> removal of shredded files, built from the settings and owned (started,
stopped) here. What wakes the sweeper (a recorded call's `Cdr` event, an AMI login) and the file
remover (a shred) is registered in pbx/app.py."""
from __future__ import annotations

import functools

from pbx.asterisk.ami import Ami
from pbx.asterisk.recordings import active_recordings
from pbx.config import Settings
from pbx.db.unit import Database
from pbx.recordings.archive import Archiver
from pbx.recordings.crypto import load_or_create_key
from pbx.recordings.jobs import ArchiveSweeper, FileRemover, RetentionJob
from pbx.recordings.journal import DestructionJournal
from pbx.recordings.keys import Keyring
from pbx.recordings.service import RecordingService
from pbx.recordings.store import ArchiveStore


def archive_store(settings: Settings) -> ArchiveStore:
    settings.recording_key_path.parent.mkdir(parents=True, exist_ok=True)
    load_or_create_key(settings.recording_key_path)
    return ArchiveStore(settings.recording_archive_dir, Keyring(settings.recording_key_path),
                        DestructionJournal(settings.destruction_journal_path))


class RecordingsFlow:
    def __init__(self, settings: Settings, database: Database, ami: Ami):
        self.store = archive_store(settings)
        settings.recording_spool_dir.mkdir(parents=True, exist_ok=True)
        self.archiver = Archiver(database, self.store, settings.recording_spool_dir)
        self.sweeper = ArchiveSweeper(self.archiver, functools.partial(active_recordings, ami),
                                      settings.recording_sweep_s)
        self.retention = RetentionJob(database, self.store, settings.retention_interval_s)
        self.service = RecordingService(database, self.store)
        self.remover = FileRemover(database, self.store)

    def start(self) -> None:
        self.sweeper.start()  # its first sweep is the start-up sweep
        self.retention.start()
        self.remover.start()  # its first pass finishes removals a crash interrupted

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.retention.stop()
        await self.remover.stop()
