"""Taking a backup, online: the database snapshot first, then the files (the
archive is copied as it is on disk: ciphertext; its keys are exported apart, on
purpose), a manifest, a verification of every checksum and a test restore of
the database, and only then the rename that makes it count. A crash at any
point leaves a hidden temporary folder that the next run removes, never a
backup that looks whole."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from pbx.backup import database, manifest, policy
from pbx.backup.database import BackupError
from pbx.config import Settings
from pbx.durable import fsync_dir

PREFIX = "pbx-"
STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^pbx-(\d{8}T\d{6}Z)$")


def sources(settings: Settings) -> dict[str, Path]:
    """Backup folder name -> where the files live. The spool (calls in progress)
    is not here: a recording is backed up once it is archived."""
    return {"recordings": settings.recording_archive_dir, "prompts": settings.audio_dir,
            "voicemail": settings.voicemail_dir}


def _files(root: Path) -> Iterator[Path]:
    """Regular files only (no symlinks), and no half-written temporaries."""
    for folder, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = Path(folder) / name
            if not name.endswith(".tmp") and path.is_file() and not path.is_symlink():
                yield path


def existing(backup_dir: Path) -> dict[str, datetime]:
    """Complete backups (with a manifest) by name -> when they were taken."""
    found = {}
    for path in backup_dir.glob(f"{PREFIX}*"):
        match = _NAME.match(path.name)
        if match and (path / manifest.NAME).is_file():
            found[path.name] = datetime.strptime(match.group(1), STAMP).replace(tzinfo=timezone.utc)
    return found


def take_backup(settings: Settings, now: datetime | None = None) -> Path:
    """One backup at a time per folder (the scheduled job and `pbx backup` may meet)."""
    root = settings.backup_path
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _take(settings, root, now or datetime.now(timezone.utc))


def _take(settings: Settings, root: Path, now: datetime) -> Path:
    final = root / f"{PREFIX}{now.astimezone(timezone.utc):{STAMP}}"
    if final.exists():
        raise BackupError(f"{final} exists already")
    _remove_leftovers(root)
    tmp = root / f".{final.name}.tmp"
    tmp.mkdir()
    try:
        _write(settings, tmp, now)
        problems = verify(settings, tmp)
        if problems:
            raise BackupError(f"the backup does not verify: {problems[:5]}")
        os.rename(tmp, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(settings)
    return final


def _write(settings: Settings, folder: Path, now: datetime) -> None:
    url = settings.effective_database_url
    db_file = database.snapshot(url, folder)
    files = {db_file: manifest.entry(folder / db_file)}
    counts = {}
    for name, source in sources(settings).items():
        counts[name] = 0
        for path in _files(source):
            relative = f"{name}/{path.relative_to(source).as_posix()}"
            try:
                files[relative] = manifest.copy_file(path, folder / relative)
            except FileNotFoundError:
                continue  # removed meanwhile (a shredded recording, a deleted prompt)
            counts[name] += 1
    manifest.write(folder, {"taken_at": now.isoformat(), "database": {"kind": database.kind(url), "file": db_file},
                            "counts": counts, "files": files})
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        fsync_dir(path)


def verify(settings: Settings, folder: Path) -> list[str]:
    """Every checksum, then a test restore of the database."""
    problems = manifest.verify(folder)
    if not problems:
        try:
            database.test_restore(settings.effective_database_url, folder / manifest.read(folder)["database"]["file"])
        except BackupError as exc:
            problems.append(str(exc))
    return problems


def prune(settings: Settings) -> list[str]:
    """Removes the backups the retention policy no longer keeps; returns their names."""
    taken = existing(settings.backup_path)
    keep = policy.to_keep(taken, settings.backup_keep_daily, settings.backup_keep_weekly)
    dropped = sorted(set(taken) - keep)
    for name in dropped:
        shutil.rmtree(settings.backup_path / name)
    return dropped


def _remove_leftovers(root: Path) -> None:
    for path in root.glob(f".{PREFIX}*.tmp"):
        shutil.rmtree(path, ignore_errors=True)
