"""The archive and retention against a real database and real files (no Asterisk):
crash safety by kill -9 after every step, header repair, retention, erasure, the
access-log chain and its tamper check."""
from __future__ import annotations

import asyncio
import hashlib
import shutil
import struct
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pbx.config import settings_from_env
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Recording, RecordingAccess, RecordingDestruction, Tenant
from pbx.db.unit import Database
from pbx.domain.recording import new_spool_name
from pbx.recordings import access_log
from pbx.recordings.archive import STEPS, Archiver
from pbx.recordings.flow import archive_store
from pbx.recordings.retention import purge_expired, remove_pending_files
from pbx.recordings.service import RecordingService
from pbx.services.tokens import Principal
from tests.support.audio import dominant_frequency, write_tone_wav

REPO = Path(__file__).resolve().parent.parent


class Env:
    def __init__(self, tmp):
        self.settings = settings_from_env(env={}, data_dir=tmp / "var")
        self.engine = make_engine(self.settings.effective_database_url)
        self.database = Database(make_sessionmaker(self.engine), serialize_writes=True)
        self.store = archive_store(self.settings)
        self.spool = self.settings.recording_spool_dir
        self.spool.mkdir(parents=True, exist_ok=True)
        self.archiver = Archiver(self.database, self.store, self.spool)
        self.tmp = tmp

    async def tenant(self, plan: str = "kobi") -> int:
        async with self.database.unit() as unit:
            tenant = Tenant(name="T", plan=plan)
            unit.session.add(tenant)
            await unit.session.flush()
            return tenant.id

    def spool_wav(self, tenant_id: int, caller="101", callee="102", freq=700.0, started=None, broken=False):
        name = new_spool_name(tenant_id, caller, callee, now=started)
        path = self.spool / f"{name.stem}.wav"
        write_tone_wav(str(path), freq, 2.0)
        if broken:  # as Asterisk killed mid-call leaves it: sizes unset
            with open(path, "r+b") as f:
                f.seek(4), f.write(struct.pack("<I", 0)), f.seek(40), f.write(struct.pack("<I", 0))
        return name, path

    async def rows(self) -> list[Recording]:
        async with self.database.read() as session:
            return list(await session.scalars(select(Recording).order_by(Recording.id)))

    async def count(self, model) -> int:
        async with self.database.read() as session:
            return await session.scalar(select(func.count()).select_from(model))

    def plain(self, row: Recording) -> bytes:
        path = self.store.path(row.tenant_id, row.started_at, row.file_id)
        return b"".join(self.store.plain_chunks(path, row.wrapped_key))


@pytest.fixture
async def env(tmp_path):
    await asyncio.to_thread(upgrade, settings_from_env(env={}, data_dir=tmp_path / "var").effective_database_url)
    env = Env(tmp_path)
    yield env
    await env.engine.dispose()


async def test_archive_moves_verifies_and_removes(env):
    tenant_id = await env.tenant()
    name, path = env.spool_wav(tenant_id, freq=700.0)
    original = path.read_bytes()
    assert await env.archiver.sweep(set(), 0.0, time.time() + 10) == 1
    [row] = await env.rows()
    assert not path.exists()
    assert (row.file_id, row.caller, row.callee, row.duration_s) == (name.file_id, "101", "102", 2)
    assert row.size_bytes == len(original) and row.sha256 == hashlib.sha256(original).hexdigest()
    assert row.expires_at == name.started_at + timedelta(days=30)
    assert env.plain(row) == original
    assert original[100:200] not in env.store.path(tenant_id, row.started_at, row.file_id).read_bytes()


async def test_live_and_fresh_files_are_left_alone(env):
    tenant_id = await env.tenant()
    live, live_path = env.spool_wav(tenant_id)
    fresh, fresh_path = env.spool_wav(tenant_id)
    assert await env.archiver.sweep({live.stem}, 60.0, time.time()) == 0
    assert live_path.exists() and fresh_path.exists() and await env.rows() == []
    # Once both are quiet, only the live one is still kept (live alone, not freshness, protects it).
    assert await env.archiver.sweep({live.stem}, 60.0, time.time() + 120) == 1
    assert live_path.exists() and not fresh_path.exists()
    assert [r.file_id for r in await env.rows()] == [fresh.file_id]


