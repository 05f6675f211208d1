"""The job endpoints' edges: hostile uploads change nothing, cancel, the operator's jobs."""
from __future__ import annotations

import pytest

from tests.test_jobs_import import csv_body, extension_numbers, result_rows, rows_of, start_import, wait_job

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]


def refused(api, tenant_id: int, body: bytes, content_type: str = "text/csv", query: str = "") -> tuple[int, str]:
    response = api.request("POST", f"/tenants/{tenant_id}/extensions/import{query}", data=body,
                           headers={"Content-Type": content_type})
    assert response.status_code >= 400, response.text
    return response.status_code, response.json()["error"]["code"]


def test_hostile_uploads_are_refused_at_once_and_queue_nothing(stack):
    tenant, api = stack.new_tenant("enterprise")
    cases = [
        (b"name,email\nA,a@b.c\n", "text/csv", "", (422, "invalid")),  # no number column
        (b"\x89PNG\r\n\x1a\n\x81\x8d\x90 not a table", "text/csv", "", (422, "invalid")),
        (b"number,name\n101,a\x00b\n", "text/csv", "", (422, "invalid")),
        (b"number,name\n", "text/csv", "", (422, "invalid")),  # no rows
        (b'{"rows": 5}', "application/json", "", (422, "invalid")),
        (b"[[[[[[" * 10000, "application/json", "", (422, "invalid")),
        (b"number,name\n101,a\n", "application/xml", "", (422, "invalid")),
        (b"number,name\n101,a\n", "text/csv", "?mode=all", (422, "invalid")),
        (b"number,name\n101,a\n", "text/csv; charset=koi8-r", "", (422, "invalid")),
        (b"number,name\n" + b"".join(b"%d,n\n" % (100000 + i) for i in range(100_001)), "text/csv", "",
         (413, "too_large")),
        (b"number,name\n101," + b"x" * (9 * 1024 * 1024) + b"\n", "text/csv", "", (413, "too_large")),
    ]
    for body, content_type, query, expected in cases:
        assert refused(api, tenant["id"], body, content_type, query) == expected, body[:40]
    assert api.ok("GET", f"/jobs?tenant_id={tenant['id']}")["items"] == []
    assert stack.sql("SELECT count(*) FROM jobs WHERE tenant_id = :t", t=tenant["id"]) == [(0,)]


def test_hostile_cells_are_row_errors_and_touch_nothing_else(stack):
    tenant, api = stack.new_tenant("kobi")
    rows = [{"number": "101", "name": "Satır\nİki"}, {"number": "102;DROP", "name": "x"},
            {"number": "103", "name": "\u202eevil"}, {"number": "104", "name": "ok", "email": "a@b.c\r\nBcc: x"},
            {"number": "105", "name": "Ali ${EXTEN}|;,..", "voicemail": "true"}]
    job = wait_job(api, start_import(api, tenant["id"], csv_body(rows), mode="each")["id"])
    # A bidi override in a name is refused like everywhere else (the shared Name validator).
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(1, "invalid"), (2, "invalid"), (3, "invalid"),
                                                              (4, "invalid")]
    assert extension_numbers(api, tenant["id"]) == ["105"]


def test_cancel_stops_a_job_and_keeps_what_it_made(stack):
    tenant, api = stack.new_tenant("enterprise")
    job = start_import(api, tenant["id"], csv_body(rows_of(3000, start=40000)))
    cancelled = api.ok("DELETE", f"/jobs/{job['id']}")
    assert cancelled["status"] == "cancelled"
    job = wait_job(api, job["id"])
    assert job["status"] == "cancelled" and job["finished_at"]
    made = len(extension_numbers(api, tenant["id"]))
    assert made == job["done"] < 3000
    assert len(result_rows(api, job["id"])) == made  # what was made is still handed over, once
    assert api.delete(f"/jobs/{job['id']}").json()["error"]["code"] == "conflict"
    assert api.get("/jobs/999999999").status_code == 404


