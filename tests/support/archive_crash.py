"""Runs one archive sweep and SIGKILLs itself right after the named step
(pbx.recordings.archive.STEPS), as a kill -9 of the control plane would.

    python -m tests.support.archive_crash DATA_DIR STEP"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from pbx.config import settings_from_env
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.unit import Database
from pbx.recordings.archive import Archiver
from pbx.recordings.flow import archive_store


def _kill_after(step: str):
    def fault(done: str) -> None:
        if done == step:
            os.kill(os.getpid(), signal.SIGKILL)
    return fault


async def main(data_dir: Path, step: str) -> None:
    settings = settings_from_env(env={}, data_dir=data_dir)
    engine = make_engine(settings.effective_database_url)
    database = Database(make_sessionmaker(engine), serialize_writes=True)
    archiver = Archiver(database, archive_store(settings), settings.recording_spool_dir, fault=_kill_after(step))
    await archiver.sweep(None, 0.0, time.time() + 60)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
