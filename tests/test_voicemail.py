"""Voicemail: unanswered, busy or unregistered extensions take a message."""
from __future__ import annotations

import io
import time

import pytest
import soundfile as sf

from tests.support.audio import dominant_frequency

pytestmark = [pytest.mark.asterisk]


def messages(api, tenant_id, ext_id, want: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = api.ok("GET", f"/tenants/{tenant_id}/extensions/{ext_id}/voicemail")["items"]
        if len(items) >= want or time.monotonic() > deadline:
            return items
        time.sleep(0.5)


def leave_message(call, freq: float = 700.0, seconds: float = 4.0) -> None:
    call.wait_confirmed(timeout=20)
    time.sleep(7.0)  # "please leave your message after the tone..." (about 6 s), then the beep
    call.play_tone(freq)
    time.sleep(seconds)
    call.hangup()
    call.wait_disconnected()


@pytest.mark.phone
def test_no_answer_then_a_message_with_the_callers_tone(stack, phones, carrier, tmp_path):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A", "voicemail": True})
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "+908505556001", "destination": {"type": "extension", "extension": "101"}})
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert desk.wait_registered() == 200
        api.ok("PATCH", f"/tenants/{tenant['id']}/extensions/{ext['id']}", {"voicemail": True})
        call = carrier.call(f"sip:+908505556001@127.0.0.1:{stack.sip_port}")
        desk.wait_incoming(timeout=10).answer(486)  # busy
        leave_message(call)
    finally:
        desk.remove()
    [message] = messages(api, tenant["id"], ext["id"], 1)
    assert message["caller"] == "unknown"  # the carrier sent no number, only a name
    assert 3000 <= message["duration_ms"] <= 8000
    audio = api.get(f"/tenants/{tenant['id']}/extensions/{ext['id']}/voicemail/{message['id']}/audio")
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    path = tmp_path / "message.wav"
    path.write_bytes(audio.content)
    assert abs(dominant_frequency(str(path), skip_seconds=0.5) - 700) < 20
    assert sf.info(io.BytesIO(audio.content)).samplerate == 8000
    _, intruder = stack.new_tenant("kobi")
    assert intruder.get(f"/tenants/{tenant['id']}/extensions/{ext['id']}/voicemail").status_code == 404
    api.ok("DELETE", f"/tenants/{tenant['id']}/extensions/{ext['id']}/voicemail/{message['id']}", status=204)
    assert messages(api, tenant["id"], ext["id"], 0, timeout=0) == []


@pytest.mark.phone
def test_unregistered_extension_takes_a_message_from_a_colleague(stack, phones):
    tenant, api = stack.new_tenant("kobi")
    away = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Away", "voicemail": True})
    me = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "103", "name": "Me"})
    phone = phones.add_phone(me["sip"]["username"], me["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        leave_message(phone.call("102"))
    finally:
        phone.remove()
    [message] = messages(api, tenant["id"], away["id"], 1)
    assert message["caller"] == "103"
    box = stack.settings.asterisk_instance_dir / "spool" / "pbx-voicemail" / str(tenant["id"])
    assert len(list(box.glob("*.wav"))) == 1
    api.ok("DELETE", f"/tenants/{tenant['id']}/extensions/{away['id']}", status=204)
    assert list(box.glob("*.wav")) == []  # the audio goes with the extension, not only the row


def test_voicemail_destination_needs_voicemail_enabled(stack):
    tenant, api = stack.new_tenant("kobi")
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "B", "voicemail": True})
    path = f"/tenants/{tenant['id']}/numbers"
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/number-allocations", {"number": "+908505556002"})
    refused = api.post(path, json={"number": "+908505556002", "destination": {"type": "voicemail", "extension": "101"}})
    assert refused.status_code == 422
    api.ok("POST", path, {"number": "+908505556002", "destination": {"type": "voicemail", "extension": "102"}})
    ext_b = api.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"][1]
    switched_off = api.patch(f"/tenants/{tenant['id']}/extensions/{ext_b['id']}", json={"voicemail": False})
    assert switched_off.status_code == 409 and "+908505556002" in switched_off.json()["error"]["message"]
