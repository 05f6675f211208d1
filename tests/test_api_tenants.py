"""Tenants, tokens and extensions through the real API: contract shapes, PATCH, isolation."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]


def test_tenant_shape_and_plan_numbers(operator):
    for plan, limit, retention in (("girisimci", 5, None), ("kobi", 20, 30), ("enterprise", None, 365)):
        tenant = operator.ok("POST", "/tenants", {"name": "Çağrı Şahin", "plan": plan, "extra_extensions": 2})
        assert tenant["name"] == "Çağrı Şahin"
        assert tenant["extension_limit"] == (None if limit is None else limit + 2)
        assert tenant["recording_retention_days"] == retention
        assert tenant["international_calls"] is False
        assert tenant["created_at"].endswith("+03:00")
        assert operator.ok("GET", f"/tenants/{tenant['id']}") == tenant


def test_responses_are_utf8_not_escaped(operator):
    response = operator.post("/tenants", json={"name": "Öğüşçı İĞ", "plan": "kobi"})
    assert "Öğüşçı İĞ".encode() in response.content


def test_plan_change_applies_at_once(stack, operator):
    tenant, api = stack.new_tenant("kobi")
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "10", "name": "A", "record_calls": True})
    changed = operator.ok("PATCH", f"/tenants/{tenant['id']}", {"plan": "girisimci"})
    assert changed["extension_limit"] == 5 and changed["recording_retention_days"] is None
    [ext] = api.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"]
    assert ext["record_calls"] is False  # the plan no longer records
    refused = api.post(f"/tenants/{tenant['id']}/extensions", json={"number": "11", "name": "B", "record_calls": True})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "feature_not_in_plan"


def test_downgrade_below_current_extensions_is_refused(stack, operator):
    tenant, api = stack.new_tenant("kobi")
    for n in range(6):
        api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": f"2{n}", "name": "X"})
    refused = operator.patch(f"/tenants/{tenant['id']}", json={"plan": "girisimci"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "plan_limit"
    assert operator.ok("GET", f"/tenants/{tenant['id']}")["plan"] == "kobi"


def test_patch_changes_only_the_fields_sent(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/extensions"
    ext = api.ok("POST", path, {"number": "301", "name": "Ayşe", "email": "ayse@example.com", "voicemail": True})
    patched = api.ok("PATCH", f"{path}/{ext['id']}", {"name": "Ayşe Yılmaz"})
    assert patched["name"] == "Ayşe Yılmaz"
    for field in ("number", "email", "voicemail", "record_calls"):
        assert patched[field] == ext[field]
    cleared = api.ok("PATCH", f"{path}/{ext['id']}", {"email": None})
    assert cleared["email"] is None and cleared["voicemail"] is True


def test_duplicate_number_is_a_conflict(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/extensions"
    api.ok("POST", path, {"number": "401", "name": "A"})
    again = api.post(path, json={"number": "401", "name": "B"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    other = api.ok("POST", path, {"number": "402", "name": "C"})
    moved = api.patch(f"{path}/{other['id']}", json={"number": "401"})
    assert moved.status_code == 409


def test_sip_credentials(stack):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "501", "name": "A"})
    assert len(ext["sip"]["password"]) >= 16 and ext["sip"]["password"].isalnum()
    assert ext["sip"]["server"] == f"127.0.0.1:{stack.sip_port}" and ext["sip"]["transport"] == "udp"
    shown = api.ok("GET", f"/tenants/{tenant['id']}/extensions/{ext['id']}")
    assert "password" not in shown["sip"]  # shown once; a new one can be issued
    fresh = api.ok("POST", f"/tenants/{tenant['id']}/extensions/{ext['id']}/sip-password", status=200)
    assert fresh["sip"]["password"] != ext["sip"]["password"]


def test_tokens(stack, operator):
    assert operator.as_token(None).get("/tenants").status_code == 401
    assert operator.as_token("pbx_wrong").get("/tenants").json()["error"]["code"] == "unauthorized"
    tenant, api = stack.new_tenant("kobi")
    assert [t["id"] for t in api.ok("GET", "/tenants")["items"]] == [tenant["id"]]
    assert api.post("/tenants", json={"name": "x", "plan": "kobi"}).status_code == 403
    assert api.patch(f"/tenants/{tenant['id']}", json={"plan": "enterprise"}).status_code == 403


def tenant_scoped_requests(tid: int, eid: int) -> list[tuple[str, str, dict | None]]:
    base = f"/tenants/{tid}"
    ext = f"{base}/extensions/{eid}"
    return [
        ("GET", base, None), ("PATCH", base, {"name": "x"}), ("DELETE", base, None),
        ("POST", f"{base}/tokens", None),
        ("GET", f"{base}/extensions", None), ("POST", f"{base}/extensions", {"number": "999", "name": "x"}),
        ("GET", ext, None), ("PATCH", ext, {"name": "x"}), ("DELETE", ext, None),
        ("GET", f"{ext}/status", None), ("POST", f"{ext}/sip-password", None),
    ]


def test_every_tenant_scoped_endpoint_is_404_to_another_tenant(stack, operator):
    victim, victim_api = stack.new_tenant("kobi")
    ext = victim_api.ok("POST", f"/tenants/{victim['id']}/extensions", {"number": "601", "name": "V"})
    _, intruder = stack.new_tenant("enterprise")
    for method, path, body in tenant_scoped_requests(victim["id"], ext["id"]):
        response = intruder.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    # Nothing changed for the victim.
    assert victim_api.ok("GET", f"/tenants/{victim['id']}/extensions/{ext['id']}")["name"] == "V"
    assert len(victim_api.ok("GET", f"/tenants/{victim['id']}/extensions")["items"]) == 1
    # The extension routes check the extension belongs to the tenant in the path.
    _, other_api = stack.new_tenant("kobi")
    other = operator.ok("GET", "/tenants")["items"][-1]
    assert operator.get(f"/tenants/{other['id']}/extensions/{ext['id']}").status_code == 404


def test_delete_tenant_removes_its_extensions(stack, operator):
    tenant, api = stack.new_tenant("kobi")
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "701", "name": "A"})
    operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)
    assert operator.get(f"/tenants/{tenant['id']}").status_code == 404
    assert api.get("/tenants").status_code == 401  # its tokens went with it
