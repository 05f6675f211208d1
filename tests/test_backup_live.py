"""Backups and crypto-shredding against the real Asterisk with real SIP phones:
a backup taken while a call goes on, restored onto a fresh data directory under
a second Asterisk + control plane (the session's stack keeps running): the old
SIP passwords register, a call routes, a recording from before the backup
decrypts to its SHA-256, the access-log chain verifies, and a recording destroyed
after the backup stays destroyed. And a deleted recording is shredded: a
surviving copy of its file cannot be decrypted."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pbx.recordings.crypto import MAGIC_V2, Cipher, Corrupt
from pbx.recordings.flow import archive_store
from tests.support.audio import dominant_frequency
from tests.support.stack import TEST_PORTS, settings_env, stack_settings, start_stack
from tests.support.calls import answered_call, wait_for
from tests.test_recordings_live import recordings

pytestmark = [pytest.mark.asterisk, pytest.mark.phone, pytest.mark.realtime]

_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
# The restored exchange: the session's ports + 50, and an RTP window of its own
# (40000 + offset, 100 ports) that no suite's window (30000 + 10 x offset) reaches.
RESTORED_PORTS = {**{name: TEST_PORTS[name] + 50 for name in ("api_port", "sip_port", "ami_port", "agi_port")},
                  "rtp_start": 40000 + _OFFSET, "rtp_end": 40099 + _OFFSET}


def pbx(settings, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pbx", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=timeout)


def extensions(api, tenant_id: int) -> list[dict]:
    return [api.ok("POST", f"/tenants/{tenant_id}/extensions", {"number": n, "name": f"Ext {n}"})
            for n in ("101", "102")]


def register(phones, exts, port: int):
    pair = [phones.add_phone(e["sip"]["username"], e["sip"]["password"], port=port) for e in exts]
    for phone in pair:
        assert phone.wait_registered(timeout=15) == 200
    return pair


def audio_sha(api, tenant_id: int, item: dict) -> str:
    response = api.get(f"/tenants/{tenant_id}/recordings/{item['id']}/audio")
    assert response.status_code == 200, response.text
    return hashlib.sha256(response.content).hexdigest()


def hears(call, tmp_path: Path, freq: float) -> bool:
    heard = tmp_path / f"heard-{freq:g}.wav"
    call.start_recording(str(heard))
    time.sleep(1.5)
    call.stop_recording()
    return abs(dominant_frequency(str(heard), skip_seconds=0.3) - freq) < 20


@pytest.fixture
def backup_settings(stack, tmp_path):
    from dataclasses import replace

    return replace(stack.settings, backup_dir=str(tmp_path / "backups"))


def test_backup_during_a_call_restores_a_working_exchange(stack, phones, backup_settings, tmp_path):
    if stack.settings.effective_database_url.startswith("postgresql"):
        pytest.skip("the restored exchange would need a second PostgreSQL server")
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    exts = extensions(api, tenant["id"])
    caller, callee = register(phones, exts, stack.sip_port)
    try:
        answered_call(caller, callee, seconds=3.0, caller_tone=700.0)
        answered_call(caller, callee, seconds=3.0, caller_tone=900.0)
        items = wait_for(lambda: len(recordings(api, tenant["id"])) == 2 and recordings(api, tenant["id"]))
        kept, destroyed = sorted(items, key=lambda i: i["id"])
        assert audio_sha(api, tenant["id"], kept) == kept["sha256"]
        call = caller.call("102")
        incoming = callee.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call.play_tone(1100.0)
        taken = pbx(backup_settings, "backup")
        assert taken.returncode == 0, taken.stderr[-3000:]
        assert incoming.state == "CONFIRMED" and hears(incoming, tmp_path, 1100.0)  # the call went on
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        caller.remove()
        callee.remove()
    backup = Path(json.loads(taken.stdout)["backup"])
    keys = tmp_path / "keys.json"
    assert pbx(backup_settings, "backup", "export-key", str(keys)).returncode == 0
    assert not list(backup.rglob("*.key")) and keys.read_bytes() not in (backup / "database.sqlite3").read_bytes()
    api.ok("DELETE", f"/tenants/{tenant['id']}/recordings/{destroyed['id']}", status=204)  # after the backup

    restored_settings = stack_settings(tmp_path / "restored", "", RESTORED_PORTS)
    done = pbx(restored_settings, "restore", str(backup), "--key", str(keys),
               "--journal", str(stack.settings.destruction_journal_path))
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["destroyed_again"] == 1 and summary["recordings_without_key"] == 0
    refused = pbx(restored_settings, "restore", str(backup), "--key", str(keys))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    restored = start_stack(tmp_path / "restored", "", RESTORED_PORTS)
    try:
        check_restored(restored, phones, exts, tenant["id"], kept, destroyed, tmp_path)
    finally:
        restored.control.stop()
        restored.asterisk.stop()


def check_restored(restored, phones, exts, tenant_id: int, kept: dict, destroyed: dict, tmp_path: Path) -> None:
    api = restored.operator
    caller, callee = register(phones, exts, restored.sip_port)  # the passwords from before the backup
    try:
        call = caller.call("102")
        incoming = callee.wait_incoming(timeout=15)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call.play_tone(1300.0)
        assert hears(incoming, tmp_path, 1300.0)
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        caller.remove()
        callee.remove()
    ids = [i["id"] for i in recordings(api, tenant_id)]
    assert kept["id"] in ids and destroyed["id"] not in ids
    assert audio_sha(api, tenant_id, kept) == kept["sha256"]
    assert api.get(f"/tenants/{tenant_id}/recordings/{destroyed['id']}/audio").status_code == 404
    assert restored.sql("SELECT reason FROM recording_destructions WHERE recording_id = :id",
                        id=destroyed["id"]) == [("deleted",)]
    verdict = api.ok("GET", f"/tenants/{tenant_id}/recordings/access-log/verify")
    assert verdict["ok"] is True and verdict["entries"] >= 2  # the kept one's reads, the replayed deletion


def test_a_deleted_recording_is_shredded_even_if_a_copy_of_its_file_survives(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    caller, callee = register(phones, extensions(api, tenant["id"]), stack.sip_port)
    try:
        answered_call(caller, callee, seconds=2.0, caller_tone=800.0)
    finally:
        caller.remove()
        callee.remove()
    [item] = wait_for(lambda: recordings(api, tenant["id"]))
    [archived] = (stack.settings.recording_archive_dir / str(tenant["id"])).rglob("*.wav.enc")
    copy = tmp_path / "surviving-copy.wav.enc"
    copy.write_bytes(archived.read_bytes())
    [(wrapped,)] = stack.sql("SELECT wrapped_key FROM recordings WHERE id = :id", id=item["id"])
    store = archive_store(stack.settings)
    assert hashlib.sha256(b"".join(store.plain_chunks(copy, wrapped))).hexdigest() == item["sha256"]

    api.ok("DELETE", f"/tenants/{tenant['id']}/recordings/{item['id']}", status=204)
    assert stack.sql("SELECT count(*) FROM recordings WHERE id = :id", id=item["id"]) == [(0,)]
    assert copy.read_bytes()[:8] == MAGIC_V2
    with pytest.raises(Corrupt):
        b"".join(store.plain_chunks(copy, None))  # no row, no data key
    for master in store.keyring.all_keys():  # nor does any master key open it
        for cipher in (Cipher(master), Cipher(master, MAGIC_V2)):
            with pytest.raises(Corrupt):
                b"".join(cipher.decrypt(open(copy, "rb")))
    assert wait_for(lambda: not archived.exists(), timeout=15)  # removed in the background
    database = Path(stack.settings.data_dir / "pbx.sqlite3")
    if database.exists():  # SQLite: secure_delete + a truncating checkpoint leave the key nowhere
        files = (database, database.with_name("pbx.sqlite3-wal"))
        assert wait_for(lambda: not any(p.exists() and wrapped in p.read_bytes() for p in files), timeout=15)
    journal = stack.settings.destruction_journal_path.read_text()
    [(file_id,)] = stack.sql("SELECT file_id FROM recording_destructions WHERE recording_id = :id", id=item["id"])
    assert file_id in journal and wrapped.hex() not in journal


def test_a_postgresql_backup_restores_into_a_fresh_database(stack, backup_settings, tmp_path):
    if not stack.settings.effective_database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL path (pg_dump, pg_restore) runs in the suite's PostgreSQL pass")
    from pbx.cluster.postgres import _bin
    from tests.support.postgres import PORT

    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Desk"})
    taken = pbx(backup_settings, "backup")
    assert taken.returncode == 0, taken.stderr[-3000:]
    backup = Path(json.loads(taken.stdout)["backup"])
    assert (backup / "database.pgdump").is_file()
    keys = tmp_path / "keys.json"
    assert pbx(backup_settings, "backup", "export-key", str(keys)).returncode == 0
    name = f"pbx_restored_{os.getpid()}"
    subprocess.run([_bin("psql"), "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-c",
                    f"CREATE DATABASE {name} OWNER pbx"], check=True, capture_output=True)
    url = stack.settings.effective_database_url.rsplit("/", 1)[0] + f"/{name}"
    restored = stack_settings(tmp_path / "restored", url, RESTORED_PORTS)
    done = pbx(restored, "restore", str(backup), "--key", str(keys))
    assert done.returncode == 0, done.stderr[-3000:]
    again = pbx(restored, "restore", str(backup), "--key", str(keys))
    assert again.returncode == 1 and "not empty" in again.stderr  # the database has tables now
    from tests.support.stack import Stack

    check = Stack(restored, None, None, None)
    assert check.sql("SELECT name FROM tenants WHERE id = :t", t=tenant["id"]) == [(tenant["name"],)]
    username = ext["sip"]["username"]
    credentials = "SELECT auth_type, md5_cred, password FROM ps_auths WHERE id = :u"
    [before] = stack.sql(credentials, u=username)
    assert check.sql(credentials, u=username) == [before] and any(before[1:])
