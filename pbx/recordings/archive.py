"""Moves finished recordings from Asterisk's spool into the encrypted archive.

For one spool file, in this order, each step safe to repeat:
  1. repair the WAV header from the file size (a killed Asterisk leaves it unset);
  2. if a row with this file_id exists and its SHA-256 is the spool file's, the
     earlier run got as far as step 5: just remove the spool file (after
     re-encrypting it with the row's data key, should a concurrent run have
     replaced the file with a copy under another key);
  3. encrypt with a new data key to <archive>/<tenant>/<yyyy>/<mm>/<dd>/<file_id>.wav.enc
     through a temporary file, fsync, rename (the same path on every run);
  4. decrypt what was written and compare size and SHA-256 with the spool file;
  5. write the row with the wrapped data key (file_id is unique: a second writer
     cannot make a duplicate);
  6. only now remove the spool file.
A kill between any two steps leaves the spool file in place, and the next sweep
starts again at step 1 and converges on the same single row and file."""
from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx.db.models import Recording, RecordingDestruction, Tenant
from pbx.db.unit import Database
from pbx.domain.plans import PLANS
from pbx.domain.recording import SpoolName, parse_stem, retention_deadline
from pbx.durable import fsync_dir
from pbx.recordings import wav
from pbx.recordings.store import ArchiveStore, Digest, file_digest

log = logging.getLogger(__name__)

STEPS = ("repaired", "written", "verified", "committed", "removed")


@dataclass(frozen=True)
class SpoolFile:
    path: Path
    name: SpoolName
    mtime: float


def spool_files(spool: Path) -> list[SpoolFile]:
    """Regular files directly in the spool whose names we made; nothing else
    (symlinks, folders, '..', names that do not parse) is ever touched."""
    found = []
    try:
        entries = list(os.scandir(spool))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.name.endswith(".wav") or not entry.is_file(follow_symlinks=False):
            continue
        name = parse_stem(entry.name[:-4])
        if name is not None:
            found.append(SpoolFile(Path(entry.path), name, entry.stat(follow_symlinks=False).st_mtime))
    return found


class Archiver:
    def __init__(self, database: Database, store: ArchiveStore, spool: Path,
                 fault: Callable[[str], None] | None = None):
        self.database = database
        self.store = store
        self.spool = spool
        self._fault = fault or (lambda step: None)

    async def listing(self) -> list[SpoolFile]:
        return await asyncio.to_thread(spool_files, self.spool)

    async def sweep(self, active: set[str] | None, quiet_s: float, now: float,
                    files: list[SpoolFile] | None = None) -> int:
        """Archives every spool file (of `files`, else of the spool now) no live channel
        records into and that has not changed for quiet_s seconds; returns how many were
        archived."""
        done = 0
        for spool_file in files if files is not None else await self.listing():
            if spool_file.name.stem in (active or ()) or now - spool_file.mtime < quiet_s:
                continue
            try:
                done += await self.archive(spool_file)
            except Exception:
                log.exception("archiving %s failed; the spool file is kept for the next sweep",
                              spool_file.path.name)
        return done

    async def archive(self, spool_file: SpoolFile) -> int:
        path, name = spool_file.path, spool_file.name
        if not _still_regular(path):
            return 0
        await asyncio.to_thread(wav.repair, str(path))
        self._fault("repaired")
        if await self._already_archived(path, name):
            return 0
        target = self.store.path(name.tenant_id, name.started_at, name.file_id)
        digest, wrapped = await self._write(path, target, name, None)
        self._fault("verified")
        if not await self._commit(name, digest, wrapped, target):
            return 0  # another run committed its own copy first: the next sweep reconciles
        self._fault("committed")
        await asyncio.to_thread(_remove, path)
        self._fault("removed")
        return 1

    async def _write(self, path: Path, target: Path, name: SpoolName, wrapped: bytes | None):
        digest, wrapped = await asyncio.to_thread(self.store.write, path, target, wrapped)
        self._fault("written")
        if await asyncio.to_thread(self.store.digest, target, wrapped) != digest:
            raise RuntimeError(f"archive copy of {name.file_id} does not verify")
        return digest, wrapped

    async def _already_archived(self, path: Path, name: SpoolName) -> bool:
        async with self.database.read() as session:
            row = (await session.execute(select(Recording.sha256, Recording.wrapped_key, Recording.started_at)
                                         .where(Recording.file_id == name.file_id))).first()
        if row is None or (await asyncio.to_thread(file_digest, path)).sha256 != row.sha256:
            return False
        target = self.store.path(name.tenant_id, row.started_at, name.file_id)
        if not await asyncio.to_thread(self.store.opens_with, target, row.wrapped_key):
            await self._write(path, target, name, row.wrapped_key)
        await asyncio.to_thread(_remove, path)
        return True

    async def _commit(self, name: SpoolName, digest: Digest, wrapped: bytes, target: Path) -> bool:
        try:
            async with self.database.unit() as unit:
                tenant = await unit.session.get(Tenant, name.tenant_id)
                if tenant is None or not PLANS[tenant.plan].recording:
                    reason = "tenant_deleted" if tenant is None else "plan_change"
                    await self._destroy_instead(unit.session, name, digest, target, reason)
                    return True
                row = await unit.session.scalar(select(Recording).where(Recording.file_id == name.file_id))
                row = row or Recording(file_id=name.file_id)
                _fill(row, name, digest, tenant)
                row.wrapped_key = wrapped
                unit.session.add(row)
            return True
        except IntegrityError:
            log.info("recording %s was archived by another run", name.file_id)
            return False

    async def _destroy_instead(self, session, name: SpoolName, digest: Digest, target: Path, reason: str) -> None:
        """A call that ended after its tenant was deleted, or moved to a plan that
        keeps no recordings: destroyed (with its record), never archived."""
        await asyncio.to_thread(self.store.remove, target)
        record = dict(
            recording_id=0, tenant_id=name.tenant_id, file_id=name.file_id, sha256=digest.sha256,
            size_bytes=digest.size_bytes, started_at=name.started_at, destroyed_at=datetime.now(timezone.utc),
            reason=reason, actor="system")
        await asyncio.to_thread(self.store.journal.append, [record])
        session.add(RecordingDestruction(**record))


def _fill(row: Recording, name: SpoolName, digest: Digest, tenant: Tenant) -> None:
    row.tenant_id = name.tenant_id
    row.started_at, row.caller, row.callee = name.started_at, name.caller, name.callee
    row.duration_s, row.size_bytes, row.sha256 = digest.duration_s, digest.size_bytes, digest.sha256
    row.expires_at = retention_deadline(name.started_at, PLANS[tenant.plan])  # a recording plan: never None


def _still_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
