"""Monthly service performance and RFO reports: the numbers match faults made for the test,
the PDF renders (pdftoppm), the xlsx opens (openpyxl) with the same numbers, and a tenant
sees only its own."""
from __future__ import annotations

import io
import subprocess

import pytest
from openpyxl import load_workbook

pytestmark = [pytest.mark.asterisk]
PDF, XLSX = "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def backdate(stack, fault_id: int, opened: str, resolved: str | None) -> None:
    stack.sql("UPDATE faults SET opened_at = :o, resolved_at = :r WHERE id = :i", o=opened, r=resolved, i=fault_id)


def test_monthly_report_counts_faults_and_mean_resolution(stack, operator, tmp_path):
    tenant, api = stack.new_tenant("enterprise")
    other, other_api = stack.new_tenant()
    tid = tenant["id"]
    made = []
    for title, reason in (("Ses tek yönlü", "ses_kalitesi"), ("Ses tek yönlü", "ses_kalitesi"),
                          ("Çağrı düşüyor", "arama_dusmesi")):
        made.append(api.ok("POST", f"/tenants/{tid}/faults", {"title": title, "priority": "normal", "reason": reason},
                           status=201))
    assert made[0]["reason"] == "ses_kalitesi"
    kritik = api.ok("POST", f"/tenants/{tid}/faults", {"title": "Hiç çağrı yok", "priority": "kritik"}, status=201)
    backdate(stack, made[0]["id"], "2025-03-10 08:00:00.000000", "2025-03-10 10:00:00.000000")  # 2 h
    backdate(stack, made[1]["id"], "2025-03-20 08:00:00.000000", "2025-03-20 12:00:00.000000")  # 4 h
    backdate(stack, made[2]["id"], "2025-01-05 08:00:00.000000", None)
    backdate(stack, kritik["id"], "2025-03-01 00:00:00.000000", "2025-03-01 01:00:00.000000")  # 1 h down
    report = api.ok("GET", f"/tenants/{tid}/reports/service-performance?month=2025-03")
    months = {m["month"]: m for m in report["months"]}
    assert len(report["months"]) == 12 and report["months"][-1]["month"] == "2025-03"
    assert months["2025-03"]["faults"] == 3 and months["2025-03"]["mean_resolution_hours"] == pytest.approx(7 / 3, 0.01)
    assert months["2025-01"] == {"month": "2025-01", "faults": 1, "mean_resolution_hours": None}
    assert report["sources"] == {"complaint": 4}
    assert report["complaint_reasons"] == [  # the Kritik one was made without a reason
        {"reason": "ses_kalitesi", "label_tr": "Ses kalitesi", "label_en": "Voice quality", "faults": 2},
        {"reason": "arama_dusmesi", "label_tr": "Arama düşmesi", "label_en": "Dropped calls", "faults": 1},
        {"reason": None, "label_tr": "Belirtilmemiş", "label_en": "Not given", "faults": 1}]
    assert report["complaint_titles"][0] == {"title": "Ses tek yönlü", "faults": 2}
    assert report["availability"]["promise"] == 99.97 and report["availability"]["downtime_minutes"] == 60.0
    assert report["availability"]["met"] is False  # 1 h of 744 h: 99.866 %
    pdf = api.get(f"/tenants/{tid}/reports/service-performance?month=2025-03", headers={"Accept": PDF})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 1000
    assert b"DejaVuSans" in pdf.content  # the font with Turkish letters is embedded
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True, capture_output=True).stdout.decode()
    assert "Ses kalitesi (2)" in text and "Arama düşmesi (1)" in text
    xlsx = api.get(f"/tenants/{tid}/reports/service-performance?month=2025-03", headers={"Accept": XLSX})
    sheet = load_workbook(io.BytesIO(xlsx.content))["Aylık"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["2025-03"][1] == 3 and rows["2025-03"][2] == pytest.approx(7 / 3, 0.01)
    reasons = list(load_workbook(io.BytesIO(xlsx.content))["Şikâyetler"].iter_rows(min_row=2, values_only=True))
    assert reasons[:2] == [("Ses kalitesi", "Voice quality", "ses_kalitesi", 2),
                           ("Arama düşmesi", "Dropped calls", "arama_dusmesi", 1)]
    # another tenant sees none of it; the platform report needs an operator
    assert other_api.get(f"/tenants/{tid}/reports/service-performance?month=2025-03").status_code == 404
    assert other_api.ok("GET", f"/tenants/{other['id']}/reports/service-performance?month=2025-03")["sources"] == {}
    assert other_api.get("/reports/service-performance?month=2025-03").status_code == 403
    assert other_api.get(f"/faults/{made[0]['id']}/rfo").status_code == 404
    platform = operator.ok("GET", "/reports/service-performance?month=2025-03")
    assert {m["month"]: m for m in platform["months"]}["2025-03"]["faults"] >= 3
    for bad in ("2025-13", "25-03", "2025-3", "x"):
        assert operator.get(f"/reports/service-performance?month={bad}").status_code == 422


def test_rfo_report_of_a_resolved_fault(stack, operator, tmp_path):
    fault = operator.ok("POST", "/faults", {"title": "İzmir POP kesintisi", "priority": "kritik"}, status=201)
    operator.ok("PATCH", f"/faults/{fault['id']}", {"status": "resolved", "cause": "Güç kaynağı arızası",
                                                    "fix": "Yedek güce geçildi", "prevention": "=UPS bakımı"})
    rfo = operator.ok("GET", f"/faults/{fault['id']}/rfo")
    assert rfo["cause"] == "Güç kaynağı arızası" and rfo["complete"] is True and rfo["end"]
    pdf = operator.get(f"/faults/{fault['id']}/rfo", headers={"Accept": PDF})
    (tmp_path / "rfo.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(tmp_path / "rfo.pdf"), str(tmp_path / "rfo")], check=True)
    book = load_workbook(io.BytesIO(operator.get(f"/faults/{fault['id']}/rfo", headers={"Accept": XLSX}).content))
    values = {r[0]: r[1] for r in book["RFO"].iter_rows(values_only=True)}
    assert values["cause"] == "Güç kaynağı arızası" and values["prevention"] == "'=UPS bakımı"  # not a formula
