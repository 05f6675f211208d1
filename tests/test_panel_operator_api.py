"""What the operator's and the agent's panel screens added to the API, against the real
control plane and Asterisk: the platform's allocated numbers with their holders (operator;
a reseller its customers' only), a trunk's last-hour figures as JSON, and an agent hearing
the recordings of its own calls, and only those, each play in the KVKK access log."""
from __future__ import annotations

import itertools

import pytest

from tests.support.calls import answered_call, registered_extensions, wait_for
from tests.test_billing_resellers import customer, reseller
from tests.test_users_live import new_user, signed_in

pytestmark = [pytest.mark.asterisk]
_serial = itertools.count(100)  # 0850 557 01 00 on: a range no other test allocates


def fresh_number() -> str:
    n = next(_serial)
    return f"+90850557{n // 100:02d}{n % 100:02d}"


def every_allocation(api) -> list[dict]:
    """All pages, through the cursor."""
    items, path = [], "/number-allocations?limit=7"
    while True:
        page = api.ok("GET", path)
        items += page["items"]
        if not page["next"]:
            return items
        path = f"/number-allocations?limit=7&after={page['next'].replace('+', '%2B')}"


def test_the_operator_lists_every_allocated_number_with_its_holder_and_a_reseller_only_its_customers(stack):
    holder, holder_api = stack.new_tenant("kobi")
    other, other_api = stack.new_tenant("kobi")
    routed, idle, theirs = fresh_number(), fresh_number(), fresh_number()
    for tenant, number in ((holder, routed), (holder, idle), (other, theirs)):
        stack.operator.ok("POST", f"/tenants/{tenant['id']}/number-allocations", {"number": number})
    holder_api.ok("POST", f"/tenants/{holder['id']}/numbers", {"number": routed, "destination": {"type": "hangup"}})

    listed = every_allocation(stack.operator)
    numbers = [row["number"] for row in listed]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))  # the pages neither skip nor repeat
    mine = {row["number"]: row for row in listed if row["number"] in (routed, idle, theirs)}
    assert {(n, r["tenant_id"], r["tenant_name"], r["routed"]) for n, r in mine.items()} == {
        (routed, holder["id"], holder["name"], True), (idle, holder["id"], holder["name"], False),
        (theirs, other["id"], other["name"], False)}
    assert set(mine[idle]) == {"id", "number", "created_at", "tenant_id", "tenant_name", "routed"}

    _, bayi = reseller(stack, "Bayi Numara", "10")
    own = customer(bayi, "Bayi Müşterisi")
    given = fresh_number()
    stack.operator.ok("POST", f"/tenants/{own['id']}/number-allocations", {"number": given})
    assert [(r["number"], r["tenant_id"]) for r in every_allocation(bayi)] == [(given, own["id"])]

    for api, status in ((holder_api, 403), (other_api, 403), (stack.operator.as_token(None), 401)):
        assert api.get("/number-allocations").status_code == status
    for bad in ("after=abc", "after=%2B90850%0a1", "after=908505570100", "limit=0", "limit=501", "limit=x",
                "limit=%D9%A1"):
        refused = stack.operator.get(f"/number-allocations?{bad}")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid", bad


def test_a_trunks_figures_are_the_last_hours_calls_for_the_operator_only(stack, carrier, phones):
    tenant, api = stack.new_tenant("kobi")
    number = fresh_number()
    [desk] = registered_extensions(stack, phones, api, tenant["id"], numbers=("101",))
    try:
        stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                          {"number": number, "destination": {"type": "extension", "extension": "101"}})
        [trunk] = [t for t in stack.operator.ok("GET", "/trunks")["items"] if t["name"] == "Carrier"]
        path = f"/trunks/{trunk['id']}/figures"
        before = stack.operator.ok("GET", path)["calls"]
        call = carrier.call(f"sip:{number}@127.0.0.1:{stack.sip_port}")
        incoming = desk.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        desk.remove()
    figures = wait_for(lambda: (f := stack.operator.ok("GET", path))["calls"] > before and f, timeout=30)
    assert figures["window_s"] == 3600 and figures["calls"] > before, figures
    assert 0 < figures["answer_ratio"] <= 1 and figures["setup_failures"] >= 0
    assert set(figures) == {"window_s", "calls", "answer_ratio", "setup_failures", "jitter_ms", "loss_percent"}

    idle = stack.operator.ok("POST", "/trunks", {"name": "Boşta", "host": "127.0.9.9", "match": ["127.0.9.9"]})
    try:
        assert stack.operator.ok("GET", f"/trunks/{idle['id']}/figures") == {
            "window_s": 3600, "calls": 0, "answer_ratio": None, "setup_failures": 0, "jitter_ms": None,
            "loss_percent": None}
    finally:
        stack.operator.ok("DELETE", f"/trunks/{idle['id']}", status=204)
    assert stack.operator.get(f"/trunks/{idle['id']}/figures").status_code == 404
    assert api.get(path).status_code == 403
    assert stack.operator.get("/trunks/abc/figures").status_code == 404


@pytest.mark.phone
def test_an_agent_hears_its_own_calls_recordings_and_no_one_elses(stack, phones):
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    other, other_api = stack.new_tenant("kobi")
    p101, p102, p103 = registered_extensions(stack, phones, api, tenant["id"], numbers=("101", "102", "103"))
    try:
        answered_call(p101, p102, "102", seconds=1.5)
    finally:
        for phone in (p101, p102, p103):
            phone.remove()
    base = f"/tenants/{tenant['id']}/recordings"
    [recording] = wait_for(lambda: api.ok("GET", base)["items"], timeout=30)
    audio, log = f"{base}/{recording['id']}/audio", f"{base}/{recording['id']}/access-log"
    caller, callee, colleague = (signed_in(stack, new_user(stack, api, "agent", extension=n)) for n in ("101", "102", "103"))

    for agent in (caller, callee):  # both took part in the call
        assert [r["id"] for r in agent.ok("GET", base)["items"]] == [recording["id"]]
        played = agent.get(audio)
        assert played.status_code == 200 and played.content[:4] == b"RIFF"
        assert len(played.content) == recording["size_bytes"]
    actors = [e["actor"] for e in api.ok("GET", log)["items"] if e["action"] == "read"]
    assert actors == [f"user:{caller.signed_in['user']['id']}", f"user:{callee.signed_in['user']['id']}"]

    assert colleague.ok("GET", base)["items"] == []
    assert colleague.ok("GET", f"{base}?extension=101")["items"] == []  # a filter narrows, never widens
    assert colleague.get(audio).status_code == 404
    for method, path, status in (("GET", log, 403), ("DELETE", f"{base}/{recording['id']}", 403),
                                 ("POST", f"{base}/erase", 403), ("GET", f"{base}/access-log/verify", 403),
                                 ("GET", f"/tenants/{other['id']}/recordings", 404)):
        assert caller.request(method, path, json={"number": "101"}).status_code == status, (method, path)
    assert other_api.get(audio).status_code == 404 and other_api.get(base).status_code == 404
    assert len([e for e in api.ok("GET", log)["items"] if e["action"] == "read"]) == 2  # the refusals read nothing
