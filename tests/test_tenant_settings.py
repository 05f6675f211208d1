"""A tenant admin's own settings (GET|PATCH /tenants/{tid}/settings) against the real control
plane: the recording default of new extensions and the KVKK notice, the plan gate, hostile
input, tenants apart, agents refused; and an agent's click-to-call rings its own extension only."""
from __future__ import annotations

import pytest

from tests.support.panel import Browser

pytestmark = [pytest.mark.asterisk]

PASSWORD = "Ayarlar-Parola-2026"


def _signed_in(stack, tenant_id: int, role: str, address: str, **fields) -> Browser:
    email = f"{role}.settings.{tenant_id}@example.com"
    stack.operator.ok("POST", "/users", {"email": email, "name": "Ayşe", "role": role, "tenant_id": tenant_id,
                                         "password": PASSWORD, **fields})
    browser = Browser(stack.operator.base, address)
    assert browser.sign_in(email, PASSWORD).status_code == 200
    return browser


def test_the_tenant_sets_its_recording_default_and_notice_and_new_extensions_follow(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/settings"
    before = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Önce"})
    assert api.ok("GET", path) == {"record_calls": False, "recording_notice": True}
    assert api.ok("PATCH", path, {"record_calls": True}) == {"record_calls": True, "recording_notice": True}
    assert api.ok("PATCH", path, {"recording_notice": False}) == {"record_calls": True, "recording_notice": False}
    shown = api.ok("GET", f"/tenants/{tenant['id']}")
    assert (shown["record_calls"], shown["recording_notice"]) == (True, False)
    after = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Sonra"})
    assert after["record_calls"] is True  # the new default
    assert api.ok("GET", f"/tenants/{tenant['id']}/extensions/{before['id']}")["record_calls"] is False  # kept its own
    assert api.ok("PATCH", path, {}) == {"record_calls": True, "recording_notice": False}


def test_a_plan_without_recording_refuses_the_default_and_changes_nothing(stack):
    tenant, api = stack.new_tenant("girisimci")
    path = f"/tenants/{tenant['id']}/settings"
    refused = api.patch(path, {"record_calls": True, "recording_notice": False})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "feature_not_in_plan"
    assert api.ok("GET", path) == {"record_calls": False, "recording_notice": True}
    assert api.ok("PATCH", path, {"recording_notice": False, "record_calls": False})["recording_notice"] is False


def test_bad_input_is_refused_and_changes_nothing(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/settings"
    for bad in ({"record_calls": "yes"}, {"record_calls": 1}, {"recording_notice": None}, {"plan": "enterprise"},
                {"international_calls": True}, {"record_calls": True, "name": "x\u202e"}, [], "true"):
        refused = api.patch(path, bad)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid", (bad, refused.text)
    not_json = api.request("PATCH", path, data=b"record_calls=1", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422
    assert api.ok("GET", path) == {"record_calls": False, "recording_notice": True}
    assert api.ok("GET", f"/tenants/{tenant['id']}")["plan"] == "kobi"


def test_another_tenant_and_an_agent_are_refused(stack):
    tenant, api = stack.new_tenant("kobi")
    other, other_api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/settings"
    for method, body in (("GET", None), ("PATCH", {"record_calls": True}), ("PATCH", {"bad": 1})):
        response = other_api.request(method, path, json=body)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", (method, body)
    assert other_api.get(f"/tenants/{other['id']}/settings").status_code == 200
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Temsilci"})
    agent = _signed_in(stack, tenant["id"], "agent", "127.0.21.1", extension="101")
    assert agent.get(path).status_code == 403
    assert agent.patch(path, {"recording_notice": False}).status_code == 403
    admin = _signed_in(stack, tenant["id"], "tenant_admin", "127.0.21.2")
    assert admin.request("PATCH", path, json={"recording_notice": False}, csrf=False).status_code == 403
    assert admin.ok("PATCH", path, {"recording_notice": False})["recording_notice"] is False
    assert api.ok("GET", path)["recording_notice"] is False
    spec = stack.operator.get("/openapi.json").json()["paths"]["/api/v1/tenants/{tenant_id}/settings"]
    assert {"200", "403", "404"} <= spec["get"]["responses"].keys()
    assert {"200", "403", "404", "422"} <= spec["patch"]["responses"].keys()


def test_an_agent_places_click_to_calls_from_its_own_extension_only(stack):
    tenant, api = stack.new_tenant("kobi")
    for number in ("101", "102"):
        api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": number, "name": f"Dahili {number}"})
    agent = _signed_in(stack, tenant["id"], "agent", "127.0.21.3", extension="101")
    path = f"/tenants/{tenant['id']}/calls"
    refused = agent.post(path, {"extension": "102", "to": "02125550011"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", refused.text
    # Its own extension passes the agent's check and meets the service's: 101 has no phone registered.
    assert agent.post(path, {"extension": "101", "to": "02125550011"}).status_code == 409
    assert agent.post(path, {"extension": "101", "to": "0212;x"}).status_code == 422
    other, _ = stack.new_tenant("kobi")
    assert agent.post(f"/tenants/{other['id']}/calls", {"extension": "101", "to": "02125550011"}).status_code == 404
