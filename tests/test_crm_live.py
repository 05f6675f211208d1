"""CRM screen pop and call logging against the real Asterisk with real phones: a carrier
call rings extension 101, whose agent holds the event stream; call.ringing arrives while
the phone still rings, carrying the caller's contact from a local server that speaks the
provider's documented API; the call is logged back afterwards. A CRM that hangs or fails
costs the call nothing. Adding a provider is one entry in PROVIDERS."""
from __future__ import annotations

import pytest

from tests.support.calls import registered_extensions, wait_for
from tests.support.crm_dynamics import DynamicsCall
from tests.support.crm_hubspot import HubSpotServer
from tests.support.crm_salesforce import SalesforceCall
from tests.support.crm_zoho import ZohoServer
from tests.support.events import EventStream

CALLER = "05321234567"  # how the carrier presents the caller; the CRM holds it as +90 532 123 45 67
ORDER = {"id": "SO-1001", "date": "2026-11-20T10:15:00+03:00", "total": "1250.5", "status": "Kargoda"}
CONTACT = {"name": "Ayşe Yılmaz", "company": "Çağrı Ltd", "phone": "+905321234567", "order": ORDER}

# provider -> its local server: `Server(contact)` starts it (tests/support/crm_server.py's CallServer
# on CrmServer); it has `provider`, `url`, `credentials` (what the tenant saves),
# `logged` (call activities received, in the provider's shape), `problems` (requests the provider would
# refuse), `requests`, `mode` ("ok" | "hang" | "fail") and `close()`; and the plan its tenant needs.
PROVIDERS = {"hubspot": (HubSpotServer, "kobi"), "zoho": (ZohoServer, "kobi"),
             "salesforce": (SalesforceCall, "enterprise"), "dynamics": (DynamicsCall, "enterprise")}
# Every CRM's order as call.ringing shows it: the total with two places; the date as the CRM keeps it
# (a Salesforce Order's EffectiveDate is a date, Dynamics answers in UTC), so its day is compared.
SHOWN_ORDER = {"id": "SO-1001", "total": "1250.50", "status": "Kargoda"}
_numbers = iter(range(20, 100))


def _of(type, **data):
    return lambda e: e["type"] == type and all(e["data"].get(k) == v for k, v in data.items())


@pytest.fixture(scope="module")
def caller(stack, phones, carrier_line):
    """A second account on the carrier's address (so Asterisk takes it for the carrier trunk)
    whose calls present CALLER as the caller's number."""
    phone = phones.add_phone(CALLER, "unused", register=False, bind_address="127.0.5.7", port=stack.sip_port)
    yield phone
    phone.remove()


def _desk_with_crm(stack, phones, server, plan="kobi"):
    """A tenant whose number rings extension 101 (a registered phone), its CRM the server."""
    tenant, api = stack.new_tenant(plan)
    [desk] = registered_extensions(stack, phones, api, tenant["id"], numbers=("101",))
    did = f"+9085055560{next(_numbers):02d}"
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": did, "destination": {"type": "extension", "extension": "101"}})
    api.ok("PUT", f"/tenants/{tenant['id']}/crm",
           {"provider": server.provider, "base_url": server.url, "credentials": server.credentials}, status=200)
    return tenant, api, desk, did


def _disconnect(api, tenant) -> None:
    """What this tenant still owes its CRM is dropped, not sent to the next test's server on this port."""
    api.request("DELETE", f"/tenants/{tenant['id']}/crm")


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_ringing_carries_the_contact_before_the_answer_and_the_call_is_logged(stack, phones, carrier, caller,
                                                                             provider):
    make_server, plan = PROVIDERS[provider]
    server = make_server(CONTACT)
    tenant, api, desk, did = _desk_with_crm(stack, phones, server, plan)
    agent = EventStream(stack.operator.base, tenant["id"], api.token, query="extension=101")
    try:
        call = caller.call(f"sip:{did}@127.0.0.1:{stack.sip_port}")
        incoming = desk.wait_incoming(timeout=15)
        ringing = agent.wait_for(_of("call.ringing", extension="101"), timeout=20)
        assert ringing, agent.events  # while the phone still rings: nobody has answered yet
        assert ringing["data"]["direction"] == "inbound" and ringing["data"]["number"] == did
        contact = ringing["data"]["contact"]
        order = contact["last_order"]
        assert (contact["name"], contact["company"]) == ("Ayşe Yılmaz", "Çağrı Ltd") and contact["url"]
        assert set(contact) == {"name", "company", "last_order", "url"}
        assert {k: order[k] for k in SHOWN_ORDER} == SHOWN_ORDER and order["date"][:10] == ORDER["date"][:10]
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call_id = ringing["data"]["call_id"]
        answered = agent.wait_for(_of("call.answered", call_id=call_id))
        assert answered and answered["seq"] > ringing["seq"], agent.events
        call.hangup()
        incoming.wait_disconnected(timeout=10)
        ended = agent.wait_for(_of("call.ended", call_id=call_id), timeout=60)
        assert ended and ended["seq"] > answered["seq"], agent.events
        record = api.ok("GET", f"/tenants/{tenant['id']}/calls")["items"][0]
        assert ended["data"]["call_record_id"] == record["id"]
        assert wait_for(lambda: server.logged, timeout=30), server.requests
        assert server.problems == []
        status = api.ok("GET", f"/tenants/{tenant['id']}/crm")
        assert status["status"] == "ok" and "credentials" not in status
    finally:
        _disconnect(api, tenant)
        agent.close()
        desk.remove()
        server.close()


@pytest.mark.parametrize("mode", ["hang", "fail"])
def test_a_crm_that_hangs_or_fails_costs_the_call_nothing(stack, phones, carrier, caller, mode):
    server = HubSpotServer(CONTACT)
    server.mode = mode
    tenant, api, desk, did = _desk_with_crm(stack, phones, server)
    agent = EventStream(stack.operator.base, tenant["id"], api.token)
    try:
        call = caller.call(f"sip:{did}@127.0.0.1:{stack.sip_port}")
        incoming = desk.wait_incoming(timeout=15)  # it rings as usual
        incoming.answer()
        call.wait_confirmed(timeout=10)
        ringing = agent.wait_for(_of("call.ringing", extension="101"), timeout=20)
        assert ringing and "contact" not in ringing["data"], agent.events
        assert agent.wait_for(_of("call.answered", call_id=ringing["data"]["call_id"]))
        call.hangup()
        incoming.wait_disconnected(timeout=10)
        assert agent.wait_for(_of("call.ended", call_id=ringing["data"]["call_id"]), timeout=60)
        assert server.requests  # it was asked
        assert wait_for(lambda: api.ok("GET", f"/tenants/{tenant['id']}/crm")["status"] == "failing", timeout=20)
        if mode == "fail":  # the call log is owed, survives a restart, and arrives once the CRM is back
            owed = "SELECT status FROM crm_call_logs WHERE tenant_id = :t"
            assert wait_for(lambda: stack.sql(owed, t=tenant["id"]), timeout=30) == [("pending",)]
            agent.close()  # an open stream holds the control plane's shutdown up (its runner waits for it)
            stack.control.stop()
            server.mode = "ok"
            stack.control.start()
            stack.wait_ami(60)
            assert wait_for(lambda: stack.sql(owed, t=tenant["id"]) == [("logged",)], timeout=90)
            assert len(server.logged) == 1 and server.problems == []
    finally:
        _disconnect(api, tenant)
        agent.close()
        desk.remove()
        server.close()
