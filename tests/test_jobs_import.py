"""Provisioning jobs against the real Asterisk: imports become live SIP accounts, bad rows
are reported by row and code, tenants never see each other's jobs."""
from __future__ import annotations

import csv
import io
import time

import pytest

from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]


def csv_body(rows: list[dict], header=("number", "name", "email", "voicemail", "record_calls"), sep=",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=sep, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def start_import(api, tenant_id: int, body: bytes, mode: str = "atomic", content_type: str = "text/csv") -> dict:
    response = api.request("POST", f"/tenants/{tenant_id}/extensions/import?mode={mode}", data=body,
                           headers={"Content-Type": content_type})
    assert response.status_code == 202, response.text
    return response.json()["job"]


def wait_job(api, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.ok("GET", f"/jobs/{job_id}")
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} still {job['status']}: {job['done']}/{job['total']}")


def result_rows(api, job_id: int) -> list[dict]:
    response = api.get(f"/jobs/{job_id}/result")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def extension_numbers(api, tenant_id: int) -> list[str]:
    return [e["number"] for e in api.ok("GET", f"/tenants/{tenant_id}/extensions")["items"]]


def rows_of(count: int, start: int = 2000) -> list[dict]:
    return [{"number": str(start + i), "name": f"Çalışan Şükrü Öğe {i}", "email": f"u{i}@örnek.com.tr"}
            for i in range(count)]


@pytest.mark.phone
def test_500_rows_import_register_with_the_result_and_call(stack, phones):
    tenant, api = stack.new_tenant("enterprise")
    job = start_import(api, tenant["id"], csv_body(rows_of(500)))
    assert job["kind"] == "extensions.import" and job["total"] == 500
    job = wait_job(api, job["id"])
    assert (job["status"], job["done"], job["failed"], job["errors"]) == ("succeeded", 500, 0, [])

    result = result_rows(api, job["id"])
    assert [r["row"] for r in result] == [str(i) for i in range(1, 501)]
    assert api.get(f"/jobs/{job['id']}/result").json()["error"]["code"] == "conflict"  # shown once
    assert stack.sql("SELECT count(*) FROM job_rows WHERE job_id = :j AND secret IS NOT NULL", j=job["id"]) == [(0,)]
    by_number = {r["number"]: r for r in result}
    names = {e["number"]: e["name"] for e in api.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"]}
    assert names["2499"] == "Çalışan Şükrü Öğe 499"

    caller, callee = (phones.add_phone(by_number[n]["sip_username"], by_number[n]["sip_password"],
                                       port=stack.sip_port) for n in ("2000", "2499"))
    spot = phones.add_phone(by_number["2250"]["sip_username"], by_number["2250"]["sip_password"],
                            port=stack.sip_port)
    try:
        assert caller.wait_registered(timeout=10) == 200
        assert callee.wait_registered(timeout=10) == 200
        assert spot.wait_registered(timeout=10) == 200
        answer_and_hang_up(caller.call("2499"), callee)
    finally:
        for phone in (caller, callee, spot):
            phone.remove()


def with_three_bad_rows() -> list[dict]:
    rows = rows_of(40, start=300)
    rows[4]["number"] = "0123"  # row 5: starts with 0
    rows[9]["email"] = "not an address"  # row 10
    rows[30]["number"] = rows[2]["number"]  # row 31: repeats row 3
    return rows


def test_atomic_creates_nothing_and_reports_every_bad_row_each_creates_the_rest(stack):
    tenant, api = stack.new_tenant("enterprise")
    body = csv_body(with_three_bad_rows())
    job = wait_job(api, start_import(api, tenant["id"], body)["id"])
    assert job["status"] == "failed" and job["done"] == 0
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(5, "invalid"), (10, "invalid"), (31, "conflict")]
    assert extension_numbers(api, tenant["id"]) == []
    assert api.get(f"/jobs/{job['id']}/result").json()["error"]["code"] == "conflict"

    job = wait_job(api, start_import(api, tenant["id"], body, mode="each")["id"])
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", 37, 3)
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(5, "invalid"), (10, "invalid"), (31, "conflict")]
    assert len(extension_numbers(api, tenant["id"])) == 37
    assert len(result_rows(api, job["id"])) == 37

    again = wait_job(api, start_import(api, tenant["id"], body, mode="each")["id"])  # all taken now
    assert again["status"] == "failed" and {e["code"] for e in again["errors"]} == {"invalid", "conflict"}


