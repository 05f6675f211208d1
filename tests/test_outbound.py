"""Outbound calls through the default trunk; international only with permission."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def office(stack, phones, international: bool):
    tenant, api = stack.new_tenant("kobi", international_calls=international)
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "+90850555" + str(4000 + tenant["id"]), "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    return tenant, phone, "+90850555" + str(4000 + tenant["id"])


def number_at_carrier(incoming) -> str:
    """The number the carrier was asked to connect: the user part of its leg's To."""
    match = re.search(r"sip:([^@;>]+)@", incoming.local_info["local_uri"])
    assert match, incoming.local_info
    return unquote(match.group(1))


def test_national_call_reaches_the_carrier_with_the_tenants_number(stack, phones, carrier):
    tenant, phone, did = office(stack, phones, international=False)
    try:
        incoming = answer_and_hang_up(phone.call("02125550011"), carrier)
        assert did in incoming.remote_uri  # From: the tenant's number, not the extension
        assert number_at_carrier(incoming) == "+902125550011"
    finally:
        phone.remove()


def test_international_is_refused_without_permission_and_connected_with_it(stack, phones, carrier):
    _, phone, _ = office(stack, phones, international=False)
    try:
        before = carrier.incoming_count()
        call = phone.call("00442079460958")
        call.wait_disconnected(timeout=15)
        assert carrier.incoming_count() == before  # never reached the carrier
    finally:
        phone.remove()
    _, phone, _ = office(stack, phones, international=True)
    try:
        assert number_at_carrier(answer_and_hang_up(phone.call("00442079460958"), carrier)) == "+442079460958"
    finally:
        phone.remove()


def test_emergency_always_goes_out(stack, phones, carrier):
    _, phone, _ = office(stack, phones, international=False)
    try:
        # As dialled: an emergency short number is not made E.164 (the carrier routes it).
        assert number_at_carrier(answer_and_hang_up(phone.call("112"), carrier)) == "112"
    finally:
        phone.remove()
