"""SIP over TLS with SRTP media, against the real Asterisk with real phones. The test stack's
TLS transport uses a self-signed certificate made for the session (tests/support/tls.py)."""
from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from tests.support.audio import dominant_frequency

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def test_extension_sip_details_list_both_transports(stack):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    assert ext["sip"]["transports"] == [
        {"protocol": "udp", "server": f"127.0.0.1:{stack.sip_port}"},
        {"protocol": "tls", "server": f"127.0.0.1:{stack.settings.sip_tls_port}"},
    ]
    assert ext["sip"]["transport"] == "udp" and ext["sip"]["srtp"] == "optional"


@contextmanager
def tls_and_udp_phones(stack, phones, srtp: str):
    """Extension 101 registered over TLS (SRTP `srtp`), 102 over UDP, in a new tenant."""
    tenant, api = stack.new_tenant("kobi")
    secure, plain = (api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": n, "name": f"Dahili {n}"})
                     for n in ("101", "102"))
    tls_phone = phones.add_phone(secure["sip"]["username"], secure["sip"]["password"],
                                 port=stack.settings.sip_tls_port, tls=True, srtp=srtp)
    udp_phone = phones.add_phone(plain["sip"]["username"], plain["sip"]["password"], port=stack.sip_port)
    try:
        assert tls_phone.wait_registered(timeout=10) == 200
        assert udp_phone.wait_registered() == 200
        yield tls_phone, udp_phone
    finally:
        tls_phone.remove()
        udp_phone.remove()


def test_a_tls_phone_with_srtp_calls_a_plain_udp_phone_and_both_hear(stack, phones, tmp_path):
    # SRTP mandatory on this phone: the call is only set up if Asterisk accepts SRTP (SDES).
    with tls_and_udp_phones(stack, phones, "mandatory") as (tls_phone, udp_phone):
        both_hear(tls_phone.call("102"), udp_phone, tmp_path)


def test_a_plain_phone_reaches_a_phone_registered_over_tls(stack, phones, tmp_path):
    """Asterisk calls a phone over the transport it registered on (the endpoint pins none);
    its offer is plain RTP with SRTP keys (optimistic), which an SRTP-optional phone takes."""
    with tls_and_udp_phones(stack, phones, "optional") as (tls_phone, udp_phone):
        both_hear(udp_phone.call("101"), tls_phone, tmp_path)


def both_hear(call, callee, tmp_path) -> None:
    """callee answers; each side plays its own tone and hears the other's."""
    incoming = callee.wait_incoming(timeout=10)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    call.play_tone(600.0)
    incoming.play_tone(1000.0)
    heard_by_caller, heard_by_callee = str(tmp_path / "caller.wav"), str(tmp_path / "callee.wav")
    call.start_recording(heard_by_caller)
    incoming.start_recording(heard_by_callee)
    time.sleep(2.0)
    call.stop_recording()
    incoming.stop_recording()
    call.hangup()
    incoming.wait_disconnected()
    assert abs(dominant_frequency(heard_by_caller, skip_seconds=0.5) - 1000.0) < 20
    assert abs(dominant_frequency(heard_by_callee, skip_seconds=0.5) - 600.0) < 20
