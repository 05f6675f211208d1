"""Backups and restores against a real SQLite database and real files (no
Asterisk; tests/test_backup_live.py does it with calls): the manifest catches a
corrupted file, a crash mid-backup leaves nothing that counts, retention prunes,
a restore brings recordings back and keeps destroyed ones destroyed, key rotation
rewraps without touching audio."""
from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime, timedelta, timezone

from dataclasses import replace

import pytest
from sqlalchemy import select

from pbx.backup import manifest, take
from pbx.backup.database import BackupError
from pbx.backup.keyexport import export_keys
from pbx.backup.restore import restore
from pbx.config import settings_from_env
from pbx.db.models import Recording, RecordingDestruction
from pbx.recordings import access_log
from pbx.recordings.crypto import Corrupt
from pbx.recordings.keys import rotate_files
from pbx.recordings.rotation import rewrap_all
from pbx.recordings.service import RecordingService
from pbx.services.tokens import Principal
from tests.test_recordings_archive import env as archive_env  # noqa: F401  (its fixture)


@pytest.fixture
def env(archive_env, tmp_path):
    """The archive's test environment, its prompts in the test's own folder."""
    archive_env.settings = replace(archive_env.settings, audio_dir=tmp_path / "ivr_audio")
    return archive_env


async def archived(env, count: int = 2) -> tuple[int, list[Recording]]:
    tenant_id = await env.tenant()
    for i in range(count):
        env.spool_wav(tenant_id, caller=f"10{i}", freq=500.0 + 100 * i)
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    return tenant_id, await env.rows()


def with_files(env) -> None:
    (env.settings.audio_dir / "1").mkdir(parents=True, exist_ok=True)
    (env.settings.audio_dir / "1" / "greeting.wav").write_bytes(b"RIFF prompt")
    (env.settings.voicemail_dir / "1").mkdir(parents=True, exist_ok=True)
    (env.settings.voicemail_dir / "1" / "message.wav").write_bytes(b"RIFF voicemail")


async def test_a_backup_holds_everything_and_a_corrupted_file_is_detected(env):
    _, rows = await archived(env)
    with_files(env)
    backup = await asyncio.to_thread(take.take_backup, env.settings)
    described = manifest.read(backup)
    assert described["counts"] == {"recordings": 2, "prompts": 1, "voicemail": 1}
    assert take.verify(env.settings, backup) == []
    original = env.store.path(rows[0].tenant_id, rows[0].started_at, rows[0].file_id)
    copy = backup / "recordings" / original.relative_to(env.store.root)
    assert copy.read_bytes() == original.read_bytes()  # ciphertext, as archived
    data = bytearray(copy.read_bytes())
    data[100] ^= 1
    copy.write_bytes(bytes(data))
    (backup / "prompts" / "1" / "extra.wav").write_bytes(b"x")
    (backup / "voicemail" / "1" / "message.wav").unlink()
    problems = take.verify(env.settings, backup)
    assert any(p.startswith("changed: recordings/") for p in problems)
    assert "not in the manifest: prompts/1/extra.wav" in problems and "missing: voicemail/1/message.wav" in problems


async def test_a_broken_database_snapshot_fails_the_test_restore(env):
    await archived(env, 1)
    backup = await asyncio.to_thread(take.take_backup, env.settings)
    db = backup / "database.sqlite3"
    db.write_bytes(db.read_bytes()[:4096])
    described = manifest.read(backup)
    described["files"]["database.sqlite3"] = manifest.entry(db)  # the checksums agree: only the restore can tell
    manifest.write(backup, described)
    assert manifest.verify(backup) == []
    [problem] = take.verify(env.settings, backup)
    assert "database.sqlite3" in problem


async def test_a_crash_mid_backup_leaves_no_backup_that_counts(env, monkeypatch):
    await archived(env, 1)

    def crash(*_args):
        raise KeyboardInterrupt("killed while writing the manifest")

    monkeypatch.setattr(manifest, "write", crash)
    with pytest.raises(KeyboardInterrupt):
        await asyncio.to_thread(take.take_backup, env.settings)
    assert take.existing(env.settings.backup_path) == {}
    assert not list(env.settings.backup_path.glob("pbx-*"))
    monkeypatch.undo()
    leftover = env.settings.backup_path / ".pbx-20261130T030000Z.tmp"  # as a kill -9 leaves it
    (leftover / "recordings").mkdir(parents=True)
    backup = await asyncio.to_thread(take.take_backup, env.settings)
    assert list(take.existing(env.settings.backup_path)) == [backup.name] and not leftover.exists()


