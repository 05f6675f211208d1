"""Operations against the real Asterisk: trunks qualified with OPTIONS, reachability from
AMI ContactStatus, a fault opened by an unreachable carrier, notices by SMS, e-mail and an IVR
call heard by a real phone, resolution when it answers again."""
from __future__ import annotations

from datetime import datetime, timezone

import time

import pytest

from tests.conftest import CARRIER_ADDRESS
from tests.support.calls import wait_for
from tests.support.sip_block import OptionsBlock

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]



def reachable(operator, trunk_id: int, value: bool):
    status = operator.ok("GET", f"/trunks/{trunk_id}/status")
    return status if status["reachable"] is value else None


@pytest.mark.phone
def test_the_carrier_is_qualified_and_its_silence_seen(stack, phones, carrier, carrier_line):
    trunk, _ = carrier_line
    operator = stack.operator
    # Reachable with its round-trip time: after an Asterisk restart (earlier tests) the state is
    # known at login, the RTT at the next qualify.
    status = wait_for(lambda: (s := reachable(operator, trunk["id"], True)) and s["rtt_ms"] is not None and s)
    assert status and status["rtt_ms"] >= 0
    with OptionsBlock(CARRIER_ADDRESS, phones.sip_port(CARRIER_ADDRESS)):
        # qualify every 2 s, a 3 s timeout: unreachable within ~5 s, give it more under load
        down = wait_for(lambda: reachable(operator, trunk["id"], False), timeout=30)
        assert down and down["rtt_ms"] is None and down["since"] > status["since"]
    assert wait_for(lambda: reachable(operator, trunk["id"], True), timeout=30)
    _, tenant_api = stack.new_tenant()
    assert tenant_api.get(f"/trunks/{trunk['id']}/status").status_code == 403
    assert operator.get("/trunks/999999/status").status_code == 404


MOBILE_ADDRESS = "127.0.5.8"  # another carrier: the contact's mobile is reached through it
MOBILE = "+905321112233"


@pytest.fixture
def notice_servers():
    from tests.support.notices import SmsServer, SmtpServer

    sms, smtp = SmsServer(), SmtpServer()
    yield sms, smtp
    sms.close()
    smtp.close()


@pytest.fixture
def mobile_line(stack, phones, carrier):
    """A second trunk with a phone behind it standing for the contact's mobile. The carrier
    is made pjsua's default account again afterwards (a new account takes that over)."""
    trunk = stack.operator.ok("POST", "/trunks", {"name": "Mobil Operatör", "host": MOBILE_ADDRESS,
                                                  "port": phones.sip_port(MOBILE_ADDRESS), "match": [MOBILE_ADDRESS]})
    # Named by the number Asterisk calls, so pjsua hands the call to this account.
    phone = phones.add_phone(MOBILE, "unused", domain=MOBILE_ADDRESS, register=False, bind_address=MOBILE_ADDRESS,
                             port=phones.sip_port(MOBILE_ADDRESS))
    try:
        yield trunk, phone
    finally:
        stack.operator.delete(f"/trunks/{trunk['id']}")
        phone.remove()
        carrier.make_default()


def system_fault(operator, trunk_id: int, status: str):
    found = [f for f in operator.ok("GET", "/faults")["items"]
             if f["trunk_id"] == trunk_id and f["source"] == "system" and f["status"] == status]
    return found[0] if found else None


def hear_the_notice_call(mobile, path) -> float:
    from tests.support.audio import rms_dbfs

    call = mobile.wait_incoming(timeout=60)
    call.answer()
    call.wait_confirmed()
    call.start_recording(str(path))
    time.sleep(3)
    heard = call.stop_recording()
    call.hangup()
    call.wait_disconnected()
    return rms_dbfs(heard)