def test_operator_imports_a_tenant_with_its_extensions_in_one_job(stack):
    body = {"tenant": {"name": "Göç Lojistik A.Ş.", "plan": "kobi"},
            "extensions": [{"number": "201", "name": "Gül"}, {"number": "202", "name": "Şeyma", "voicemail": True}]}
    job = stack.operator.ok("POST", "/tenants/import", body, status=202)["job"]
    assert job["kind"] == "tenant.import" and job["tenant_id"] is None
    job = wait_job(stack.operator, job["id"])
    assert (job["status"], job["done"]) == ("succeeded", 2) and job["tenant_id"]
    tenant = stack.operator.ok("GET", f"/tenants/{job['tenant_id']}")
    assert (tenant["name"], tenant["plan"]) == ("Göç Lojistik A.Ş.", "kobi")
    assert extension_numbers(stack.operator, tenant["id"]) == ["201", "202"]
    assert [r["number"] for r in result_rows(stack.operator, job["id"])] == ["201", "202"]

    too_many = {"tenant": {"name": "Küçük", "plan": "girisimci"},
                "extensions": [{"number": str(300 + i), "name": "x"} for i in range(6)] + [{"number": "1"}]}
    before = len(stack.operator.ok("GET", "/tenants")["items"])
    job = wait_job(stack.operator, stack.operator.ok("POST", "/tenants/import", too_many, status=202)["job"]["id"])
    assert job["status"] == "failed" and job["tenant_id"] is None  # atomic: not even the tenant
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(6, "plan_limit"), (7, "invalid")]
    assert len(stack.operator.ok("GET", "/tenants")["items"]) == before

    job = stack.operator.ok("POST", "/tenants/import?mode=each", too_many, status=202)["job"]
    job = wait_job(stack.operator, job["id"])
    assert (job["done"], job["failed"]) == (5, 2) and job["tenant_id"]
    empty = stack.operator.ok("POST", "/tenants/import", {"tenant": {"name": "Boş", "plan": "kobi"}}, status=202)
    job = wait_job(stack.operator, empty["job"]["id"])
    assert (job["status"], job["total"]) == ("succeeded", 0)
    assert stack.operator.ok("GET", f"/tenants/{job['tenant_id']}")["name"] == "Boş"


def test_operator_changes_many_plans_in_one_job_and_a_full_tenant_keeps_its_plan(stack):
    small, small_api = stack.new_tenant("kobi")
    full, full_api = stack.new_tenant("kobi")
    wait_job(full_api, start_import(full_api, full["id"], csv_body(rows_of(8, start=600)))["id"])
    body = {"tenant_ids": [small["id"], full["id"], 999999999], "plan": "girisimci"}
    job = stack.operator.ok("POST", "/tenants/plan-change", body, status=202)["job"]
    assert job["kind"] == "tenants.plan_change" and job["total"] == 3
    job = wait_job(stack.operator, job["id"])
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", 1, 2)
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(2, "plan_limit"), (3, "not_found")]
    assert stack.operator.ok("GET", f"/tenants/{small['id']}")["plan"] == "girisimci"
    assert stack.operator.ok("GET", f"/tenants/{full['id']}")["plan"] == "kobi"
    assert small_api.get(f"/jobs/{job['id']}").status_code == 404  # an operator job is no tenant's
    assert small_api.post("/tenants/plan-change", json=body).status_code == 403


def test_every_job_endpoint_is_described_with_its_response_schema(stack):
    spec = stack.operator.ok("GET", "/openapi.json")
    expected = {("/tenants/{tenant_id}/extensions/import", "post", "202", "application/json"),
                ("/tenants/{tenant_id}/extensions/export", "get", "200", "text/csv"),
                ("/tenants/import", "post", "202", "application/json"),
                ("/tenants/plan-change", "post", "202", "application/json"),
                ("/jobs", "get", "200", "application/json"), ("/jobs/{job_id}", "get", "200", "application/json"),
                ("/jobs/{job_id}", "delete", "200", "application/json"),
                ("/jobs/{job_id}/result", "get", "200", "text/csv")}
    for path, method, status, media in expected:
        operation = spec["paths"]["/api/v1" + path][method]
        assert operation["responses"][status]["content"][media]["schema"], (path, method)
        assert {"401", "404"} <= set(operation["responses"]) or path.startswith("/tenants/") and "{" not in path, \
            (path, method)
    upload = spec["paths"]["/api/v1/tenants/{tenant_id}/extensions/import"]["post"]
    assert {"text/csv", "application/json"} <= set(upload["requestBody"]["content"]) and "413" in upload["responses"]
    job = spec["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"errors", "status", "total", "done", "failed", "finished_at"} <= set(job["properties"])
