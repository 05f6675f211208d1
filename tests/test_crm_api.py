"""The CRM API against the running control plane: plan gates, credentials checked and
never shown, URLs through the SSRF guard, the on-demand lookup (hostile names come back
as plain data), and tenants kept apart."""
from __future__ import annotations

import pytest

from tests.support.calls import wait_for
from tests.support.crm_dynamics import DynamicsCall
from tests.support.crm_hubspot import TOKEN, HubSpotServer
from tests.support.crm_salesforce import SalesforceCall
from tests.support.crm_zoho import ZohoServer

CONTACT = {"name": "Ayşe Yılmaz", "company": "Çağrı Ltd", "phone": "+905321234567", "order": None}
HOSTILE = "<b>Ali</b>\n<script>alert(1)</script>\r\n=HYPERLINK(\"x\");|..\u202e"


def _put(api, tenant_id, body):
    return api.request("PUT", f"/tenants/{tenant_id}/crm", json=body)


@pytest.fixture(scope="module")
def hubspot():
    server = HubSpotServer(CONTACT)
    yield server
    server.close()


def test_plan_gates_and_refusals(stack, hubspot):
    starter, starter_api = stack.new_tenant("girisimci")
    ok = {"provider": "hubspot", "base_url": hubspot.url, "credentials": {"access_token": TOKEN}}
    response = _put(starter_api, starter["id"], ok)
    assert response.status_code == 403 and response.json()["error"]["code"] == "feature_not_in_plan"
    tenant, api = stack.new_tenant("kobi")
    for provider in ("salesforce", "dynamics"):
        response = _put(api, tenant["id"], {**ok, "provider": provider})
        assert response.status_code == 403 and response.json()["error"]["code"] == "feature_not_in_plan"
    refused = [{**ok, "provider": "pipedrive"}, {**ok, "credentials": {}}, {**ok, "credentials": {"token": "x"}},
               {**ok, "credentials": {"access_token": "a\nb"}}, {**ok, "credentials": {"access_token": 5}},
               {**ok, "credentials": {"Bad Key": "x"}}, {**ok, "extra": 1}, {**ok, "base_url": "ftp://x.example/"},
               {**ok, "base_url": "http://169.254.169.254/"}, {**ok, "base_url": "http://10.0.0.1/"},
               {**ok, "base_url": "http://[fe80::1]/"}, {**ok, "base_url": "http://u:p@127.0.0.1/"},
               {"provider": "zoho", "base_url": hubspot.url,
                "credentials": {"client_id": "a", "client_secret": "b", "refresh_token": "c",
                                "accounts_url": "http://169.254.169.254/"}}]
    for body in refused:
        response = _put(api, tenant["id"], body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid", (body, response.text)
    assert api.get(f"/tenants/{tenant['id']}/crm").status_code == 404  # nothing was stored
    enterprise, enterprise_api = stack.new_tenant("enterprise")
    assert _put(enterprise_api, enterprise["id"], ok).status_code == 200  # Enterprise has the basic CRMs too


def test_connect_show_lookup_disconnect_and_tenants_apart(stack, hubspot):
    tenant, api = stack.new_tenant("kobi")
    other, other_api = stack.new_tenant("kobi")
    base = f"/tenants/{tenant['id']}/crm"
    shown = api.ok("PUT", base, {"provider": "hubspot", "base_url": hubspot.url,
                                 "credentials": {"access_token": TOKEN}}, status=200)
    assert shown["provider"] == "hubspot" and shown["base_url"] == hubspot.url and shown["status"] == "unknown"
    assert TOKEN not in str(shown) and api.ok("GET", base) == shown
    [(sealed,)] = stack.sql("SELECT credentials FROM crm_connections WHERE tenant_id = :t", t=tenant["id"])
    assert TOKEN not in sealed  # encrypted at rest
    found = api.ok("GET", f"{base}/lookup?number=0532 123 45 67")
    assert found == {"number": "+905321234567", "contact": {"name": "Ayşe Yılmaz", "company": "Çağrı Ltd",
                                                            "last_order": None, "url": found["contact"]["url"]}}
    assert api.ok("GET", f"{base}/lookup?number=05329999999") == {"number": "+905329999999", "contact": None}
    for bad in ("", "abc", "0532%0a1234567", "1" * 50):
        assert api.get(f"{base}/lookup?number={bad}").status_code == 422, bad
    for method, path in (("GET", base), ("PUT", base), ("DELETE", base), ("GET", f"{base}/lookup?number=05321234567")):
        response = other_api.request(method, path, json={"provider": "hubspot", "credentials": {"access_token": "x"}})
        assert response.status_code == 404, (method, path, response.text)
    assert other_api.get(f"/tenants/{other['id']}/crm").status_code == 404  # theirs is not other's either
    assert api.get(f"/tenants/{other['id']}/crm/lookup?number=05321234567").status_code == 404
    assert api.request("DELETE", base).status_code == 204
    assert api.get(base).status_code == 404 and api.get(f"{base}/lookup?number=05321234567").status_code == 404
    assert hubspot.problems == []
    spec = stack.operator.get("/openapi.json").json()["paths"]
    assert {"put", "get", "delete"} <= spec["/api/v1/tenants/{tenant_id}/crm"].keys()
    assert "503" in spec["/api/v1/tenants/{tenant_id}/crm/lookup"]["get"]["responses"]


def test_hostile_contact_names_are_passed_on_as_plain_data(stack):
    server = ZohoServer({**CONTACT, "name": HOSTILE, "company": "<img src=x onerror=alert(1)>"})
    tenant, api = stack.new_tenant("kobi")
    try:
        api.ok("PUT", f"/tenants/{tenant['id']}/crm", {"provider": "zoho", "base_url": server.url,
                                                       "credentials": server.credentials}, status=200)
        response = api.get(f"/tenants/{tenant['id']}/crm/lookup?number=%2B905321234567")
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
        contact = response.json()["contact"]
        assert contact["name"] == HOSTILE and contact["company"] == "<img src=x onerror=alert(1)>"
        assert server.tokens_issued and server.problems == []  # the refresh-token grant was used
    finally:
        server.close()


def test_zoho_refreshes_its_token_when_refused_and_stores_it_sealed(stack):
    server = ZohoServer(CONTACT)
    tenant, api = stack.new_tenant("kobi")
    sealed = "SELECT credentials FROM crm_connections WHERE tenant_id = :t"
    try:
        api.ok("PUT", f"/tenants/{tenant['id']}/crm", {"provider": "zoho", "base_url": server.url,
                                                       "credentials": server.credentials}, status=200)
        [(saved,)] = stack.sql(sealed, t=tenant["id"])
        lookup = f"/tenants/{tenant['id']}/crm/lookup?number="
        assert api.ok("GET", lookup + "05321234567")["contact"]["company"] == "Çağrı Ltd"
        assert server.tokens_issued == ["1000.access.1"]
        assert wait_for(lambda: stack.sql(sealed, t=tenant["id"])[0][0] != saved)  # the new token, stored
        [(refreshed,)] = stack.sql(sealed, t=tenant["id"])
        assert "1000.access" not in refreshed and "1000.refresh" not in refreshed  # sealed, not plain
        server.expire_tokens()
        assert api.ok("GET", lookup + "05320000000")["contact"] is None  # 401, refreshed, asked again
        assert server.tokens_issued[-1] == "1000.access.3" and server.problems == []
        searches = [r["path"] for r in server.requests if "/search" in r["path"]]
        assert len(searches) == 1 + 3  # first: Contacts (found); second: Contacts (401), Contacts again, Leads
    finally:
        server.close()


def test_enterprise_connects_salesforce_and_dynamics_and_what_they_refuse_is_a_422(stack):
    tenant, api = stack.new_tenant("enterprise")
    base = f"/tenants/{tenant['id']}/crm"
    with SalesforceCall(CONTACT) as salesforce, DynamicsCall(CONTACT) as dynamics:
        refused = [{"provider": "dynamics", "credentials": dynamics.credentials},  # no public default URL
                   {"provider": "dynamics", "base_url": dynamics.url,
                    "credentials": {**dynamics.credentials, "tenant_id": "../common"}},
                   {"provider": "salesforce", "base_url": salesforce.url,
                    "credentials": {**salesforce.credentials, "api_version": "latest"}},
                   {"provider": "salesforce", "base_url": salesforce.url,
                    "credentials": {**salesforce.credentials, "instance_url": "http://169.254.169.254"}}]
        for body in refused:
            response = _put(api, tenant["id"], body)
            assert response.status_code == 422 and response.json()["error"]["code"] == "invalid", (body, response.text)
        assert api.get(base).status_code == 404  # nothing was stored
        for server in (salesforce, dynamics):
            shown = api.ok("PUT", base, {"provider": server.provider, "base_url": server.url,
                                         "credentials": server.credentials}, status=200)
            assert shown["provider"] == server.provider and server.credentials["client_secret"] not in str(shown)
            found = api.ok("GET", f"{base}/lookup?number=05321234567")["contact"]
            assert (found["name"], found["company"]) == ("Ayşe Yılmaz", "Çağrı Ltd"), server.provider
            assert server.problems == []


@pytest.mark.parametrize("instance", ["http://169.254.169.254", "http://10.0.0.7:8080", "http://[::ffff:10.0.0.7]"])
def test_salesforce_is_not_followed_to_an_instance_url_inside_our_network(stack, instance):
    """The token answer names the host every later request goes to: it passes the same SSRF
    guard as base_url (an address literal never reaches the guarded resolver)."""
    tenant, api = stack.new_tenant("enterprise")
    with SalesforceCall(CONTACT) as salesforce:
        salesforce.instance_url = instance
        api.ok("PUT", f"/tenants/{tenant['id']}/crm", {"provider": "salesforce", "base_url": salesforce.url,
                                                       "credentials": salesforce.credentials}, status=200)
        response = api.get(f"/tenants/{tenant['id']}/crm/lookup?number=05321234567")
        assert response.status_code == 503 and response.json()["error"]["code"] == "crm_unavailable", response.text
        assert [r["path"] for r in salesforce.requests] == ["/services/oauth2/token"]
        assert wait_for(lambda: "may not reach" in str(api.ok("GET", f"/tenants/{tenant['id']}/crm")["last_error"]))
