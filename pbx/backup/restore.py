"""`pbx restore BACKUP`: a working exchange again, on a fresh data directory.

In order: the backup is verified (checksums, test restore of the database); the
target must be empty (unless forced); the database is put back and migrated to
the code's head; the files are copied; the recording keys are installed from
their export (or found where the settings say); the destruction journal is
replayed, so what was destroyed after the backup stays destroyed; and every
recording's key is checked to be resolvable."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from pbx.backup import database, manifest
from pbx.backup.database import BackupError
from pbx.backup.keyexport import read_export
from pbx.backup.replay import replay_journal
from pbx.backup.take import sources, verify
from pbx.config import Settings
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Recording
from pbx.db.unit import Database
from pbx.recordings.crypto import read_header
from pbx.recordings.flow import archive_store
from pbx.recordings.keys import ID_BYTES, KeyMissing, install_keys, next_path, retired_dir


def _kept_outside(settings: Settings) -> set[Path]:
    """What may already be in a 'fresh' data directory: the keys and the journal
    (kept apart from backups, put in place first), the backups themselves."""
    key = settings.recording_key_path
    return {key, retired_dir(key), next_path(key), settings.destruction_journal_path, settings.backup_path}


def occupied(settings: Settings) -> list[Path]:
    kept = _kept_outside(settings)
    roots = [settings.data_dir, *sources(settings).values()]
    found = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.iterdir() if p not in kept and p not in roots]
    url = settings.effective_database_url
    if database.kind(url) == "sqlite":
        db = database.sqlite_path(url)
        found += [db] if db.exists() else []
    elif asyncio.run(_has_tables(url)):
        found.append(Path(make_url(url).render_as_string(hide_password=True)))
    return sorted(set(found), key=str)


async def _has_tables(url: str) -> bool:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return bool(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def restore(settings: Settings, backup: Path, key_export: Path | None, journal: Path | None,
            force: bool = False) -> dict:
    problems = verify(settings, backup)
    if problems:
        raise BackupError(f"{backup} does not verify: {problems[:5]}")
    busy = occupied(settings)
    if busy and not force:
        raise BackupError(f"the target is not empty ({', '.join(map(str, busy[:3]))}); --force replaces it")
    for path in busy:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()  # (a PostgreSQL database is replaced by pg_restore --clean)
    described = manifest.read(backup)
    database.put_back(settings.effective_database_url, backup / described["database"]["file"])
    upgrade(settings.effective_database_url)
    _copy_files(settings, backup, described["files"])
    _install_keys(settings, key_export)
    if journal is not None and journal.resolve() != settings.destruction_journal_path.resolve():
        _adopt_journal(journal, settings.destruction_journal_path)
    return {"backup": backup.name, **described["counts"], **asyncio.run(_after_files(settings))}


def _copy_files(settings: Settings, backup: Path, files: dict) -> None:
    targets = sources(settings)
    for name in files:
        folder, _, rest = name.partition("/")
        if folder in targets and rest:
            manifest.copy_file(backup / name, targets[folder] / rest)


def _install_keys(settings: Settings, key_export: Path | None) -> None:
    if key_export is not None:
        install_keys(settings.recording_key_path, read_export(key_export))
    elif not settings.recording_key_path.exists():
        raise BackupError(f"no recording key at {settings.recording_key_path}: give the export (--key)")


def _adopt_journal(source: Path, target: Path) -> None:
    """Destructions recorded from now on continue the journal that was replayed."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o600)


async def _after_files(settings: Settings) -> dict:
    engine = make_engine(settings.effective_database_url)
    try:
        db = Database(make_sessionmaker(engine), serialize_writes=engine.dialect.name == "sqlite")
        store = archive_store(settings)
        counts = await replay_journal(db, store)
        counts["recordings_without_key"] = await _unresolvable(db, store)
        return counts
    finally:
        await engine.dispose()


async def _unresolvable(db: Database, store) -> int:
    """Recordings whose master key is not here (their audio could not be read)."""
    known, missing = store.keyring.known_ids(), 0
    async with db.read() as session:
        rows = (await session.execute(select(Recording.tenant_id, Recording.started_at, Recording.file_id,
                                             Recording.wrapped_key))).all()
    for row in rows:
        if row.wrapped_key is not None:
            missing += row.wrapped_key[:ID_BYTES] not in known
            continue
        try:
            header = await asyncio.to_thread(read_header, store.path(row.tenant_id, row.started_at, row.file_id))
            store.keyring.master(header[8:16])
        except (FileNotFoundError, KeyMissing):
            missing += 1
    return missing
