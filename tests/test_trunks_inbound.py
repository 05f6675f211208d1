"""Trunks: a carrier (a real phone on its own loopback address) calls a tenant's number."""
from __future__ import annotations

import time

import pytest

from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]


def test_trunk_api(stack, operator):
    trunk = operator.ok("POST", "/trunks", {"name": "T", "host": "sip.example.net", "match": ["192.0.2.0/24"],
                                            "default_outbound": True})
    assert trunk["port"] == 5060 and trunk["match"] == ["192.0.2.0/24"]
    second = operator.ok("POST", "/trunks", {"name": "U", "host": "192.0.2.9", "match": ["192.0.2.9"],
                                             "default_outbound": True})
    assert operator.ok("GET", f"/trunks/{trunk['id']}")["default_outbound"] is False
    assert second["match"] == ["192.0.2.9/32"]
    for bad in ({"host": "a b"}, {"host": "x;y"}, {"host": "x\ny"}, {"match": []}, {"match": ["nope"]},
                {"match": ["1.2.3.4/33"]}, {"port": 0}, {"port": "5060"}, {"match": ["1.2.3.4,5.6.7.8"]}):
        body = {"name": "X", "host": "192.0.2.1", "match": ["192.0.2.1"], **bad}
        assert operator.post("/trunks", json=body).status_code == 422, bad
    _, tenant_api = stack.new_tenant("enterprise")
    assert tenant_api.get("/trunks").status_code == 403
    assert tenant_api.post("/trunks", json={"name": "X", "host": "h", "match": ["192.0.2.1"]}).status_code == 403
    operator.ok("PATCH", f"/trunks/{trunk['id']}", {"match": ["198.51.100.1"]})
    for row in (trunk, second):
        operator.ok("DELETE", f"/trunks/{row['id']}", status=204)



def desk_behind(stack, phones, national: str, **extension_fields):
    """A tenant whose number (given nationally) rings extension 101, registered as a real phone."""
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions",
                 {"number": "101", "name": "Desk", **extension_fields})
    number = stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                               {"number": national, "destination": {"type": "extension", "extension": "101"}})
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert desk.wait_registered() == 200
    return api, f"/tenants/{tenant['id']}/numbers/{number['id']}", desk


@pytest.mark.phone
@pytest.mark.parametrize("spelling", ["+908505550777", "908505550777", "08505550777"])
def test_a_carrier_call_reaches_the_numbers_extension(stack, phones, carrier, spelling):
    api, number_path, desk = desk_behind(stack, phones, "0850 555 07 77")
    try:
        answer_and_hang_up(carrier.call(f"sip:{spelling}@127.0.0.1:{stack.sip_port}"), desk)
    finally:
        desk.remove()
        # The tenant goes, and with it the number's allocation: the next spelling gets it.
        stack.operator.ok("DELETE", number_path.split("/numbers/")[0], status=204)


@pytest.mark.phone
def test_unknown_numbers_and_hostile_uris_from_a_carrier_end_cleanly(stack, carrier):
    """Each is an unknown number (ss-noservice, unanswered, Hangup(1): 404), not the
    failure path, which would answer the call (200) to apologise."""
    for user in ("+908505550000", "1%2c2", "1;evil=1", "123abc", "9" * 40):
        call = carrier.call(f"sip:{user}@127.0.0.1:{stack.sip_port}")
        call.wait_disconnected(timeout=15)
        assert call.last_status_code == 404, (user, call.last_status_code, call.last_reason)


@pytest.mark.phone
def test_a_stranger_cannot_use_the_inbound_route(stack, phones):
    """Only the trunk's addresses are inbound; anyone else is refused before any routing."""
    stranger = phones.add_phone("stranger", "x", register=False, bind_address="127.0.5.8", port=stack.sip_port)
    try:
        call = stranger.call(f"sip:+908505550777@127.0.0.1:{stack.sip_port}")
        call.wait_disconnected(timeout=15)
        assert call.last_status_code in (401, 403, 404)
    finally:
        stranger.remove()


@pytest.mark.phone
def test_with_the_control_plane_down_an_inbound_call_is_still_answered(stack, phones, carrier):
    _, _, desk = desk_behind(stack, phones, "0850 555 06 66")
    time.sleep(1)  # the snapshot follows each change within a moment
    stack.control.stop()
    try:
        answer_and_hang_up(carrier.call(f"sip:08505550666@127.0.0.1:{stack.sip_port}"), desk)
    finally:
        stack.control.start()
        stack.wait_ami()
        desk.remove()


@pytest.mark.phone
def test_hostile_caller_names_from_the_network_are_carried_harmlessly(stack, phones, carrier_line):
    """A caller ID name full of quotes, separators and dialplan syntax reaches the
    extension as a name and nowhere else (the route, AGI and voicemail ignore it)."""
    trunk, _ = carrier_line
    hostile = 'Ali "Veli"; ${EXTEN},|Çağrı\\\\'
    _, _, desk = desk_behind(stack, phones, "+908505550888", voicemail=True)
    spoofer = phones.add_phone("05321234567", "unused", register=False, bind_address="127.0.5.7",
                               port=stack.sip_port, display_name=hostile)
    try:
        call = spoofer.call(f"sip:+908505550888@127.0.0.1:{stack.sip_port}")
        incoming = desk.wait_incoming(timeout=10)
        assert "05321234567" in incoming.remote_uri
        assert "Çağrı" in incoming.remote_display_name  # shown to the agent, as a name only
        incoming.answer(486)  # busy: on to voicemail, which records the caller's number only
        call.wait_confirmed(timeout=15)
        call.hangup()
        call.wait_disconnected()
    finally:
        desk.remove()
        spoofer.remove()
    log = (stack.settings.asterisk_instance_dir / "log" / "messages.log").read_text()
    assert "No application" not in log
