"""Ring groups: all at once, one after another, then the next destination."""
from __future__ import annotations

import time

import pytest

from tests.support.audio import dominant_frequency
from tests.test_ivr import prompt

pytestmark = [pytest.mark.asterisk]


def team(stack, phones, numbers=("201", "202")):
    tenant, api = stack.new_tenant("kobi")
    exts = [api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": n, "name": f"Agent {n}"})
            for n in numbers]
    handsets = [phones.add_phone(e["sip"]["username"], e["sip"]["password"], port=stack.sip_port) for e in exts]
    for handset in handsets:
        assert handset.wait_registered() == 200
    return tenant, api, handsets


def route_number(stack, api, tenant_id, did, dest):
    stack.operator.ok("POST", f"/tenants/{tenant_id}/numbers", {"number": did, "destination": dest})


@pytest.mark.phone
def test_all_ring_the_first_to_answer_wins(stack, phones, carrier):
    tenant, api, (a, b) = team(stack, phones)
    try:
        group = api.ok("POST", f"/tenants/{tenant['id']}/ring_groups",
                       {"name": "Satış", "extensions": ["201", "202"], "strategy": "all", "ring_seconds": 20})
        route_number(stack, api, tenant["id"], "+908505553001", {"type": "ring_group", "ring_group_id": group["id"]})
        call = carrier.call(f"sip:+908505553001@127.0.0.1:{stack.sip_port}")
        ring_a, ring_b = a.wait_incoming(timeout=10), b.wait_incoming(timeout=10)
        ring_b.answer()
        call.wait_confirmed(timeout=10)
        ring_a.wait_disconnected(timeout=10)  # the other phone stops ringing
        assert ring_b.state == "CONFIRMED"
        call.hangup()
        ring_b.wait_disconnected()
    finally:
        a.remove()
        b.remove()


@pytest.mark.phone
def test_sequential_then_next_destination(stack, phones, carrier, tmp_path):
    tenant, api, (a, b) = team(stack, phones)
    try:
        goodbye = prompt(api, tenant["id"], 600.0, 3.0)
        group = api.ok("POST", f"/tenants/{tenant['id']}/ring_groups", {
            "name": "Destek", "extensions": ["201", "202"], "strategy": "sequential", "ring_seconds": 5,
            "next_destination": {"type": "announcement", "prompt_id": goodbye}})
        route_number(stack, api, tenant["id"], "+908505553002", {"type": "ring_group", "ring_group_id": group["id"]})
        call = carrier.call(f"sip:+908505553002@127.0.0.1:{stack.sip_port}")
        first = a.wait_incoming(timeout=10)
        time.sleep(1)
        assert b.incoming_count() == 0  # one after another
        first.wait_disconnected(timeout=10)
        second = b.wait_incoming(timeout=5)
        second.wait_disconnected(timeout=10)
        call.wait_confirmed(timeout=10)  # nobody answered: the next destination answers
        call.start_recording(str(tmp_path / "next.wav"))
        time.sleep(1.5)
        assert abs(dominant_frequency(call.stop_recording(), skip_seconds=0.3) - 600) < 20
        call.hangup()
    finally:
        a.remove()
        b.remove()


def test_ring_group_api(stack):
    tenant, api = stack.new_tenant("kobi")
    tid = tenant["id"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "301", "name": "A"})
    path = f"/tenants/{tid}/ring_groups"
    for bad in ({"extensions": []}, {"extensions": ["999"]}, {"extensions": ["301", "301"]},
                {"strategy": "random"}, {"ring_seconds": 1}, {"ring_seconds": "20"},
                {"next_destination": {"type": "ivr", "ivr_id": 5}}):
        assert api.post(path, json={"name": "x", "extensions": ["301"], **bad}).status_code == 422, bad
    group = api.ok("POST", path, {"name": "G", "extensions": ["301"]})
    assert (group["strategy"], group["ring_seconds"]) == ("all", 20)
    assert api.delete(f"/tenants/{tid}/extensions/{ext['id']}").status_code == 409  # a member
    number = stack.operator.ok("POST", f"/tenants/{tid}/numbers", {
        "number": "+908505553003", "destination": {"type": "ring_group", "ring_group_id": group["id"]}})
    assert api.delete(f"{path}/{group['id']}").status_code == 409
    api.ok("DELETE", f"/tenants/{tid}/numbers/{number['id']}", status=204)
    api.ok("DELETE", f"{path}/{group['id']}", status=204)
    _, intruder = stack.new_tenant("kobi")
    assert intruder.get(f"{path}/{group['id']}").status_code == 404