@pytest.mark.parametrize("step", STEPS)
async def test_kill_9_after_any_step_then_restart_gives_exactly_one_intact_recording(env, step):
    tenant_id = await env.tenant()
    name, path = env.spool_wav(tenant_id, broken=True)
    result = subprocess.run([sys.executable, "-m", "tests.support.archive_crash", str(env.tmp / "var"), step],
                            cwd=REPO, capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    await env.archiver.sweep(None, 0.0, time.time() + 10)  # the restarted control plane's start-up sweep
    await env.archiver.sweep(None, 0.0, time.time() + 10)  # and again: nothing changes
    [row] = await env.rows()
    assert row.file_id == name.file_id and not path.exists()
    plain = env.plain(row)
    assert hashlib.sha256(plain).hexdigest() == row.sha256 and len(plain) == row.size_bytes
    repaired = env.tmp / "repaired.wav"
    repaired.write_bytes(plain)
    assert abs(dominant_frequency(str(repaired)) - 700.0) < 20  # the header was repaired
    assert not list(env.store.root.rglob("*.tmp"))


async def test_spool_file_whose_row_matches_is_only_removed(env):
    tenant_id = await env.tenant()
    name, path = env.spool_wav(tenant_id)
    copy = env.tmp / "copy.wav"
    shutil.copy(path, copy)
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    [row] = await env.rows()
    archived = env.store.path(tenant_id, row.started_at, row.file_id).read_bytes()
    shutil.copy(copy, path)  # as if the removal had not happened before a crash
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    assert len(await env.rows()) == 1 and not path.exists()
    # Only removed: archived again, it would be encrypted with a new random nonce.
    assert env.store.path(tenant_id, row.started_at, row.file_id).read_bytes() == archived


async def test_retention_destroys_file_and_row_and_keeps_a_record(env):
    tenant_id = await env.tenant()
    old = datetime.now(timezone.utc) - timedelta(days=40)
    env.spool_wav(tenant_id, started=old)
    env.spool_wav(tenant_id)
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    expired = [r for r in await env.rows() if r.started_at < old + timedelta(days=1)][0]
    file = env.store.path(tenant_id, expired.started_at, expired.file_id)
    assert await purge_expired(env.database, env.store, datetime.now(timezone.utc)) == 1
    assert len(await env.rows()) == 1
    assert await remove_pending_files(env.database, env.store) == 1  # the background remover's pass
    assert not file.exists() and await remove_pending_files(env.database, env.store) == 0
    async with env.database.read() as session:
        [record] = list(await session.scalars(select(RecordingDestruction)))
        assert (record.recording_id, record.sha256, record.reason) == (expired.id, expired.sha256, "retention")
        assert (await access_log.verify(session, tenant_id))["ok"]


async def test_access_log_chain_detects_an_edited_entry(env):
    tenant_id = await env.tenant()
    for _ in range(3):
        env.spool_wav(tenant_id, caller="05321112233")
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    service = RecordingService(env.database, env.store)
    async with env.database.unit() as unit:
        assert await service.erase(unit, Principal(tenant_id, 5), tenant_id, "+90 532 111 22 33") == 3
    assert await env.rows() == []
    await remove_pending_files(env.database, env.store)
    assert not list(env.store.root.rglob("*.enc"))
    async with env.database.read() as session:
        assert await access_log.verify(session, tenant_id) == {"ok": True, "entries": 3, "broken_at": None}
        second = (await session.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))
        second = list(second)[1]
    async with env.database.unit() as unit:
        await unit.session.execute(text("UPDATE recording_access_log SET actor = 'nobody' WHERE id = :id"),
                                   {"id": second.id})
    async with env.database.read() as session:
        assert await access_log.verify(session, tenant_id) == {"ok": False, "entries": 1, "broken_at": second.id}
    assert await env.count(RecordingDestruction) == 3


async def test_recording_of_a_deleted_tenant_is_destroyed_not_archived(env):
    tenant_id = await env.tenant()
    _, path = env.spool_wav(tenant_id + 1000)
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    assert await env.rows() == [] and not path.exists() and await env.count(RecordingDestruction) == 1
    assert not list(env.store.root.rglob("*.enc"))


async def test_recording_of_a_tenant_now_without_recording_is_destroyed_not_archived(env):
    tenant_id = await env.tenant("girisimci")
    _, path = env.spool_wav(tenant_id)
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    assert await env.rows() == [] and not path.exists()
    async with env.database.read() as session:
        [record] = list(await session.scalars(select(RecordingDestruction)))
    assert record.reason == "plan_change" and not list(env.store.root.rglob("*.enc"))


async def test_listing_pages_with_a_cursor_and_filters_by_any_form_of_a_number(env):
    from pbx.calls.query import decode_cursor
    from pbx.recordings.service import ListQuery, parse_party

    tenant_id = await env.tenant()
    for caller in ("05321112233", "101", "102"):
        env.spool_wav(tenant_id, caller=caller, callee="103")
    await env.archiver.sweep(None, 0.0, time.time() + 10)
    service, me = RecordingService(env.database, env.store), Principal(tenant_id, 1)
    async with env.database.read() as session:
        first, after = await service.list(session, me, tenant_id, ListQuery(limit=2))
        second, end = await service.list(session, me, tenant_id, ListQuery(limit=2, after=decode_cursor(after)))
        by_number = await service.list(session, me, tenant_id, ListQuery(parties=parse_party("+90 532 111 2233")))
        by_ext = await service.list(session, me, tenant_id, ListQuery(parties=parse_party("103")))
    keys = [(i["row"].started_at, i["row"].id) for i in first + second]
    assert len(keys) == 3 == len(set(keys)) and keys == sorted(keys, reverse=True) and end is None
    assert [i["row"].caller for i in by_number[0]] == ["05321112233"] and len(by_ext[0]) == 3


async def test_a_recording_archived_before_data_keys_stays_readable_and_is_destroyed_file_first(env):
    from pbx.recordings.crypto import MAGIC, Cipher

    tenant_id = await env.tenant()
    name, path = env.spool_wav(tenant_id, started=datetime.now(timezone.utc) - timedelta(days=40))
    plain = path.read_bytes()
    target = env.store.path(tenant_id, name.started_at, name.file_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as source, open(target, "wb") as out:  # as the archive wrote it before (PBXREC1)
        Cipher(env.store.keyring.current).encrypt(source, out)
    path.unlink()
    async with env.database.unit() as unit:
        unit.session.add(Recording(tenant_id=tenant_id, file_id=name.file_id, started_at=name.started_at,
                                   duration_s=2, caller="101", callee="102", size_bytes=len(plain),
                                   sha256=hashlib.sha256(plain).hexdigest(),
                                   expires_at=name.started_at + timedelta(days=30)))
    [row] = await env.rows()
    assert row.wrapped_key is None and target.read_bytes()[:8] == MAGIC and env.plain(row) == plain
    assert await purge_expired(env.database, env.store, datetime.now(timezone.utc)) == 1
    assert not target.exists()  # the master key still opens it: the file goes before the row
    async with env.database.read() as session:
        [record] = list(await session.scalars(select(RecordingDestruction)))
    assert record.file_pending is False and await remove_pending_files(env.database, env.store) == 0
