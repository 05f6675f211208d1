"""Operations against the real Asterisk: trunks qualified with OPTIONS, reachability from
AMI ContactStatus, a fault opened by an unreachable carrier, notices by SMS, e-mail and an IVR
call heard by a real phone, resolution when it answers again."""
from __future__ import annotations

import time

import pytest

from tests.conftest import CARRIER_ADDRESS
from tests.support.sip_block import OptionsBlock

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]


def wait_until(check, timeout: float = 20.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(step)
    return check()


def reachable(operator, trunk_id: int, value: bool):
    status = operator.ok("GET", f"/trunks/{trunk_id}/status")
    return status if status["reachable"] is value else None


@pytest.mark.phone
def test_the_carrier_is_qualified_and_its_silence_seen(stack, phones, carrier, carrier_line):
    trunk, _ = carrier_line
    operator = stack.operator
    status = wait_until(lambda: reachable(operator, trunk["id"], True))
    assert status and status["rtt_ms"] is not None and status["rtt_ms"] >= 0
    with OptionsBlock(CARRIER_ADDRESS, phones.sip_port(CARRIER_ADDRESS)):
        # qualify every 2 s, a 3 s timeout: unreachable within ~5 s, give it more under load
        down = wait_until(lambda: reachable(operator, trunk["id"], False), timeout=30)
        assert down and down["rtt_ms"] is None and down["since"] > status["since"]
    assert wait_until(lambda: reachable(operator, trunk["id"], True), timeout=30)
    _, tenant_api = stack.new_tenant()
    assert tenant_api.get(f"/trunks/{trunk['id']}/status").status_code == 403
    assert operator.get("/trunks/999999/status").status_code == 404
