"""Toll-fraud limits against the real Asterisk, with real phones: a tenant capped at two
concurrent calls has its third refused with a message, a `refused` call record and a
`fraud.suspected` event; once a call ends, the next one goes through again."""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from tests.support.audio import rms_dbfs
from tests.test_calls_live import calls_of

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def loud_span_seconds(wav_path: str, floor_dbfs: float = -45.0) -> float:
    """From the first to the last 20 ms window louder than the floor: how long a prompt lasted."""
    data, rate = sf.read(wav_path, dtype="float64", always_2d=True)
    mono = data.mean(axis=1)
    step = rate // 50
    windows = [mono[i:i + step] for i in range(0, len(mono) - step, step)]
    loud = [i for i, w in enumerate(windows) if 20 * np.log10(np.sqrt(np.mean(w ** 2)) + 1e-12) > floor_dbfs]
    return (loud[-1] - loud[0] + 1) / 50 if loud else 0.0


def connected(phone, carrier, number: str):
    call = phone.call(number)
    incoming = carrier.wait_incoming(timeout=10)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    return call, incoming


def to_voicemail(phone, number: str):
    """A call that stays up without a second phone (the test phone has few call slots):
    Asterisk answers for the extension's voicemail, and a tone keeps it recording."""
    call = phone.call(number)
    call.wait_confirmed(timeout=15)
    call.play_tone(700.0)
    return call


def fraud_events(stack, tenant_id: int) -> list[str]:
    return [line for line in stack.control.log_path.read_text().splitlines()
            if "event fraud.suspected" in line and f"tenant={tenant_id} " in line]


def test_the_third_concurrent_call_is_refused_with_a_message(stack, phones, carrier, tmp_path):
    tenant, api = stack.new_tenant("kobi")
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",  # the operator allocates it on the way
                      {"number": "+90850555" + str(6000 + tenant["id"]), "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Boş", "voicemail": True})
    assert stack.operator.ok("PATCH", f"/tenants/{tenant['id']}", {"max_concurrent_calls": 2})[
        "max_concurrent_calls"] == 2
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    up = []
    try:
        assert phone.wait_registered() == 200
        up = [to_voicemail(phone, "102"), to_voicemail(phone, "102")]  # two calls in progress
        before = carrier.incoming_count()
        third = phone.call("02125550013")
        third.wait_state("EARLY", timeout=10)
        heard = str(tmp_path / "refused.wav")
        third.start_recording(heard)
        third.wait_disconnected(timeout=20)
        third.stop_recording()
        assert carrier.incoming_count() == before  # never reached the carrier
        assert rms_dbfs(heard) > -40, "the caller heard silence"
        # "All circuits are busy now" (1.8 s), not the international refusal (2.6 s).
        assert 1.2 < loud_span_seconds(heard) < 2.4

        up.pop().hangup()  # once a call ends, the tenant may call again
        call, incoming = connected(phone, carrier, "02125550014")
        up.append(call)
    finally:
        for call in up:
            call.hangup()
        phone.remove()
    records = calls_of(api, tenant, 4)
    refused = [r for r in records if r["disposition"] == "refused"]
    assert [(r["direction"], r["caller"], r["number"]) for r in refused] == [("outbound", "101", "+902125550013")]
    deadline = time.monotonic() + 10
    while not fraud_events(stack, tenant["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    [event] = fraud_events(stack, tenant["id"])
    assert "'limit': 'concurrent_calls'" in event and "'max': 2" in event


def test_operator_limits_are_the_plans_until_set(stack):
    tenant, api = stack.new_tenant("girisimci")
    assert tenant["max_concurrent_calls"] == 4
    path = f"/tenants/{tenant['id']}"
    assert stack.operator.ok("PATCH", path, {"max_international_minutes": 0})["max_international_minutes"] == 0
    assert stack.operator.ok("PATCH", path, {"max_international_minutes": None})["max_international_minutes"] == 60
    for bad in ({"max_concurrent_calls": 0}, {"max_concurrent_calls": "2"}, {"max_concurrent_calls": 2.5},
                {"max_call_attempts_per_minute": -1}):
        assert stack.operator.patch(path, json=bad).status_code == 422, bad
    assert api.patch(path, json={"max_concurrent_calls": 1000}).status_code == 403  # not the tenant's to raise


def test_attempts_per_minute_and_international_minutes_refuse_outbound_calls(stack, phones, carrier):
    from tests.support.phone import answer_and_hang_up

    tenant, api = stack.new_tenant("kobi", international_calls=True)
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",  # the operator allocates it on the way
                      {"number": "+90850555" + str(6000 + tenant["id"]), "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    stack.operator.ok("PATCH", f"/tenants/{tenant['id']}", {"max_international_minutes": 0,
                                                             "max_call_attempts_per_minute": 2})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        before = carrier.incoming_count()
        phone.call("00442079460958").wait_disconnected(timeout=15)  # no international minutes left today
        answer_and_hang_up(phone.call("02125550011"), carrier)  # national: not counted against them
        phone.call("02125550012").wait_disconnected(timeout=15)  # the third attempt within a minute
        assert carrier.incoming_count() == before + 1
    finally:
        phone.remove()
    refused = [r for r in calls_of(api, tenant, 3) if r["disposition"] == "refused"]
    assert sorted(r["number"] for r in refused) == ["+442079460958", "+902125550012"]
    deadline = time.monotonic() + 10
    while len(fraud_events(stack, tenant["id"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    limits = sorted(e.split("'limit': '")[1].split("'")[0] for e in fraud_events(stack, tenant["id"]))
    assert limits == ["call_attempts_per_minute", "international_minutes"]
