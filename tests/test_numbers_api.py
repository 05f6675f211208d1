"""Numbers (DIDs) and destinations through the API; a number dialled from inside is routed."""
from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]
_serial = itertools.count(8000)  # 0850 555 80 00 on: a range no other test routes


def fresh_number() -> tuple[str, str]:
    """A national spelling and its E.164 form."""
    n = next(_serial)
    return f"0850 555 {n // 100:02d} {n % 100:02d}", f"+90850555{n // 100:02d}{n % 100:02d}"


def allocated(stack, tenant_id: int) -> tuple[str, str]:
    """A fresh number the operator has allocated to the tenant (it may route it)."""
    national, e164 = fresh_number()
    stack.operator.ok("POST", f"/tenants/{tenant_id}/number-allocations", {"number": national})
    return national, e164


def test_number_is_stored_in_e164_and_held_by_one_tenant(stack):
    tenant, api = stack.new_tenant("kobi")
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    national, e164 = allocated(stack, tenant["id"])
    created = api.ok("POST", f"/tenants/{tenant['id']}/numbers",
                     {"number": national, "destination": {"type": "extension", "extension": "101"}})
    assert created["number"] == e164
    assert created["destination"] == {"type": "extension", "extension": "101"}
    other, other_api = stack.new_tenant("kobi")
    for spelling in (e164, e164[1:], "0" + e164[3:]):
        taken = other_api.post(f"/tenants/{other['id']}/numbers",
                               json={"number": spelling, "destination": {"type": "hangup"}})
        assert taken.status_code == 409, spelling
    assert api.ok("GET", f"/tenants/{tenant['id']}/numbers/{created['id']}") == created
    assert other_api.get(f"/tenants/{tenant['id']}/numbers/{created['id']}").status_code == 404
    assert other_api.get(f"/tenants/{other['id']}/numbers/{created['id']}").status_code == 404


def test_a_tenant_routes_only_numbers_allocated_to_it(stack):
    """Issue 13, item 3: no claiming of free numbers, and another tenant's number
    answers exactly like any unallocated one (the 409 names no holder)."""
    holder, holder_api = stack.new_tenant("kobi")
    tenant, api = stack.new_tenant("kobi")
    _, held = allocated(stack, holder["id"])
    holder_api.ok("POST", f"/tenants/{holder['id']}/numbers", {"number": held, "destination": {"type": "hangup"}})
    _, free = fresh_number()
    path = f"/tenants/{tenant['id']}/numbers"
    answers = []
    for number in (free, held):
        response = api.post(path, json={"number": number, "destination": {"type": "hangup"}})
        assert response.status_code == 409, response.text
        answers.append(response.json()["error"]["message"].replace(number, "N"))
    assert answers[0] == answers[1] and str(holder["id"]) not in answers[1]
    assert api.ok("GET", path)["items"] == []

    allocations = f"/tenants/{tenant['id']}/number-allocations"
    assert api.post(allocations, json={"number": free}).status_code == 403  # only an operator allocates
    assert stack.operator.post(allocations, json={"number": held}).status_code == 409
    given = stack.operator.ok("POST", allocations, {"number": free})
    assert given["number"] == free and api.ok("GET", allocations)["items"] == [given]
    assert holder_api.get(allocations).status_code == 404
    assert holder_api.get(f"/tenants/{holder['id']}/number-allocations/{given['id']}").status_code in (404, 405)
    routed = api.ok("POST", path, {"number": free, "destination": {"type": "hangup"}})
    assert stack.operator.delete(f"{allocations}/{given['id']}").status_code == 409  # still routed
    assert api.delete(f"{allocations}/{given['id']}").status_code == 403
    api.ok("DELETE", f"{path}/{routed['id']}", status=204)
    stack.operator.ok("DELETE", f"{allocations}/{given['id']}", status=204)
    assert api.post(path, json={"number": free, "destination": {"type": "hangup"}}).status_code == 409
    for bad in ("abc", "+90 850\n1234567", "", 5, None):
        assert stack.operator.post(allocations, json={"number": bad}).status_code == 422, bad


def test_destinations_must_name_what_exists_in_the_tenant(stack):
    tenant, api = stack.new_tenant("girisimci")
    other, other_api = stack.new_tenant("kobi")
    other_api.ok("POST", f"/tenants/{other['id']}/extensions", {"number": "555", "name": "Other's"})
    path = f"/tenants/{tenant['id']}/numbers"
    for dest in ({"type": "extension", "extension": "555"}, {"type": "announcement", "prompt_id": 1},
                 {"type": "ivr", "ivr_id": 1}, {"type": "ring_group", "ring_group_id": 1},
                 {"type": "nope"}, {"type": "extension", "extension": "1;2"}, {}):
        response = api.post(path, json={"number": allocated(stack, tenant["id"])[0], "destination": dest})
        assert response.status_code == 422, (dest, response.text)
    schedule = {"type": "schedule", "schedule_id": 1, "open": {"type": "hangup"}, "closed": {"type": "hangup"}}
    gated = api.post(path, json={"number": allocated(stack, tenant["id"])[0], "destination": schedule})
    assert gated.status_code == 403 and gated.json()["error"]["code"] == "feature_not_in_plan"
    for bad in ("abc", "0850", "+90 850\n1234567", "1" * 40):
        assert api.post(path, json={"number": bad, "destination": {"type": "hangup"}}).status_code == 422
    assert api.ok("GET", path)["items"] == []


def test_a_referenced_extension_cannot_be_deleted(stack):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    number = api.ok("POST", f"/tenants/{tenant['id']}/numbers",
                    {"number": allocated(stack, tenant["id"])[0],
                     "destination": {"type": "extension", "extension": "101"}})
    refused = api.delete(f"/tenants/{tenant['id']}/extensions/{ext['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    api.ok("PATCH", f"/tenants/{tenant['id']}/numbers/{number['id']}", {"destination": {"type": "hangup"}})
    api.ok("DELETE", f"/tenants/{tenant['id']}/extensions/{ext['id']}", status=204)


@pytest.mark.phone
def test_dialling_the_tenants_own_number_reaches_its_destination(stack, phones):
    tenant, api = stack.new_tenant("kobi")
    a = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    b = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "B"})
    _, e164 = allocated(stack, tenant["id"])
    api.ok("POST", f"/tenants/{tenant['id']}/numbers",
           {"number": e164, "destination": {"type": "extension", "extension": "102"}})
    phone_a = phones.add_phone(a["sip"]["username"], a["sip"]["password"], port=stack.sip_port)
    phone_b = phones.add_phone(b["sip"]["username"], b["sip"]["password"], port=stack.sip_port)
    try:
        assert phone_a.wait_registered() == 200 and phone_b.wait_registered() == 200
        call = phone_a.call("0" + e164[3:])  # as an employee dials it: national format
        incoming = phone_b.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        call.hangup()
        incoming.wait_disconnected()
    finally:
        phone_a.remove()
        phone_b.remove()