async def test_retention_prunes_to_seven_daily_and_four_weekly(env):
    await archived(env, 1)
    start = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)
    for day in range(40):
        await asyncio.to_thread(take.take_backup, env.settings, start + timedelta(days=day))
    names = sorted(take.existing(env.settings.backup_path))
    assert len(names) == 9 and names[-1] == "pbx-20261109T020000Z"  # 7 daily + 2 older weekly
    assert "pbx-20261025T020000Z" in names and "pbx-20261101T020000Z" in names  # Sundays: newest of their week


async def test_restore_brings_recordings_back_and_replays_destructions_since_the_backup(env, tmp_path):
    tenant_id, (kept, destroyed) = await archived(env)
    with_files(env)
    backup = await asyncio.to_thread(take.take_backup, env.settings)
    keys = tmp_path / "keys.json"
    export_keys(env.settings.recording_key_path, keys)
    leaked = env.store.path(tenant_id, destroyed.started_at, destroyed.file_id).read_bytes()
    async with env.database.unit() as unit:
        await RecordingService(env.database, env.store).delete(unit, Principal(tenant_id, 9), tenant_id, destroyed.id)

    fresh = settings_from_env(env={}, data_dir=tmp_path / "fresh", audio_dir=tmp_path / "fresh-audio")
    journal = env.settings.destruction_journal_path  # kept apart from backups, beside the key
    result = await asyncio.to_thread(restore, fresh, backup, keys, journal)
    assert result["destroyed_again"] == 1 and result["recordings_without_key"] == 0
    with pytest.raises(BackupError, match="not empty"):
        await asyncio.to_thread(restore, fresh, backup, keys, journal)

    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.unit import Database
    from pbx.recordings.flow import archive_store

    engine = make_engine(fresh.effective_database_url)
    try:
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        store = archive_store(fresh)
        async with database.read() as session:
            [row] = list(await session.scalars(select(Recording)))
            [record] = list(await session.scalars(select(RecordingDestruction)))
            assert (await access_log.verify(session, tenant_id))["ok"]
        assert row.file_id == kept.file_id and record.file_id == destroyed.file_id and record.reason == "deleted"
        plain = b"".join(store.plain_chunks(store.path(row.tenant_id, row.started_at, row.file_id), row.wrapped_key))
        assert hashlib.sha256(plain).hexdigest() == kept.sha256
        assert not store.path(tenant_id, destroyed.started_at, destroyed.file_id).exists()
        copy = tmp_path / "leaked.wav.enc"
        copy.write_bytes(leaked)
        with pytest.raises(Corrupt):
            b"".join(store.plain_chunks(copy, None))  # its key went with its row
        assert (fresh.audio_dir / "1" / "greeting.wav").read_bytes() == b"RIFF prompt"
        assert (fresh.voicemail_dir / "1" / "message.wav").read_bytes() == b"RIFF voicemail"
    finally:
        await engine.dispose()


async def test_rotation_rewraps_every_data_key_and_the_audio_is_untouched(env):
    _, rows = await archived(env)
    files = {r.file_id: env.store.path(r.tenant_id, r.started_at, r.file_id).read_bytes() for r in rows}
    old_id = env.store.keyring.current_id
    rotate_files(env.settings.recording_key_path)
    result = await rewrap_all(env.database, env.store.keyring)
    assert result["rewrapped"] == 2 and result["key_id"] != old_id.hex()
    assert (await rewrap_all(env.database, env.store.keyring))["rewrapped"] == 0  # done: nothing left
    for row in await env.rows():
        assert row.wrapped_key[:8] == env.store.keyring.current_id
        path = env.store.path(row.tenant_id, row.started_at, row.file_id)
        assert path.read_bytes() == files[row.file_id]
        assert hashlib.sha256(env.plain(row)).hexdigest() == row.sha256


async def test_the_scheduled_job_takes_verified_backups_on_its_interval(env):
    from pbx.backup.job import BackupJob

    await archived(env, 1)
    job = BackupJob(replace(env.settings, backup_interval_s=1.1))
    seen: set[str] = set()
    job.start()
    try:
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            seen |= set(take.existing(env.settings.backup_path))
            await asyncio.sleep(0.1)
    finally:
        await job.stop()
    assert len(seen) >= 2  # one interval after another
    [newest] = take.existing(env.settings.backup_path)  # the same day's older ones were pruned
    assert newest >= max(seen) and take.verify(env.settings, env.settings.backup_path / newest) == []