@pytest.mark.phone
def test_an_unreachable_carrier_opens_a_kritik_fault_and_its_tenants_are_told(
        stack, phones, carrier, carrier_line, mobile_line, notice_servers, tmp_path):
    (trunk, _), (mobile_trunk, mobile), (sms, smtp) = carrier_line, mobile_line, notice_servers
    operator = stack.operator
    tenant, api = stack.new_tenant()
    try:
        told_of_the_outage(stack, phones, trunk, mobile_trunk, mobile, sms, smtp, tenant, api, tmp_path)
    finally:  # its contacts would be called by any later test's unreachable trunk
        operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)


def told_of_the_outage(stack, phones, trunk, mobile_trunk, mobile, sms, smtp, tenant, api, tmp_path):
    operator = stack.operator
    path = f"/tenants/{tenant['id']}/notice-contacts"
    ivr_alone = {"contacts": [{"name": "Yalnız IVR", "phone": MOBILE, "channels": ["ivr"]}]}
    assert api.request("PUT", path, json=ivr_alone).status_code == 422
    contacts = {"contacts": [{"name": "Ayşe Çelik", "phone": MOBILE, "email": "ayse@example.com",
                              "channels": ["sms", "email", "ivr"]}]}
    assert api.request("PUT", path, json=contacts).status_code == 200
    assert wait_for(lambda: reachable(operator, trunk["id"], True) and reachable(operator, mobile_trunk["id"], True))
    with OptionsBlock(CARRIER_ADDRESS, phones.sip_port(CARRIER_ADDRESS)):
        fault = wait_for(lambda: system_fault(operator, trunk["id"], "open"), timeout=30)
        assert fault and fault["priority"] == "kritik" and fault["reason"] == "trunk_unreachable"
        assert fault["id"] in [f["id"] for f in api.ok("GET", f"/tenants/{tenant['id']}/faults")["items"]]
        assert sms.wait_for(lambda m: m["no"] == MOBILE[3:] and f"#{fault['id']}" in m["msg"])
        mail = smtp.wait_for(lambda m: m["To"] == "ayse@example.com" and f"#{fault['id']}" in m["Subject"])
        assert mail and "Ayşe" not in mail[0]["Subject"] and "arıza" in mail[0].get_content().lower()
        assert hear_the_notice_call(mobile, tmp_path / "notice.wav") > -40.0  # speech, not silence
    resolved = wait_for(lambda: (f := operator.ok("GET", f"/faults/{fault['id']}"))["status"] == "resolved" and f,
                          timeout=30)
    assert resolved and resolved["id"] == fault["id"] and resolved["cause"]
    assert resolved["rfo_due_at"] and resolved["rfo_overdue"] is False
    assert len(sms.wait_for(lambda m: m["no"] == MOBILE[3:] and f"#{fault['id']}" in m["msg"] and "numaralı arıza giderildi" in m["msg"])) == 1
    assert hear_the_notice_call(mobile, tmp_path / "resolved.wav") > -40.0
    # 48 h later with no RFO written: overdue, on the fault and as an event to the tenant.
    stack.sql("UPDATE faults SET resolved_at = :t, rfo_due_at = :d WHERE id = :i",
              t=datetime(2000, 1, 1, tzinfo=timezone.utc), d=datetime(2000, 1, 3, tzinfo=timezone.utc),
              i=fault["id"])
    assert operator.ok("GET", f"/faults/{fault['id']}")["rfo_overdue"] is True
    assert wait_for(lambda: stack.sql("SELECT count(*) FROM events WHERE tenant_id = :t AND type = "
                                        "'fault.deadline_breached'", t=tenant["id"])[0][0] >= 1, timeout=20)
    # nobody told twice: one SMS and one e-mail per event, every attempt logged
    assert len([m for m in sms.messages if f"#{fault['id']}" in m["msg"]]) == 2
    assert len([m for m in smtp.messages if f"#{fault['id']}" in m["Subject"]]) == 2
    assert stack.sql("SELECT count(*) FROM notices WHERE fault_id = :f AND status = 'sent'", f=fault["id"])[0][0] == 6
