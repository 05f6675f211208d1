"""Invoices from real calls: a KOBİ tenant's extension dials 00 + a number through the real
Asterisk, the carrier's phone answers, and the call record's billsec is rated on the
month's invoice (JSON and the Turkish PDF); seed 001's circuits counted from Asterisk."""
from __future__ import annotations

import math
import subprocess
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pbx.billing.pdf import tl
from tests.support.calls import wait_for

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]

RATES = "prefix,destination,per_minute\n44,Birleşik Krallık,3.00\n4420,Londra,2.50\n"


def this_month() -> str:
    return datetime.now(ZoneInfo("Europe/Istanbul")).strftime("%Y-%m")


def last_month() -> str:
    first = datetime.now(ZoneInfo("Europe/Istanbul")).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def office(stack, phones, name: str, **fields):
    tenant, api = stack.new_tenant("kobi", international_calls=True, **fields)
    stack.operator.ok("PATCH", f"/tenants/{tenant['id']}", {"name": name})
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "+90850556" + str(4000 + tenant["id"]), "destination": {"type": "hangup"}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    return tenant, api, phone


def held_call(phone, carrier, target: str, seconds: float) -> None:
    call = phone.call(target)
    incoming = carrier.wait_incoming(timeout=10)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    time.sleep(seconds)
    call.hangup()
    incoming.wait_disconnected(timeout=10)


def answered_calls(api, tenant_id: int) -> list[dict]:
    items = api.ok("GET", f"/tenants/{tenant_id}/calls")["items"]
    return [c for c in items if c["disposition"] == "answered" and c["direction"] == "outbound"]


