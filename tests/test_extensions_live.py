"""Extensions are live in the real Asterisk: registration, calls, deletion, isolation."""
from __future__ import annotations

import time

import pytest

from tests.support.audio import dominant_frequency, rms_dbfs
from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.phone, pytest.mark.realtime]


def make_extension(api, tenant_id: int, number: str, **fields) -> dict:
    return api.ok("POST", f"/tenants/{tenant_id}/extensions", {"number": number, "name": f"Ext {number}", **fields})


def register(phones, stack, ext: dict, **kwargs):
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port, **kwargs)
    assert phone.wait_registered(timeout=5) == 200
    return phone


def loudness_until_hangup(call, path) -> float:
    """Records what the caller hears until Asterisk ends the call; its RMS in dBFS."""
    call.start_recording(str(path))
    call.wait_disconnected(timeout=20)
    call.stop_recording()
    return rms_dbfs(str(path))


def test_two_extensions_call_and_hear_each_other(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("girisimci")
    a = make_extension(api, tenant["id"], "101")
    b = make_extension(api, tenant["id"], "102")
    phone_a = register(phones, stack, a)
    phone_b = register(phones, stack, b)
    try:
        status = api.ok("GET", f"/tenants/{tenant['id']}/extensions/{b['id']}/status")
        assert status["registered"] is True and status["contacts"]

        call = phone_a.call("102")
        incoming = phone_b.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        incoming.wait_confirmed(timeout=5)
        recording = str(tmp_path / "heard-at-b.wav")
        incoming.start_recording(recording)
        call.play_tone(1000.0)
        time.sleep(2.5)
        incoming.stop_recording()
        call.hangup()
        incoming.wait_disconnected(timeout=10)
        assert abs(dominant_frequency(recording, skip_seconds=0.5) - 1000.0) < 20
    finally:
        phone_a.remove()
        phone_b.remove()


def test_caller_id_shows_the_extension(stack, phones):
    tenant, api = stack.new_tenant("kobi")
    a = make_extension(api, tenant["id"], "201", name='Çağrı "Şahin" <x>;,|')
    b = make_extension(api, tenant["id"], "202")
    phone_a, phone_b = register(phones, stack, a), register(phones, stack, b)
    try:
        call = phone_a.call("202")
        incoming = phone_b.wait_incoming(timeout=10)
        assert "201" in incoming.remote_uri
        assert "Çağrı" in incoming.remote_display_name
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        phone_a.remove()
        phone_b.remove()


def test_delete_refuses_registration_and_drops_the_existing_one(stack, phones):
    tenant, api = stack.new_tenant("girisimci")
    ext = make_extension(api, tenant["id"], "301")
    phone = register(phones, stack, ext)
    status_path = f"/tenants/{tenant['id']}/extensions/{ext['id']}/status"
    assert api.ok("GET", status_path)["registered"]

    api.ok("DELETE", f"/tenants/{tenant['id']}/extensions/{ext['id']}", status=204)
    assert stack.asterisk.cli("pjsip show contacts").count(ext["sip"]["username"]) == 0
    phone.reregister()
    assert phone.wait_registered(timeout=5) in (401, 403, 404)
    phone.remove()

    # A new extension with the same number is a new SIP identity; the old password is useless.
    again = make_extension(api, tenant["id"], "301")
    assert again["sip"]["username"] != ext["sip"]["username"]
    stale = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert stale.wait_registered(timeout=5) in (401, 403, 404)
    stale.remove()


def test_call_to_another_tenants_extension_is_refused(stack, phones):
    tenant_a, api_a = stack.new_tenant("girisimci")
    tenant_b, api_b = stack.new_tenant("girisimci")
    caller = make_extension(api_a, tenant_a["id"], "401")
    victim = make_extension(api_b, tenant_b["id"], "402")
    phone_a, phone_b = register(phones, stack, caller), register(phones, stack, victim)
    try:
        for target in ("402", victim["sip"]["username"]):
            call = phone_a.call(target)
            call.wait_disconnected(timeout=15)
        assert phone_b.incoming_count() == 0
    finally:
        phone_a.remove()
        phone_b.remove()


def test_unknown_number_hears_an_announcement_then_the_call_ends(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("girisimci")
    ext = make_extension(api, tenant["id"], "501")
    phone = register(phones, stack, ext)
    try:
        call = phone.call("599")
        call.wait_state("EARLY", timeout=10)
        assert loudness_until_hangup(call, tmp_path / "unknown.wav") > -40, "the caller heard silence"
    finally:
        phone.remove()


def test_plan_limit_and_extra_extensions(stack):
    tenant, api = stack.new_tenant("girisimci")
    for i in range(5):
        make_extension(api, tenant["id"], f"6{i}0")
    over = api.post(f"/tenants/{tenant['id']}/extensions", json={"number": "699", "name": "Six"})
    assert over.status_code == 409 and over.json()["error"]["code"] == "plan_limit"
    stack.operator.ok("PATCH", f"/tenants/{tenant['id']}", {"extra_extensions": 1})
    make_extension(api, tenant["id"], "699")
    again = api.post(f"/tenants/{tenant['id']}/extensions", json={"number": "698", "name": "Seven"})
    assert again.json()["error"]["code"] == "plan_limit"


def test_control_plane_down_calls_still_connect_and_the_rest_hear_an_apology(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("girisimci")
    a = make_extension(api, tenant["id"], "701")
    b = make_extension(api, tenant["id"], "702")
    phone_a, phone_b = register(phones, stack, a), register(phones, stack, b)
    time.sleep(1)  # the fallback snapshot is published a moment after each change
    stack.control.stop()
    try:
        answer_and_hang_up(phone_a.call("702"), phone_b)  # from Asterisk's snapshot, without the control plane

        lost = phone_a.call("799")  # nothing to fall back on: answered with an apology, not dead air
        lost.wait_confirmed(timeout=10)
        assert loudness_until_hangup(lost, tmp_path / "failure.wav") > -40, "dead air"
    finally:
        stack.control.start()
        stack.wait_ami()
        phone_a.remove()
        phone_b.remove()
