"""Call recording against the real Asterisk with real SIP phones: recorded,
archived, downloadable with the caller's tone; retention, the access log,
erasure, tenant isolation and hostile input."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from tests.support.audio import dominant_frequency, rms_dbfs
from tests.support.calls import call_between_new_phones, registered_extensions, wait_for
from tests.support.stack import settings_env

pytestmark = [pytest.mark.asterisk, pytest.mark.phone, pytest.mark.realtime]


def recordings(api, tenant_id: int, query: str = "") -> list[dict]:
    return api.ok("GET", f"/tenants/{tenant_id}/recordings{query}")["items"]


async def live_stems(stack) -> set[str]:
    from pbx.asterisk.ami import Ami
    from pbx.asterisk.recordings import active_recordings

    ami = Ami(stack.settings)
    await ami.start()
    try:
        assert await ami.wait_connected(10)
        return await active_recordings(ami)
    finally:
        ami.close()


def cli(stack, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pbx", "recordings", *args], env=settings_env(stack.settings),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def kobi_call(stack, phones):
    """A KOBİ tenant recording by default, one recorded call between two phones."""
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    assert tenant["record_calls"] is True and tenant["recording_notice"] is True
    call_between_new_phones(stack, phones, api, tenant["id"], seconds=3.0)
    [item] = wait_for(lambda: recordings(api, tenant["id"]))
    return tenant, api, item


def test_kobi_call_is_recorded_archived_and_downloadable(stack, kobi_call, tmp_path):
    tenant, api, item = kobi_call
    assert (item["caller"], item["callee"]) == ("101", "102")
    started = datetime.fromisoformat(item["started_at"])
    assert datetime.fromisoformat(item["expires_at"]) == started + timedelta(days=30)
    assert item["duration_s"] >= 2 and len(item["sha256"]) == 64
    audio = api.get(f"/tenants/{tenant['id']}/recordings/{item['id']}/audio")
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    assert len(audio.content) == item["size_bytes"]
    path = tmp_path / "recording.wav"
    path.write_bytes(audio.content)
    assert abs(dominant_frequency(str(path), skip_seconds=0.5) - 1000.0) < 20
    assert not list(stack.settings.recording_spool_dir.glob(f"t{tenant['id']}_*"))
    archived = list((stack.settings.recording_archive_dir / str(tenant["id"])).rglob("*.wav.enc"))
    assert len(archived) == 1 and audio.content[1000:1100] not in archived[0].read_bytes()
    assert recordings(api, tenant["id"], "?extension=102")[0]["id"] == item["id"]
    assert recordings(api, tenant["id"], "?extension=103") == []
    assert recordings(api, tenant["id"], "?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00%2B03:00") == []


def test_girisimci_call_leaves_no_recording(stack, phones):
    tenant, api = stack.new_tenant("girisimci")
    refused = api.post(f"/tenants/{tenant['id']}/extensions", json={"number": "109", "name": "X", "record_calls": True})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "feature_not_in_plan"
    assert stack.operator.post("/tenants", json={"name": "G", "plan": "girisimci", "record_calls": True}) \
        .status_code == 403
    call_between_new_phones(stack, phones, api, tenant["id"], seconds=1.5)
    time.sleep(3)
    assert recordings(api, tenant["id"]) == []
    assert not list(stack.settings.recording_spool_dir.glob(f"t{tenant['id']}_*"))
    # Asterisk never started a recording: had it, the archive would have destroyed the file
    # by now (the plan has none), but the call record would name it and a destruction be kept.
    calls = wait_for(lambda: stack.sql("SELECT recording_file_id FROM calls WHERE tenant_id = :t", t=tenant["id"]))
    assert calls == [(None,)]
    assert stack.sql("SELECT count(*) FROM recording_destructions WHERE tenant_id = :t", t=tenant["id"]) == [(0,)]


def test_read_and_delete_are_logged_and_the_chain_verifies(stack, kobi_call):
    tenant, api, item = kobi_call
    base = f"/tenants/{tenant['id']}/recordings"
    assert api.get(f"{base}/{item['id']}/audio").status_code == 200
    api.ok("DELETE", f"{base}/{item['id']}", status=204)
    assert api.get(f"{base}/{item['id']}/audio").status_code == 404
    log = api.ok("GET", f"{base}/{item['id']}/access-log")["items"]
    assert [e["action"] for e in log] == ["read", "deleted"] and all(e["actor"].startswith("token:") for e in log)
    assert api.ok("GET", f"{base}/access-log/verify") == {"ok": True, "entries": 2, "broken_at": None}
    stack.sql("UPDATE recording_access_log SET actor = 'someone else' WHERE id = :id", id=log[0]["id"])
    verdict = api.ok("GET", f"{base}/access-log/verify")
    assert verdict["ok"] is False and verdict["broken_at"] == log[0]["id"]
    assert cli(stack, "verify", "--tenant", str(tenant["id"])).returncode == 1


def test_retention_past_expiry_destroys_file_and_row_with_a_record(stack, kobi_call):
    tenant, api, item = kobi_call
    [archived] = (stack.settings.recording_archive_dir / str(tenant["id"])).rglob("*.wav.enc")
    before = datetime.fromisoformat(item["expires_at"]) - timedelta(minutes=1)
    assert cli(stack, "retention", "--now", before.isoformat()).returncode == 0
    assert archived.exists()
    after = datetime.fromisoformat(item["expires_at"]) + timedelta(minutes=1)
    result = cli(stack, "retention", "--now", after.isoformat())
    assert result.returncode == 0, result.stderr
    assert not archived.exists()
    assert recordings(api, tenant["id"]) == []
    [(reason, sha, size)] = stack.sql("SELECT reason, sha256, size_bytes FROM recording_destructions "
                                      "WHERE recording_id = :id", id=item["id"])
    assert (reason, sha, size) == ("retention", item["sha256"], item["size_bytes"])
    log = api.ok("GET", f"/tenants/{tenant['id']}/recordings/{item['id']}/access-log")["items"]
    assert [e["action"] for e in log] == ["retention"]


def test_erasure_and_isolation(stack, kobi_call):
    tenant, api, item = kobi_call
    base = f"/tenants/{tenant['id']}/recordings"
    _, intruder = stack.new_tenant("kobi")
    for method, path in (("GET", base), ("GET", f"{base}/{item['id']}/audio"), ("DELETE", f"{base}/{item['id']}"),
                         ("GET", f"{base}/{item['id']}/access-log"), ("GET", f"{base}/access-log/verify")):
        assert intruder.request(method, path).status_code == 404, (method, path)
    assert intruder.post(f"{base}/erase", json={"number": "101"}).status_code == 404
    assert api.ok("POST", f"{base}/erase", {"number": "109"}, status=200) == {"erased": 0}
    assert api.ok("POST", f"{base}/erase", {"number": "101"}, status=200) == {"erased": 1}
    assert recordings(api, tenant["id"]) == []
    assert [e["action"] for e in api.ok("GET", f"{base}/{item['id']}/access-log")["items"]] == ["erasure"]


def test_hostile_input_is_refused_and_hostile_spool_files_are_ignored(stack):
    tenant, api = stack.new_tenant("kobi")
    base = f"/tenants/{tenant['id']}/recordings"
    for query in ("?from=yesterday", "?to=2026-11-23", "?from=2026-13-45T00:00:00Z", "?extension=abc",
                  "?extension=1%0a2", "?cursor=-1", "?cursor=12", "?limit=0", "?limit=100000", "?from=2026-11-23T10:00:00",
                  "?from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z"):  # reversed: 422, not an empty page
        response = api.get(base + query)
        assert response.status_code == 422, (query, response.text)
    for path in ("/abc/audio", "/0/audio", "/99999999999/audio", "/-1", "/1e3/access-log", "/%2e%2e/audio"):
        assert api.get(base + path).status_code in (404, 405), path  # no GET of a bare recording
        assert api.delete(base + path.removesuffix("/audio")).status_code in (404, 405), path
    for number in ("", "abc", "101; DROP TABLE recordings", "../../etc/passwd", "+90\n5321112233", "٠٥٣٢"):
        assert api.post(f"{base}/erase", json={"number": number}).status_code == 422, number
    for body in ({"number": 101}, {"number": None}, {}, {"number": "101", "x": 1}):
        assert api.post(f"{base}/erase", json=body).status_code == 422, body
    spool = stack.settings.recording_spool_dir
    hostile = ["evil.wav", "..wav", f"t{tenant['id']}_20261123T100000Z_101_102_{'A' * 32}.wav", "x;rm -rf.wav"]
    for name in hostile:
        (spool / name).write_bytes(b"RIFF")
    os.symlink("/etc/passwd", spool / f"t{tenant['id']}_20261123T100000Z_101_102_{'a' * 32}.wav")
    try:
        assert cli(stack, "sweep", "--quiet", "0").returncode == 0
        for name in hostile:
            assert (spool / name).exists(), name
        assert recordings(api, tenant["id"]) == []
    finally:
        for name in hostile + [f"t{tenant['id']}_20261123T100000Z_101_102_{'a' * 32}.wav"]:
            (spool / name).unlink()


def test_plan_changes_never_lengthen_and_a_downgrade_without_recording_destroys(stack, kobi_call):
    tenant, api, item = kobi_call
    path = f"/tenants/{tenant['id']}"
    stack.operator.ok("PATCH", path, {"plan": "enterprise"})
    [same] = recordings(api, tenant["id"])
    assert same["expires_at"] == item["expires_at"]  # an upgrade lengthens nothing
    changed = stack.operator.ok("PATCH", path, {"plan": "girisimci"})
    assert changed["record_calls"] is False
    assert wait_for(lambda: recordings(api, tenant["id"]) == [], timeout=10)
    # Shredded with its row; the unreadable file is then removed in the background.
    assert wait_for(lambda: not list((stack.settings.recording_archive_dir / str(tenant["id"])).rglob("*.wav.enc")))
    log = api.ok("GET", f"{path}/recordings/{item['id']}/access-log")["items"]
    assert [e["action"] for e in log] == ["plan_change"] and log[0]["actor"].startswith("operator")


def test_tenant_deletion_destroys_its_recordings(stack, kobi_call):
    tenant, api, item = kobi_call
    stack.operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)
    assert stack.sql("SELECT count(*) FROM recordings WHERE tenant_id = :t", t=tenant["id"]) == [(0,)]
    assert wait_for(lambda: not list((stack.settings.recording_archive_dir / str(tenant["id"])).rglob("*.wav.enc")))
    rows = stack.sql("SELECT reason FROM recording_destructions WHERE recording_id = :id", id=item["id"])
    assert [r[0] for r in rows] == ["tenant_deleted"]


def test_inbound_caller_hears_the_notice_then_the_call_is_recorded(stack, phones, carrier, tmp_path):
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Desk"})
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "+908505557101", "destination": {"type": "extension", "extension": "101"}})
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert desk.wait_registered() == 200
        call = carrier.call(f"sip:+908505557101@127.0.0.1:{stack.sip_port}")
        call.wait_confirmed(timeout=10)  # answered for the notice
        heard = tmp_path / "notice.wav"
        call.start_recording(str(heard))
        incoming = desk.wait_incoming(timeout=15)  # rings only after the notice
        call.stop_recording()
        ringing = tmp_path / "ringback.wav"
        call.start_recording(str(ringing))
        time.sleep(1.5)  # the answered caller hears ringback ('r'), not silence
        call.stop_recording()
        incoming.answer()
        incoming.wait_confirmed(timeout=10)
        call.play_tone(800.0)
        time.sleep(3)
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        desk.remove()
    assert rms_dbfs(str(heard)) > -35  # the spoken notice, not silence
    assert abs(dominant_frequency(str(ringing), skip_seconds=0.2) - 450.0) < 20  # Turkish ringback
    [item] = wait_for(lambda: recordings(api, tenant["id"]))
    audio = tmp_path / "recorded.wav"
    audio.write_bytes(api.get(f"/tenants/{tenant['id']}/recordings/{item['id']}/audio").content)
    assert abs(dominant_frequency(str(audio), skip_seconds=0.5) - 800.0) < 20


def test_asterisk_killed_mid_call_loses_no_recording(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("enterprise", record_calls=True)
    caller, callee = registered_extensions(stack, phones, api, tenant["id"])
    try:
        call = caller.call("102")
        incoming = callee.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call.play_tone(600.0)
        time.sleep(3)
        [spooled] = stack.settings.recording_spool_dir.glob(f"t{tenant['id']}_*.wav")
        assert spooled.stem in asyncio.run(live_stems(stack))  # what keeps the sweep off a live file
        stack.asterisk._signal_group(signal.SIGKILL)  # no clean close: the WAV header is never finished
        stack.asterisk.stop()
        stack.asterisk.start()
        stack.wait_ami()
        call.hangup()
        incoming.hangup()
    finally:
        caller.remove()
        callee.remove()
    [item] = wait_for(lambda: recordings(api, tenant["id"]), timeout=60)
    assert datetime.fromisoformat(item["expires_at"]) - datetime.fromisoformat(item["started_at"]) \
        == timedelta(days=365)
    audio = tmp_path / "recorded.wav"
    audio.write_bytes(api.get(f"/tenants/{tenant['id']}/recordings/{item['id']}/audio").content)
    assert abs(dominant_frequency(str(audio), skip_seconds=0.5) - 600.0) < 20


def test_recording_and_call_record_name_each_other(stack, kobi_call):
    tenant, api, item = kobi_call
    linked = wait_for(lambda: recordings(api, tenant["id"])[0]["call_id"], timeout=30)
    assert linked, "no call record names this recording"
    calls = api.ok("GET", f"/tenants/{tenant['id']}/calls")["items"]
    assert [c["recording_id"] for c in calls if c["id"] == linked] == [item["id"]]
