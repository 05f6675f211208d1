"""Faults, complaints and notice contacts through the API: deadlines, resolution rules,
linked calls, hostile input, and tenants that never see each other's faults."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asterisk]


def call_row(stack, tenant_id: int, linkedid: str, started: str, number: str) -> None:
    stack.sql("INSERT INTO calls (linkedid, tenant_id, started_at, answered_at, ended_at, direction, caller, callee, "
              "number, disposition, duration_s, billsec, jitter_ms, loss_percent, rtt_ms) VALUES (:l, :t, :s, :s, :s, "
              "'inbound', :n, '101', :n, 'answered', 30, 28, 41.5, 3.2, 80.0)",
              l=linkedid, t=tenant_id, s=started, n=number)


def test_operator_faults_have_deadlines_and_need_a_cause_to_resolve(stack, operator):
    fault = operator.ok("POST", "/faults", {"title": "Ankara POP'ta paket kaybı", "priority": "yuksek"}, status=201)
    assert fault["status"] == "open" and fault["source"] == "operator" and fault["breaches"] == []
    assert fault["respond_by"] > fault["opened_at"] and fault["resolve_by"] > fault["respond_by"]
    assert fault["id"] in [f["id"] for f in operator.ok("GET", "/faults")["items"]]
    assert operator.patch(f"/faults/{fault['id']}", json={"status": "resolved"}).status_code == 422
    acked = operator.ok("PATCH", f"/faults/{fault['id']}", {})
    assert acked["responded_at"] and [h["note"] for h in acked["history"]] == ["operator", "acknowledged"]
    done = operator.ok("PATCH", f"/faults/{fault['id']}", {"status": "resolved", "cause": "Fiber kesildi",
                                                           "fix": "Ek yapıldı"})
    assert done["status"] == "resolved" and done["rfo_due_at"] > done["resolved_at"] and not done["rfo_overdue"]
    assert operator.patch(f"/faults/{fault['id']}", json={"status": "resolved", "cause": "x"}).status_code == 409
    rfo = operator.ok("PATCH", f"/faults/{fault['id']}", {"prevention": "Yedek güzergah"})
    assert rfo["prevention"] == "Yedek güzergah" and [h["status"] for h in rfo["history"]][-1] == "resolved"


def test_a_complaint_links_the_matching_calls_and_only_its_tenant_sees_it(stack, operator):
    tenant, api = stack.new_tenant()
    other, other_api = stack.new_tenant()
    tid = tenant["id"]
    call_row(stack, tid, f"ops-{tid}-1", "2026-11-30 09:15:00.000000", "+905551112233")
    call_row(stack, tid, f"ops-{tid}-2", "2026-11-30 11:00:00.000000", "+905551112233")  # outside the range
    call_row(stack, other["id"], f"ops-{tid}-3", "2026-11-30 09:20:00.000000", "+905551112233")  # another tenant's
    complaint = api.ok("POST", f"/tenants/{tid}/faults", {
        "title": "Sesler kesik geliyor", "priority": "normal", "number": "0555 111 22 33",
        "from": "2026-11-30T12:00:00+03:00", "to": "2026-11-30T12:30:00+03:00"}, status=201)
    assert complaint["source"] == "complaint" and complaint["number"] == "+905551112233"
    assert [c["quality"]["jitter_ms"] for c in complaint["calls"]] == [41.5]
    assert api.ok("GET", f"/tenants/{tid}/faults/{complaint['id']}")["calls"][0]["quality"]["loss_percent"] == 3.2
    assert [f["id"] for f in api.ok("GET", f"/tenants/{tid}/faults")["items"]] == [complaint["id"]]
    assert api.ok("GET", f"/faults/{complaint['id']}")["id"] == complaint["id"]
    # another tenant: nothing of it exists
    assert other_api.get(f"/faults/{complaint['id']}").status_code == 404
    assert other_api.get(f"/tenants/{tid}/faults").status_code == 404
    assert other_api.get(f"/tenants/{tid}/faults/{complaint['id']}").status_code == 404
    assert other_api.get(f"/tenants/{other['id']}/faults/{complaint['id']}").status_code == 404
    assert other_api.ok("GET", f"/tenants/{other['id']}/faults")["items"] == []
    assert other_api.post(f"/tenants/{tid}/faults", json={"title": "x", "priority": "dusuk"}).status_code == 404
    assert other_api.request("PUT", f"/tenants/{tid}/notice-contacts", json={"contacts": []}).status_code == 404
    # tenants do not open operator faults, list all faults, resolve, or read metrics
    assert api.post("/faults", json={"title": "x", "priority": "dusuk"}).status_code == 403
    assert api.get("/faults").status_code == 403
    assert api.patch(f"/faults/{complaint['id']}", json={"status": "resolved", "cause": "x"}).status_code == 403
    assert api.get("/metrics").status_code == 403


@pytest.mark.parametrize("bad", [
    {"title": "satır\nsonu"}, {"title": "bidi \u202e override"}, {"title": ""}, {"title": "x" * 201},
    {"priority": "acil"}, {"priority": 1}, {"number": "0555;1112233"}, {"number": "../../etc"},
    {"from": "dün"}, {"from": "2026-11-30T12:00:00"}, {"from": "2026-11-30T13:00:00+03:00", "to": "2026-11-30T12:00:00+03:00"},
    {"trunk_id": "1"}, {"extra": True},
    {"reason": "baska"}, {"reason": "Ses_kalitesi"}, {"reason": 1}, {"reason": ["fatura"]}, {"reason": "fatura;diger"},
    {"reason": "fatura\n"}, {"reason": "=fatura"},
])
def test_hostile_or_wrong_fault_fields_are_refused(stack, operator, bad):
    tenant, api = stack.new_tenant()
    body = {"title": "Arıza", "priority": "normal", **bad}
    before = operator.ok("GET", "/faults")["items"]
    assert api.post(f"/tenants/{tenant['id']}/faults", json=body).status_code == 422, bad
    assert operator.ok("GET", "/faults")["items"] == before


def test_notice_contacts_follow_the_ivr_rule_and_refuse_hostile_addresses(stack):
    tenant, api = stack.new_tenant()
    path = f"/tenants/{tenant['id']}/notice-contacts"
    good = {"name": "Ayşe", "phone": "0532 111 22 33", "email": "ayse@example.com", "channels": ["email", "ivr"]}
    assert api.request("PUT", path, json={"contacts": [good]}).json()["contacts"][0]["phone"] == "+905321112233"
    for bad in ({"channels": ["ivr"]}, {"channels": []}, {"channels": ["sms", "sms"]}, {"channels": ["fax"]},
                {"email": "a@b.c\r\nBcc: x@y.z"}, {"email": "=HYPERLINK(1)"}, {"phone": "+90 532; 1"},
                {"name": "=cmd|' /C calc'!A0\n"}, {"channels": ["sms"], "phone": None},
                {"channels": ["email"], "email": None}):
        response = api.request("PUT", path, json={"contacts": [{**good, **bad}]})
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"]
    assert api.ok("GET", path)["contacts"][0]["channels"] == ["email", "ivr"]  # unchanged
    # Gone again: a later test's unreachable trunk would otherwise call this contact.
    stack.operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)


def test_metrics_are_prometheus_text(stack, operator, carrier):
    import requests

    text = requests.get(stack.operator.base.replace("/api/v1", "") + "/metrics",
                        headers={"Authorization": f"Bearer {stack.operator.token}"}, timeout=10).text
    assert "pbx_trunk_reachable{" in text and "pbx_faults_open{priority=\"kritik\"}" in text
    assert "# TYPE pbx_tenant_registered_extensions gauge" in text
