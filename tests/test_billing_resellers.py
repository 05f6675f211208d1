"""Resellers (seed 004's B2B sub-agents) through the real API: a reseller token creates and
manages its own customers only, sees their invoices at its wholesale price, and every
tenant-scoped endpoint answers 404 for another reseller's customer (a matrix over the
route table, so a new endpoint is covered the day it is added)."""
from __future__ import annotations

import re

from pbx.api.app import all_routes
from tests.test_jobs_import import csv_body, start_import, wait_job

BODIES = {
    ("PATCH", "/tenants/{tenant_id}"): {"name": "x"},
    ("POST", "/tenants/{tenant_id}/tokens"): {},
    ("POST", "/tenants/{tenant_id}/extensions"): {"number": "901", "name": "x"},
    ("PATCH", "/tenants/{tenant_id}/extensions/{extension_id}"): {"name": "x"},
    ("POST", "/tenants/{tenant_id}/numbers"): {"number": "+908505559999", "destination": {"type": "hangup"}},
    ("PATCH", "/tenants/{tenant_id}/numbers/{number_id}"): {"destination": {"type": "hangup"}},
    ("POST", "/tenants/{tenant_id}/number-allocations"): {"number": "+908505559998"},
    ("POST", "/tenants/{tenant_id}/ivrs"): {"name": "x", "greeting_prompt_id": 1, "options": {}},
    ("PATCH", "/tenants/{tenant_id}/ivrs/{ivr_id}"): {"name": "x"},
    ("POST", "/tenants/{tenant_id}/schedules"): {"name": "x", "timezone": "Europe/Istanbul", "weekly": []},
    ("PATCH", "/tenants/{tenant_id}/schedules/{schedule_id}"): {"name": "x"},
    ("POST", "/tenants/{tenant_id}/ring_groups"): {"name": "x", "extensions": ["601"]},
    ("PATCH", "/tenants/{tenant_id}/ring_groups/{ring_group_id}"): {"name": "x"},
    ("POST", "/tenants/{tenant_id}/recordings/erase"): {"number": "601"},
    ("POST", "/tenants/{tenant_id}/webhooks"): {"url": "http://127.0.0.1:9/h", "events": ["call.ended"]},
    ("PATCH", "/tenants/{tenant_id}/webhooks/{webhook_id}"): {"enabled": False},
    ("POST", "/tenants/{tenant_id}/invoices"): {"month": "2026-01"},
    ("POST", "/tenants/{tenant_id}/invoices/{invoice_id}/credit-notes"): {"amount": "1.00", "reason": "x"},
    ("PATCH", "/tenants/{tenant_id}/billing"): {"billing_email": "a@b.example"},
    ("POST", "/tenants/{tenant_id}/billing/plan-change"): {"plan": "enterprise"},
    ("POST", "/tenants/{tenant_id}/porting-requests"): {"number": "03125550000", "current_operator": "TT",
                                                        "destination": {"type": "hangup"}},
    ("PATCH", "/tenants/{tenant_id}/porting-requests/{request_id}"): {"status": "approved"},
    ("POST", "/tenants/{tenant_id}/number-pool/pick"): {"number": "03125550000"},
}
QUERIES = {"/tenants/{tenant_id}/invoices": "?month=2026-01"}


def reseller(stack, name: str, discount: str):
    row = stack.operator.ok("POST", "/resellers", {"name": name, "discount_percent": discount})
    token = stack.operator.ok("POST", f"/resellers/{row['id']}/tokens")["token"]
    return row, stack.operator.as_token(token)


def customer(api, name: str) -> dict:
    return api.ok("POST", "/tenants", {"name": name, "plan": "kobi"})


def test_a_reseller_manages_only_its_own_customers_at_its_wholesale_price(stack):
    a, a_api = reseller(stack, "Bayi Ankara", "20")
    b, b_api = reseller(stack, "Bayi İzmir", "10")
    mine, theirs = customer(a_api, "Müşteri A1"), customer(b_api, "Müşteri B1")
    assert [t["id"] for t in a_api.ok("GET", "/tenants")["items"]] == [mine["id"]]
    assert a_api.ok("GET", f"/tenants/{mine['id']}/billing")["reseller_id"] == a["id"]
    a_api.ok("POST", f"/tenants/{mine['id']}/extensions", {"number": "101", "name": "Ayşe"})
    own_token = a_api.ok("POST", f"/tenants/{mine['id']}/tokens")["token"]
    month = "?month=" + stack.operator.ok("GET", f"/tenants/{mine['id']}")["created_at"][:7]
    listed = stack.operator.as_token(own_token).ok("GET", f"/tenants/{mine['id']}/invoices{month}")
    wholesale = a_api.ok("GET", f"/tenants/{mine['id']}/invoices{month}")
    assert (listed["subtotal"], listed["total"]) == ("700.00", "840.00")  # the customer's own price
    assert (wholesale["subtotal"], wholesale["kdv"], wholesale["total"]) == ("560.00", "112.00", "672.00")
    assert wholesale["lines"][0]["unit_price"] == "560.00"
    # Operator-only moves stay the operator's; the platform's objects are not a reseller's.
    assert a_api.post(f"/tenants/{mine['id']}/invoices", json={"month": "2026-01"}).status_code == 403
    assert a_api.post("/trunks", json={
        "name": "x", "host": "127.0.0.1", "match": ["127.0.0.9"]}).status_code == 403
    assert a_api.request("PUT", "/billing/international-rates", data=b"prefix,destination,per_minute\n44,UK,1\n",
                         headers={"Content-Type": "text/csv"}).status_code == 403
    assert [r["id"] for r in a_api.ok("GET", "/resellers")["items"]] == [a["id"]]
    assert a_api.get(f"/resellers/{b['id']}").status_code == 404
    assert a_api.post(f"/resellers/{a['id']}/tokens").status_code == 404
    assert theirs["id"] not in [t["id"] for t in a_api.ok("GET", "/tenants")["items"]]


