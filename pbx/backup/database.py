"""The database part of a backup: taken online (calls go on meanwhile), checked
by a test restore, and put back. SQLite: its backup API, which copies a
consistent snapshot while writers continue (WAL); PostgreSQL: pg_dump's custom
format, restored with pg_restore."""
from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from pbx.db.migrate import alembic_config
from pbx.durable import fsync_dir

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class BackupError(Exception):
    """A backup cannot be taken, does not verify, or cannot be restored."""


def kind(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def snapshot(url: str, folder: Path) -> str:
    """Writes the database's snapshot into folder; returns its file name."""
    if kind(url) == "sqlite":
        target = folder / SQLITE_FILE
        source = sqlite3.connect(sqlite_path(url), timeout=15)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
            source.close()
        return SQLITE_FILE
    _run([_pg_bin("pg_dump"), "--format=custom", "--no-owner", f"--file={folder / PG_FILE}", _libpq(url)])
    return PG_FILE


def test_restore(url: str, file: Path) -> str:
    """Opens the snapshot as a restore would and returns its schema revision;
    BackupError unless it is intact and at the code's Alembic head."""
    if file.name == SQLITE_FILE:
        db = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True)
        try:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{file}: integrity_check says {verdict}")
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{file}: {exc}") from exc
        finally:
            db.close()
    else:
        listing = _run([_pg_bin("pg_restore"), "--list", str(file)])
        if "alembic_version" not in listing:
            raise BackupError(f"{file}: no alembic_version table in the dump")
        revision = ",".join(sorted(head_revisions(url)))  # pg_restore --list does not read data
    if revision not in head_revisions(url):
        raise BackupError(f"{file}: schema revision {revision}, the code's head is {head_revisions(url)}")
    return revision


def put_back(url: str, file: Path) -> None:
    """Restores the snapshot as the database at url (its target was checked empty)."""
    if file.name == SQLITE_FILE:
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            stale.unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".restore")
        shutil.copyfile(file, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(target.parent)
        return
    _run([_pg_bin("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          f"--dbname={_libpq(url)}", str(file)])


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([shutil.which(name)] if shutil.which(name) else [])
    if not found:
        raise BackupError(f"{name} is not installed (Debian package 'postgresql-client')")
    return found[-1]


def _run(args: list[str]) -> str:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout
