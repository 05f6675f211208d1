"""SIP brute-force bans against the real Asterisk, with real phones: a scanner on one
address is banned (its packets dropped: no answer at all), a phone elsewhere is unaffected,
and the operator lifts the ban."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]

SCANNER = "127.0.0.9"


def extension(api, tenant_id: int, number: str) -> dict:
    return api.ok("POST", f"/tenants/{tenant_id}/extensions", {"number": number, "name": f"Dahili {number}"})


def wait_ban(operator, address: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ban in operator.ok("GET", "/sip-bans")["items"]:
            if ban["address"] == address:
                return ban
        time.sleep(0.2)
    raise AssertionError(f"{address} was not banned")


def guess_passwords(phone, tries: int) -> int:
    """Wrong passwords, one REGISTER after another; returns how many were answered before
    the ban took them off the air (a REGISTER with no answer at all)."""
    for attempt in range(tries):
        if attempt:
            phone.set_password(f"wrong-{attempt}")
        try:
            assert phone.wait_registered(timeout=4) in (401, 403)
        except TimeoutError:
            return attempt
    return tries


def test_a_password_scanner_is_banned_and_a_phone_elsewhere_is_not(stack, phones):
    stack.operator.ok("PUT", "/sip-bans/allowlist", {"networks": []})  # whatever an earlier test allowed
    tenant, api = stack.new_tenant("kobi")
    victim, caller_ext, callee_ext = (extension(api, tenant["id"], n) for n in ("101", "102", "103"))
    scanner = phones.add_phone(victim["sip"]["username"], "wrong-0", bind_address=SCANNER, port=stack.sip_port)
    returning = None
    try:
        answered = guess_passwords(scanner, 15)
        assert answered >= 10  # the default: 10 failures within 60 s
        ban = wait_ban(stack.operator, SCANNER)
        assert ban["failures"] >= 10 and stack.operator.ok("GET", "/sip-bans")["enforced"]

        # Banned: even the right password gets no answer at all.
        returning = phones.add_phone(victim["sip"]["username"], victim["sip"]["password"], bind_address=SCANNER,
                                     port=stack.sip_port)
        with pytest.raises(TimeoutError):
            returning.wait_registered(timeout=4)

        # A well-behaved phone on another address registers and calls as ever.
        caller = phones.add_phone(caller_ext["sip"]["username"], caller_ext["sip"]["password"], port=stack.sip_port)
        callee = phones.add_phone(callee_ext["sip"]["username"], callee_ext["sip"]["password"], port=stack.sip_port)
        try:
            assert caller.wait_registered() == 200 and callee.wait_registered() == 200
            answer_and_hang_up(caller.call("103"), callee)
        finally:
            caller.remove()
            callee.remove()

        # Lifted by the operator: the REGISTER still being retransmitted gets through.
        assert stack.operator.delete(f"/sip-bans/{ban['id']}").status_code == 204
        assert all(b["address"] != SCANNER for b in stack.operator.ok("GET", "/sip-bans")["items"])
        assert returning.wait_registered(timeout=30) == 200
    finally:
        scanner.remove()
        if returning is not None:
            returning.remove()


def test_operator_sees_lifts_and_allowlists(stack):
    now = datetime.now(timezone.utc)  # as a ban's row is written; read back through the API
    stack.sql("INSERT INTO sip_bans (address, failures, banned_at, expires_at) VALUES "
              "('192.0.2.7', 12, :a, :b), ('198.51.100.1', 10, :a, :b)", a=now, b=now + timedelta(minutes=10))
    bans = {b["address"]: b for b in stack.operator.ok("GET", "/sip-bans")["items"]}
    assert bans["192.0.2.7"]["failures"] == 12 and bans["192.0.2.7"]["expires_at"]
    # Allowlisting a network lifts the bans inside it, and only those.
    put = stack.operator.ok("PUT", "/sip-bans/allowlist", {"networks": ["192.0.2.0/24", "2001:db8::1"]})
    assert put == {"networks": ["192.0.2.0/24", "2001:db8::1/128"]}
    assert stack.operator.ok("GET", "/sip-bans/allowlist") == put
    left = {b["address"] for b in stack.operator.ok("GET", "/sip-bans")["items"]}
    assert "192.0.2.7" not in left and "198.51.100.1" in left
    assert stack.operator.delete(f"/sip-bans/{bans['198.51.100.1']['id']}").status_code == 204
    assert stack.operator.delete(f"/sip-bans/{bans['198.51.100.1']['id']}").status_code == 404  # already lifted
    assert stack.operator.ok("PUT", "/sip-bans/allowlist", {"networks": []}) == {"networks": []}


@pytest.mark.parametrize("body", [
    {"networks": ["127.0.0.1\nDROP"]}, {"networks": ["10.0.0.0/33"]}, {"networks": ["evil.example"]},
    {"networks": ["1.2.3.4; flush ruleset"]}, {"networks": ["\u202e1.2.3.4"]}, {"networks": "10.0.0.0/8"},
    {"networks": [1]}, {}, {"networks": [], "extra": 1}, {"networks": ["10.0.0.0/8"] * 1001}])
def test_hostile_allowlists_are_refused_and_change_nothing(stack, body):
    before = stack.operator.ok("GET", "/sip-bans/allowlist")
    response = stack.operator.request("PUT", "/sip-bans/allowlist", json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"
    assert stack.operator.ok("GET", "/sip-bans/allowlist") == before


def test_sip_bans_are_for_operators_only(stack):
    _, tenant_api = stack.new_tenant("kobi")
    for method, path, body in (("GET", "/sip-bans", None), ("DELETE", "/sip-bans/1", None),
                               ("GET", "/sip-bans/allowlist", None),
                               ("PUT", "/sip-bans/allowlist", {"networks": ["0.0.0.0/0"]})):
        assert tenant_api.request(method, path, json=body).status_code == 403, path
        assert stack.operator.as_token(None).request(method, path, json=body).status_code == 401, path
    for bad in ("x", "0", "-1", "99999999999", "1.5"):
        assert stack.operator.delete(f"/sip-bans/{bad}").status_code == 404, bad
    paths = stack.operator.ok("GET", "/openapi.json")["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/sip-bans/allowlist"]) and "delete" in paths["/api/v1/sip-bans/{ban_id}"]
