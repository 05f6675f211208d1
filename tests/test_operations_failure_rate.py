"""A carrier that refuses calls (503) against the real Asterisk: its call-setup failure rate
jumps, and one Yüksek fault opens for the incident however many calls fail, then resolves
once the failures have left the window (the test stack: 20 s window, 4 calls, 3 s recovery)."""
from __future__ import annotations


import pytest

from tests.support.calls import wait_for

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]

REFUSED_CALLS = 7  # the fault opens at the 4th; the next three must not open more



def failure_faults(operator, trunk_id: int, after_id: int) -> list[dict]:
    return [f for f in operator.ok("GET", "/faults")["items"]
            if f["trunk_id"] == trunk_id and f["reason"] == "failure_rate" and f["id"] > after_id]


@pytest.mark.phone
def test_a_carrier_refusing_calls_opens_one_yuksek_fault_that_resolves_when_it_recovers(
        stack, phones, carrier, carrier_line):
    trunk, _ = carrier_line
    operator = stack.operator
    tenant, api = stack.new_tenant()
    operator.ok("POST", f"/tenants/{tenant['id']}/numbers",  # its caller ID on the way out
                {"number": "+90850557" + str(6000 + tenant["id"]), "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Arayan"})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    carrier.make_default()  # the calls to the carrier's address are its own, not the new phone's
    before = max([f["id"] for f in operator.ok("GET", "/faults")["items"]], default=0)
    try:
        assert phone.wait_registered() == 200
        assert wait_for(lambda: operator.ok("GET", f"/trunks/{trunk['id']}/status")["reachable"])  # routable
        for _ in range(REFUSED_CALLS):
            call = phone.call("02125550011")
            carrier.wait_incoming(timeout=15).answer(503)  # the carrier: service unavailable
            call.wait_disconnected(timeout=15)
        opened = wait_for(lambda: failure_faults(operator, trunk["id"], before), timeout=15)
        assert len(opened) == 1, opened
        fault = opened[0]
        assert fault["priority"] == "yuksek" and fault["source"] == "system" and fault["status"] == "open"
        assert fault["id"] in [f["id"] for f in api.ok("GET", f"/tenants/{tenant['id']}/faults")["items"]]
        resolved = wait_for(lambda: (f := operator.ok("GET", f"/faults/{fault['id']}"))["status"] == "resolved" and f,
                              timeout=60)
        assert resolved and "otomatik" in resolved["cause"]
        assert [f["id"] for f in failure_faults(operator, trunk["id"], before)] == [fault["id"]]
    finally:
        phone.remove()
        for f in failure_faults(operator, trunk["id"], before):  # never left open for later tests
            if f["status"] == "open":
                operator.ok("PATCH", f"/faults/{f['id']}", {"status": "resolved", "cause": "test bitti"})
        operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)
