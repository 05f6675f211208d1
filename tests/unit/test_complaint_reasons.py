"""Complaint reasons: a fixed list, counted for the monthly report most first, with Turkish and
English labels in the OpenAPI entry of the complaint and of the report."""
from __future__ import annotations

from pbx.api.app import all_routes
from pbx.api.openapi import document
from pbx.ops import complaints

SPEC = document(all_routes())


def test_complaints_are_counted_by_reason_most_first_then_in_the_lists_order():
    counted = complaints.count(["fatura", None, "ses_kalitesi", "fatura", "ses_kalitesi", "eski_bir_sebep", "diger"])
    # a reason no longer listed counts as none given
    assert [(c["reason"], c["faults"]) for c in counted] == [("ses_kalitesi", 2), ("fatura", 2), (None, 2), ("diger", 1)]
    assert counted[0]["label_tr"] == "Ses kalitesi" and counted[0]["label_en"] == "Voice quality"
    assert complaints.count([]) == []


def test_the_complaint_and_the_report_describe_the_reasons_with_their_labels():
    schemas = SPEC["components"]["schemas"]
    body = SPEC["paths"]["/api/v1/tenants/{tenant_id}/faults"]["post"]["requestBody"]["content"]["application/json"]
    model = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
    reason = model["properties"]["reason"]
    assert reason["x-labels"]["arama_dusmesi"] == {"tr": "Arama düşmesi", "en": "Dropped calls"}
    assert set(reason["anyOf"][0]["enum"]) == set(complaints.REASONS) and "Voice quality" in reason["description"]
    assert "reason" not in model["required"]  # optional: additive to the contract
    report = SPEC["paths"]["/api/v1/tenants/{tenant_id}/reports/service-performance"]["get"]["responses"]["200"]
    rows = report["content"]["application/json"]["schema"]["properties"]["complaint_reasons"]["items"]
    assert rows["properties"]["reason"]["enum"] == [*complaints.REASONS, None]