def test_kobi_invoice_rates_a_real_international_call(stack, phones, carrier, tmp_path):
    operator = stack.operator
    put = operator.request("PUT", "/billing/international-rates", data=RATES.encode(),
                           headers={"Content-Type": "text/csv"})
    assert put.status_code == 200 and put.json() == {"loaded": 2}, put.text
    hostile = operator.request("PUT", "/billing/international-rates", headers={"Content-Type": "text/csv"},
                               data="prefix,destination,per_minute\n44,=cmd|' /C calc'!A0,1\n".encode())
    assert hostile.status_code == 422 and hostile.json()["error"]["code"] == "invalid"
    assert len(operator.ok("GET", "/billing/international-rates")["items"]) == 2  # nothing changed

    tenant, api, phone = office(stack, phones, "Çağrı Şişli Ltd. Şti.", extra_extensions=3)
    tid = tenant["id"]
    try:
        held_call(phone, carrier, "00442079460958", 1.5)
    finally:
        phone.remove()
    calls = wait_for(lambda: answered_calls(api, tid), timeout=30)
    assert len(calls) == 1 and calls[0]["callee"] == "+442079460958" and calls[0]["billsec"] >= 1, calls
    minutes = math.ceil(calls[0]["billsec"] / 60)

    invoice = api.ok("GET", f"/tenants/{tid}/invoices?month={this_month()}")
    international = Decimal("2.50") * minutes  # London's +4420 beats +44
    subtotal = Decimal("700.00") + 3 * Decimal("40.00") + international
    assert invoice["lines"] == [
        {"description": "KOBİ paketi aylık ücreti", "quantity": "1", "unit_price": "700.00", "amount": "700.00"},
        {"description": "Ek dahili hat", "quantity": "3", "unit_price": "40.00", "amount": "120.00"},
        {"description": "Uluslararası arama: Londra (+4420, dakika)", "quantity": str(minutes),
         "unit_price": "2.50", "amount": f"{international:.2f}"},
    ]
    kdv = (subtotal * Decimal("0.20")).quantize(Decimal("0.01"))
    assert (invoice["subtotal"], invoice["kdv"], invoice["total"], invoice["currency"]) == (
        f"{subtotal:.2f}", f"{kdv:.2f}", f"{subtotal + kdv:.2f}", "TRY")
    assert invoice["status"] == "draft"

    pdf = api.get(f"/tenants/{tid}/invoices?month={this_month()}", headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert_turkish_pdf(tmp_path, pdf.content, ["Çağrı Şişli Ltd. Şti.", "KOBİ paketi aylık ücreti",
                                               "Uluslararası arama: Londra", "Genel toplam", tl(f"{subtotal + kdv:.2f}")])


def assert_turkish_pdf(tmp_path, data: bytes, expected: list[str]) -> None:
    """Rendered by poppler (pdftoppm: a real page image), its text read back by pdftotext,
    and its font embedded: the Turkish letters are in the document, not replaced."""
    path = tmp_path / "fatura.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / "page")], check=True)
    page = (tmp_path / "page-1.png").read_bytes()
    assert page.startswith(b"\x89PNG") and len(page) > 2000
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    for phrase in expected:
        assert phrase in text, (phrase, text)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and " yes " in fonts, fonts


def test_issued_invoices_are_immutable_and_corrected_by_credit_notes(stack):
    tenant, api = stack.new_tenant("girisimci")
    other, other_api = stack.new_tenant("kobi")
    tid, month = tenant["id"], last_month()
    assert stack.operator.post(f"/tenants/{tid}/invoices", json={"month": month}).status_code == 409  # before its term
    stack.sql("UPDATE billing_accounts SET term_started_at = :at WHERE tenant_id = :tid",
              at="2020-01-01 00:00:00.000000", tid=tid)
    assert api.post(f"/tenants/{tid}/invoices", json={"month": month}).status_code == 403  # operator only
    issued = stack.operator.ok("POST", f"/tenants/{tid}/invoices", {"month": month})
    assert (issued["status"], issued["total"]) == ("issued", "300.00")
    again = stack.operator.post(f"/tenants/{tid}/invoices", json={"month": month})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert stack.operator.post(f"/tenants/{tid}/invoices", json={"month": this_month()}).status_code == 409
    stack.operator.ok("PATCH", f"/tenants/{tid}", {"extra_extensions": 5})  # the issued one does not move
    assert api.ok("GET", f"/tenants/{tid}/invoices?month={month}")["total"] == "300.00"
    base = f"/tenants/{tid}/invoices/{issued['id']}/credit-notes"
    too_much = stack.operator.post(base, json={"amount": "250.01", "reason": "İade"})
    assert too_much.status_code == 422
    note = stack.operator.ok("POST", base, {"amount": "50.00", "reason": "Hizmet kesintisi"})
    assert (note["kind"], note["subtotal"], note["kdv"], note["total"]) == ("credit_note", "-50.00", "-10.00", "-60.00")
    shown = api.ok("GET", f"/tenants/{tid}/invoices?month={month}")
    assert [n["id"] for n in shown["credit_notes"]] == [note["id"]] and shown["total"] == "300.00"
    # Another tenant's invoices do not exist for this one.
    assert other_api.get(f"/tenants/{tid}/invoices?month={month}").status_code == 404
    assert other_api.get(f"/tenants/{tid}/billing").status_code == 404
    assert stack.operator.post(f"/tenants/{other['id']}/invoices/{issued['id']}/credit-notes",
                               json={"amount": "1.00", "reason": "x"}).status_code == 404
    for bad in ("2026-13", "26-01", "2026-1", "", "2026-01;x"):
        answer = api.get(f"/tenants/{tid}/invoices", params={"month": bad})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid", bad


def test_circuit_pricing_bills_the_months_maximum_measured_from_asterisk(stack, phones, carrier):
    tenant, api, phone = office(stack, phones, "Devre A.Ş.", circuit_pricing=True)
    tid = tenant["id"]
    try:
        call = phone.call("02125550011")
        incoming = carrier.wait_incoming(timeout=10)
        incoming.answer()
        call.wait_confirmed(timeout=10)
        line = lambda: api.ok("GET", f"/tenants/{tid}/invoices?month={this_month()}")["lines"][0]["description"]
        measured = wait_for(lambda: "devre sayısı 1)" in line(), timeout=15)
        call.hangup()
        incoming.wait_disconnected(timeout=10)
    finally:
        phone.remove()
    assert measured, line()
    invoice = api.ok("GET", f"/tenants/{tid}/invoices?month={this_month()}")
    assert "devre sayısı 1)" in invoice["lines"][0]["description"]  # the stored maximum stays after the call
    assert (invoice["subtotal"], invoice["kdv"], invoice["total"]) == ("6000.00", "1200.00", "7200.00")