def test_rows_past_the_plan_limit_fail_with_plan_limit(stack):
    tenant, api = stack.new_tenant("girisimci")  # 5 extensions, no recording
    rows = rows_of(7, start=500)
    rows[1]["record_calls"] = "true"
    atomic = wait_job(api, start_import(api, tenant["id"], csv_body(rows))["id"])
    assert atomic["status"] == "failed" and extension_numbers(api, tenant["id"]) == []
    assert [(e["row"], e["code"]) for e in atomic["errors"]] == [(2, "feature_not_in_plan"), (7, "plan_limit")]

    each = wait_job(api, start_import(api, tenant["id"], csv_body(rows), mode="each")["id"])
    assert (each["done"], each["failed"]) == (5, 2)
    assert extension_numbers(api, tenant["id"]) == ["500", "502", "503", "504", "505"]


def test_a_freepbx_bulk_handler_file_imports(stack):
    tenant, api = stack.new_tenant("kobi")
    header = ("extension", "password", "name", "voicemail", "ringtimer", "noanswer", "recording", "outboundcid",
              "sipname", "tech", "secret", "voicemail_enable", "voicemail_vmpwd", "email")
    rows = [{"extension": "7001", "name": "Ayşe Yılmaz", "voicemail": "default", "tech": "pjsip",
             "secret": "old-secret", "voicemail_enable": "yes", "email": "ayse@firma.com.tr"},
            {"extension": "7002", "name": "Gökhan Işık", "voicemail": "novm", "tech": "pjsip", "email": ""}]
    job = wait_job(api, start_import(api, tenant["id"], csv_body(rows, header))["id"])
    assert (job["status"], job["done"]) == ("succeeded", 2)
    got = {e["number"]: e for e in api.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"]}
    assert (got["7001"]["name"], got["7001"]["email"], got["7001"]["voicemail"]) == \
        ("Ayşe Yılmaz", "ayse@firma.com.tr", True)
    assert (got["7002"]["name"], got["7002"]["email"], got["7002"]["voicemail"]) == ("Gökhan Işık", None, False)
    assert all(r["sip_password"] != "old-secret" for r in result_rows(api, job["id"]))


def test_a_tenant_token_cannot_see_or_cancel_another_tenants_job(stack):
    tenant_a, api_a = stack.new_tenant("kobi")
    tenant_b, api_b = stack.new_tenant("kobi")
    job = start_import(api_a, tenant_a["id"], csv_body(rows_of(3, start=800)))
    for method, path in (("GET", f"/jobs/{job['id']}"), ("DELETE", f"/jobs/{job['id']}"),
                         ("GET", f"/jobs/{job['id']}/result"), ("GET", f"/jobs?tenant_id={tenant_a['id']}"),
                         ("POST", f"/tenants/{tenant_a['id']}/extensions/import"),
                         ("GET", f"/tenants/{tenant_a['id']}/extensions/export")):
        response = api_b.request(method, path, data=b"number,name\r\n900,X\r\n", headers={"Content-Type": "text/csv"})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert job["id"] not in [j["id"] for j in api_b.ok("GET", "/jobs")["items"]]
    assert job["id"] in [j["id"] for j in api_a.ok("GET", "/jobs")["items"]]
    assert wait_job(api_a, job["id"])["status"] == "succeeded"
    assert api_b.post("/tenants/import", json={"tenant": {"name": "x", "plan": "kobi"}}).status_code == 403


def test_export_then_import_into_a_new_tenant_gives_the_same_extensions(stack):
    tenant, api = stack.new_tenant("kobi")
    hostile = ["=cmd|' /C calc'!A0", "+90 Şube", "-İç Hat", "@Çağrı", 'Ali "Veli", Kırk; Dokuz']
    rows = [{"number": str(110 + i), "name": name, "email": f"k{i}@firma.com.tr" if i % 2 else "",
             "voicemail": "true" if i % 2 else "false", "record_calls": "yes" if i == 1 else "no"}
            for i, name in enumerate(hostile)]
    assert wait_job(api, start_import(api, tenant["id"], csv_body(rows, sep=";"))["id"])["status"] == "succeeded"
    exported = api.get(f"/tenants/{tenant['id']}/extensions/export")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    cells = [c for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    assert "password" not in exported.text

    copy, copy_api = stack.new_tenant("kobi")
    job = wait_job(copy_api, start_import(copy_api, copy["id"], exported.content)["id"])
    assert job["status"] == "succeeded", job

    def shape(api_, tid):
        return sorted((e["number"], e["name"], e["email"], e["voicemail"], e["record_calls"])
                      for e in api_.ok("GET", f"/tenants/{tid}/extensions")["items"])

    assert shape(copy_api, copy["id"]) == shape(api, tenant["id"])
    assert [e[1] for e in shape(copy_api, copy["id"])] == hostile