def test_every_tenant_scoped_endpoint_is_404_to_another_resellers_token(stack):
    _, a_api = reseller(stack, "Bayi Bursa", "5")
    _, b_api = reseller(stack, "Bayi Adana", "5")
    customer(a_api, "Müşteri A2")
    theirs = customer(b_api, "Müşteri B2")
    ext = b_api.ok("POST", f"/tenants/{theirs['id']}/extensions", {"number": "601", "name": "V"})
    checked = 0
    for route in all_routes():
        if "{tenant_id}" not in route.path:
            continue
        path = route.path.replace("{tenant_id}", str(theirs["id"])).replace("{extension_id}", str(ext["id"]))
        path = re.sub(r"\{[a-z_]+\}", "1", path) + QUERIES.get(route.path, "")
        kwargs = {"json": BODIES.get((route.method, route.path))}
        if route.raw_body is not None:
            kwargs = {"data": b"number,name\n777,X\n", "headers": {"Content-Type": "text/csv"}}
        response = a_api.request(route.method, path, **kwargs)
        assert response.status_code == 404, (route.method, path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"
        checked += 1
    assert checked >= 60
    # Nothing of the other reseller's customer changed.
    assert b_api.ok("GET", f"/tenants/{theirs['id']}/extensions/{ext['id']}")["name"] == "V"
    assert b_api.ok("GET", f"/tenants/{theirs['id']}")["name"] == "Müşteri B2"


def test_a_reseller_follows_the_jobs_it_starts_for_its_customers_and_no_others(stack):
    a, a_api = reseller(stack, "Bayi Konya", "5")
    _, b_api = reseller(stack, "Bayi Kayseri", "5")
    mine = customer(a_api, "Müşteri A3")
    job = start_import(a_api, mine["id"], csv_body([{"number": "201", "name": "Ali"}]))
    assert wait_job(a_api, job["id"])["status"] == "succeeded"
    assert [j["id"] for j in a_api.ok("GET", f"/jobs?tenant_id={mine['id']}")["items"]] == [job["id"]]
    assert job["id"] in [j["id"] for j in a_api.ok("GET", "/jobs")["items"]]
    assert a_api.get(f"/jobs/{job['id']}/result").status_code == 200
    # Another reseller's customer's job does not exist for this one.
    assert b_api.get(f"/jobs/{job['id']}").status_code == 404
    assert b_api.delete(f"/jobs/{job['id']}").status_code == 404
    assert b_api.get(f"/jobs?tenant_id={mine['id']}").status_code == 404
    assert job["id"] not in [j["id"] for j in b_api.ok("GET", "/jobs")["items"]]


def test_a_reseller_manages_the_users_it_creates_for_its_customers_and_no_others(stack):
    _, a_api = reseller(stack, "Bayi Samsun", "5")
    _, b_api = reseller(stack, "Bayi Trabzon", "5")
    mine = customer(a_api, "Müşteri A4")
    user = a_api.ok("POST", "/users", {"email": "yonetici@a4.example", "name": "Zeynep", "role": "tenant_admin",
                                       "tenant_id": mine["id"], "password": "Uzun-bir-parola-42"})
    assert [u["id"] for u in a_api.ok("GET", "/users")["items"]] == [user["id"]]
    assert a_api.ok("GET", f"/users/{user['id']}")["tenant_id"] == mine["id"]
    assert a_api.ok("PATCH", f"/users/{user['id']}", {"name": "Zeynep K."})["name"] == "Zeynep K."
    # Another reseller's customer's user, and the operators, do not exist for this one.
    for method in ("GET", "PATCH", "DELETE"):
        answer = b_api.request(method, f"/users/{user['id']}", json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, answer.text)
    assert user["id"] not in [u["id"] for u in b_api.ok("GET", "/users")["items"]]
    operator_user = stack.operator.ok("POST", "/users", {"email": "op-a4@santral.example", "name": "Op",
                                                         "role": "operator", "password": "Uzun-bir-parola-42"})
    assert a_api.get(f"/users/{operator_user['id']}").status_code == 404
    a_api.ok("DELETE", f"/users/{user['id']}", status=204)
