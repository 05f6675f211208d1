"""Issue 13, item 4: tokens listed with their last use, revoked, expiring; failed
authentication throttled per source address; an access-log line per request that
names the token by id, never the token (real control plane)."""
from __future__ import annotations

import http.client
import time
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = [pytest.mark.asterisk]

ATTACKER = "127.0.0.13"  # a loopback address of its own: its throttling touches no other test


def test_tokens_are_listed_revoked_and_expire(stack):
    tenant, api = stack.new_tenant("kobi")
    other, other_api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/tokens"
    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()
    expiring = stack.operator.ok("POST", path, {"expires_at": soon})
    spare = stack.operator.ok("POST", path)
    assert spare["expires_at"] is None and spare["token"].startswith("pbx_")
    api.ok("GET", f"/tenants/{tenant['id']}")
    listed = {t["id"]: t for t in api.ok("GET", path)["items"]}
    assert set(listed) >= {expiring["id"], spare["id"]} and len(listed) == 3
    assert all(set(t) == {"id", "created_at", "expires_at", "last_used_at"} for t in listed.values())
    [own] = [t for t in listed.values() if t["id"] not in (expiring["id"], spare["id"])]
    assert own["last_used_at"] is not None and listed[spare["id"]]["last_used_at"] is None

    assert other_api.get(path).status_code == 404
    assert other_api.delete(f"{path}/{spare['id']}").status_code == 404
    assert other_api.delete(f"/tenants/{other['id']}/tokens/{spare['id']}").status_code == 404
    assert api.post(path).status_code == 403  # only an operator makes tokens
    for bad in ({"expires_at": "2020-01-01T00:00:00Z"}, {"expires_at": "2030-01-01T00:00:00"},
                {"expires_at": "tomorrow"}, {"ttl": 5}):
        assert stack.operator.post(path, json=bad).status_code == 422, bad

    spare_api = stack.operator.as_token(spare["token"])
    assert spare_api.get(f"/tenants/{tenant['id']}").status_code == 200
    api.ok("DELETE", f"{path}/{spare['id']}", status=204)
    assert spare_api.get(f"/tenants/{tenant['id']}").status_code == 401

    expiring_api = stack.operator.as_token(expiring["token"])
    deadline = time.monotonic() + 30
    while expiring_api.get(f"/tenants/{tenant['id']}").status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    refused = expiring_api.get(f"/tenants/{tenant['id']}")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def request_from(stack, address: str, token: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(stack.settings.api_host, stack.settings.api_port, timeout=10,
                                            source_address=(address, 0))
    connection.request("GET", "/api/v1/tenants", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_failed_authentication_is_throttled_per_address(stack):
    statuses = [request_from(stack, ATTACKER, f"pbx_guess{i}").status for i in range(40)]
    assert statuses[0] == 401 and statuses[-1] == 429 and set(statuses) == {401, 429}
    throttled = request_from(stack, ATTACKER, stack.operator.token)  # even a valid token: guessing learns nothing
    assert throttled.status == 429 and int(throttled.getheader("Retry-After")) >= 1
    assert stack.operator.get("/tenants").status_code == 200  # another address is unaffected


def test_every_request_is_logged_with_its_token_id_and_never_the_token(stack):
    tenant, api = stack.new_tenant("kobi")
    [own] = api.ok("GET", f"/tenants/{tenant['id']}/tokens")["items"]
    api.get(f"/tenants/{tenant['id']}/extensions?marker=access-log-test")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = stack.control.log_path.read_text(errors="replace")
        lines = [line for line in log.splitlines() if f"/tenants/{tenant['id']}/extensions" in line]
        if lines:
            break
        time.sleep(0.2)
    assert any(f"token:{own['id']} tenant:{tenant['id']}" in line and " 200 " in line for line in lines), lines
    assert api.token not in log and stack.operator.token not in log and "marker=" not in log
