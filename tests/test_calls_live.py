"""Call records from the real Asterisk's CDRs: one row per call, whatever happened
to it and to the control plane meanwhile; call quality; reports; isolation."""
from __future__ import annotations

import random
import time

import pytest

from tests.support.calls import answered_call, registered_extensions

pytestmark = [pytest.mark.asterisk, pytest.mark.phone, pytest.mark.realtime]


def office(stack, phones, plan="kobi", numbers=("101", "102"), **tenant_fields):
    tenant, api = stack.new_tenant(plan, **tenant_fields)
    return tenant, api, registered_extensions(stack, phones, api, tenant["id"], numbers)


def calls_of(api, tenant, count: int, timeout: float = 15.0, **params) -> list[dict]:
    """The tenant's call records once there are `count` of them (they arrive from
    Asterisk's events a moment after the call); then a little longer, so an extra
    (duplicated) record would show."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.ok("GET", f"/tenants/{tenant['id']}/calls", params or None)["items"]
        if len(items) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    return api.ok("GET", f"/tenants/{tenant['id']}/calls", params or None)["items"]


def busy_call(caller, callee_phone, target: str):
    call = caller.call(target)
    callee_phone.wait_incoming(timeout=10).answer(486)
    call.wait_disconnected(timeout=15)


def assert_sane_times(item: dict) -> None:
    assert item["started_at"] <= item["ended_at"]
    if item["answered_at"]:
        assert item["started_at"] <= item["answered_at"] <= item["ended_at"]
    assert item["duration_s"] >= item["billsec"] >= 0


def test_answered_internal_call_has_one_record_with_quality(stack, phones):
    tenant, api, (a, b) = office(stack, phones)
    try:
        answered_call(a, b, "102", seconds=3.0, callee_tone=1200.0)
    finally:
        a.remove()
        b.remove()
    [item] = calls_of(api, tenant, 1)
    assert (item["direction"], item["disposition"], item["caller"], item["callee"], item["number"]) == \
        ("internal", "answered", "101", "102", None)
    assert item["answered_at"] and item["recording_id"] is None
    assert_sane_times(item)
    quality = item["quality"]
    assert all(quality[name] is not None and quality[name] >= 0 for name in ("jitter_ms", "loss_percent", "rtt_ms"))


def test_unanswered_and_busy_calls_have_one_record_each(stack, phones):
    tenant, api, (a, b) = office(stack, phones)
    try:
        call = a.call("102")
        b.wait_incoming(timeout=10)
        call.hangup()  # the caller gives up while it rings
        call.wait_disconnected()
        time.sleep(0.5)
        busy_call(a, b, "102")
    finally:
        a.remove()
        b.remove()
    items = calls_of(api, tenant, 2)
    assert sorted(i["disposition"] for i in items) == ["busy", "no_answer"]
    for item in items:
        assert (item["direction"], item["caller"], item["callee"], item["answered_at"], item["billsec"]) == \
            ("internal", "101", "102", None, 0)
        assert_sane_times(item)


def test_refused_international_call_is_an_outbound_record(stack, phones, carrier):
    tenant, api, (a,) = office(stack, phones, numbers=("101",), international_calls=False)
    try:
        call = a.call("00442079460958")
        call.wait_disconnected(timeout=15)
    finally:
        a.remove()
    [item] = calls_of(api, tenant, 1)
    assert (item["direction"], item["disposition"], item["caller"], item["number"]) == \
        ("outbound", "refused", "101", "+442079460958")
    assert item["answered_at"] is None


def test_inbound_call_from_the_carrier(stack, phones, carrier):
    tenant, api, (desk,) = office(stack, phones, numbers=("101",))
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "0850 555 03 31", "destination": {"type": "extension", "extension": "101"}})
    try:
        answered_call(carrier, desk, f"sip:08505550331@127.0.0.1:{stack.sip_port}")
    finally:
        desk.remove()
    [item] = calls_of(api, tenant, 1)
    assert (item["direction"], item["disposition"], item["number"], item["callee"]) == \
        ("inbound", "answered", "+908505550331", "101")
    assert_sane_times(item)
    for spelling in ("08505550331", "908505550331", "+908505550331", "0850 555 03 31", "101"):
        assert [i["id"] for i in calls_of(api, tenant, 1, number=spelling)] == [item["id"]], spelling


def test_a_call_made_while_the_control_plane_is_down_is_recorded_once(stack, phones):
    tenant, api, (a, b) = office(stack, phones)
    time.sleep(1)  # the routing snapshot the dialplan falls back on follows each change within a moment
    stack.control.stop()
    try:
        answered_call(a, b, "102")
    finally:
        stack.control.start()
        stack.wait_ami()
        a.remove()
        b.remove()
    [item] = calls_of(api, tenant, 1)
    assert (item["direction"], item["disposition"], item["caller"], item["callee"]) == \
        ("internal", "answered", "101", "102")
    stack.control.stop()
    stack.control.start()
    stack.wait_ami()
    assert [i["id"] for i in calls_of(api, tenant, 1)] == [item["id"]]


def test_detailed_reports_need_kobi(stack):
    tenant, api = stack.new_tenant("girisimci")
    base = f"/tenants/{tenant['id']}/reports"
    assert api.ok("GET", base + "/basic")["days"] == []
    denied = api.get(base + "/detailed")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "feature_not_in_plan"


def test_reports_count_the_calls(stack, phones):
    tenant, api, (a, b) = office(stack, phones)
    try:
        answered_call(a, b, "102")
        busy_call(a, b, "102")
    finally:
        a.remove()
        b.remove()
    assert len(calls_of(api, tenant, 2)) == 2
    base = f"/tenants/{tenant['id']}/reports"
    days = api.ok("GET", base + "/basic")["days"]
    assert (sum(d["calls"] for d in days), sum(d["answered"] for d in days), sum(d["missed"] for d in days)) == \
        (2, 1, 1)
    detailed = api.ok("GET", base + "/detailed")
    assert detailed["days"] == days
    [per_ext] = [row for row in detailed["per_extension"] if row["extension"] == "101"]
    assert (per_ext["calls"], per_ext["answered"], per_ext["missed"]) == (2, 1, 1)
    assert sum(h["calls"] for h in detailed["per_hour"]) == 2
    assert [m["disposition"] for m in detailed["missed_calls"]] == ["busy"]
    assert detailed["average_wait_s"] is not None and detailed["average_talk_s"] is not None


def test_calls_and_reports_are_isolated_between_tenants(stack, phones):
    tenant, api, (a, b) = office(stack, phones)
    try:
        answered_call(a, b, "102")
    finally:
        a.remove()
        b.remove()
    assert len(calls_of(api, tenant, 1)) == 1
    other, other_api = stack.new_tenant("enterprise")
    for path in ("/calls", "/reports/basic", "/reports/detailed"):
        response = other_api.get(f"/tenants/{tenant['id']}{path}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    assert other_api.ok("GET", f"/tenants/{other['id']}/calls")["items"] == []
    days = other_api.ok("GET", f"/tenants/{other['id']}/reports/basic")["days"]
    assert sum(d["calls"] for d in days) == 0


@pytest.mark.parametrize("params", [
    {"from": "garbage"}, {"to": "2026-11-23"}, {"from": "2026-11-23T10:00:00"}, {"from": "9" * 5000},
    {"number": "1;2"}, {"number": "1,2"}, {"number": "1|2"}, {"number": "101\n"}, {"number": "9" * 60},
    {"number": "' OR 1=1 --"}, {"cursor": "garbage"}, {"cursor": "9" * 500}, {"limit": "0"},
    {"limit": "99999999999999999999"}, {"from": "2026-11-23T10:00:00+03:00", "to": "2026-11-22T10:00:00+03:00"},
    {"from": "9999-12-31T23:59:59-23:59"},
])
def test_hostile_query_parameters_are_invalid_not_errors(stack, params):
    tenant, api = stack.new_tenant("kobi")
    for path in ("/calls", "/reports/basic", "/reports/detailed"):
        response = api.get(f"/tenants/{tenant['id']}{path}", params=params)
        if path != "/calls" and set(params) <= {"number", "cursor", "limit"}:
            assert response.status_code == 200, (path, params)  # reports take no such parameter
            continue
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["error"]["code"] == "invalid"


def test_random_query_values_never_make_a_server_error(stack):
    tenant, api = stack.new_tenant("kobi")
    rng = random.Random(5)
    alphabet = "0123456789+-:TZ .,;|\n\r\t'\"%&=?/\\${}()çğışöü٣\x00\x7f"
    for _ in range(60):
        params = {name: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
                  for name in rng.sample(["from", "to", "number", "cursor", "limit"], rng.randint(1, 3))}
        for path in ("/calls", "/reports/basic", "/reports/detailed"):
            response = api.get(f"/tenants/{tenant['id']}{path}", params=params)
            assert response.status_code in (200, 422), (path, params, response.text)
