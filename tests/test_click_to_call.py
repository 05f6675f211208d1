"""Click-to-call against the real Asterisk with real phones: the extension's phone rings
first, answers, and the carrier then receives the call with the tenant's number; audio
flows both ways; the call's events carry the call_id the API answered with. And the
refusals: hostile or unknown input, the tenant's rules, another tenant."""
from __future__ import annotations

import time

import pytest

from tests.support.audio import dominant_frequency
from tests.support.events import EventStream
from tests.test_outbound import number_at_carrier

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def _office(stack, phones, international=False):
    tenant, api = stack.new_tenant("kobi", international_calls=international)
    did = "+90850556" + str(4000 + tenant["id"])
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers", {"number": did, "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    return tenant, api, phone, did


def _of(type, call_id):
    return lambda e: e["type"] == type and e["data"]["call_id"] == call_id


def test_click_to_call_rings_the_extension_then_the_carrier_with_audio_and_events(stack, phones, carrier, tmp_path):
    tenant, api, phone, did = _office(stack, phones)
    stream = EventStream(stack.operator.base, tenant["id"], api.token)
    try:
        before = carrier.incoming_count()
        call_id = api.ok("POST", f"/tenants/{tenant['id']}/calls", {"extension": "101", "to": "0212 555 00 11"},
                         status=202)["call_id"]
        agent = phone.wait_incoming(timeout=15)  # the extension rings first
        assert "02125550011" in agent.remote_uri  # it shows the number it is about to call
        ringing = stream.wait_for(_of("call.ringing", call_id))
        assert ringing and ringing["data"]["extension"] == "101" and ringing["data"]["callee"] == "02125550011"
        assert carrier.incoming_count() == before  # nobody dialled out before the agent answers
        agent.answer()
        far = carrier.wait_incoming(timeout=15)
        assert number_at_carrier(far) == "+902125550011" and did in far.remote_uri  # the tenant's normal rules
        far.answer()
        agent.wait_confirmed(timeout=10)
        far.wait_confirmed(timeout=10)
        agent.play_tone(700.0)
        far.play_tone(1300.0)
        heard_by_far, heard_by_agent = tmp_path / "far.wav", tmp_path / "agent.wav"
        far.start_recording(str(heard_by_far))
        agent.start_recording(str(heard_by_agent))
        time.sleep(2.5)
        far.stop_recording()
        agent.stop_recording()
        assert abs(dominant_frequency(str(heard_by_far), skip_seconds=0.5) - 700.0) < 30
        assert abs(dominant_frequency(str(heard_by_agent), skip_seconds=0.5) - 1300.0) < 30
        assert stream.wait_for(_of("call.answered", call_id)), stream.events
        agent.hangup()
        far.wait_disconnected(timeout=10)
        ended = stream.wait_for(_of("call.ended", call_id), timeout=60)
        assert ended, (call_id, stream.events, api.ok("GET", f"/tenants/{tenant['id']}/calls"))
        assert ended["data"]["direction"] == "outbound" and ended["data"]["disposition"] == "answered"
        record = api.ok("GET", f"/tenants/{tenant['id']}/calls")["items"][0]
        assert record["id"] == ended["data"]["call_record_id"] and record["caller"] == "101"
    finally:
        stream.close()
        phone.remove()


def test_click_to_call_refusals_and_tenants_apart(stack, phones, carrier):
    tenant, api, phone, _ = _office(stack, phones)
    other, other_api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/calls"
    try:
        before = (phone.incoming_count(), carrier.incoming_count())
        for to in ("0212\r\nAction: Command", "0212;x", "0212,1", "02|12", "0212\x00", "0212&PJSIP/x",
                   "abc", "", "0" * 40, "*99#", 212):
            response = api.post(path, {"extension": "101", "to": to})
            assert response.status_code == 422 and response.json()["error"]["code"] == "invalid", (to, response.text)
        for ext in ("999", "1;0", "0", 101):
            assert api.post(path, {"extension": ext, "to": "02125550011"}).status_code == 422, ext
        assert api.post(path, {"extension": "101"}).status_code == 422
        assert api.post(path, {"extension": "101", "to": "101"}).status_code == 422  # itself
        international = api.post(path, {"extension": "101", "to": "00442079460958"})
        assert international.status_code == 403 and international.json()["error"]["code"] == "feature_not_in_plan"
        assert other_api.post(path, {"extension": "101", "to": "02125550011"}).status_code == 404
        time.sleep(1)
        assert (phone.incoming_count(), carrier.incoming_count()) == before  # nothing rang
        unregistered = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Boş"})
        assert unregistered and api.post(path, {"extension": "102", "to": "101"}).status_code == 409
        spec = stack.operator.get("/openapi.json").json()["paths"]["/api/v1/tenants/{tenant_id}/calls"]["post"]
        assert {"202", "403", "404", "409", "422"} <= spec["responses"].keys()
    finally:
        phone.remove()

