"""Invoices and operations reports share one font registration: whichever document a
process renders first, the other still finds both faces it uses."""
from __future__ import annotations

import subprocess
import sys

RFO = {"fault_id": 3, "title": "Çağrı <kesinti> & düzeltme", "start": "2026-11-02 09:00", "end": "2026-11-02 10:00",
       "cause": "Taşıyıcı arızası", "fix": "Yönlendirme değişti", "prevention": None}
INVOICE = {"kind": "invoice", "status": "draft", "month": "2026-11", "id": None, "subtotal": "100.00", "kdv": "20.00",
           "total": "120.00", "lines": [{"description": "KOBİ <paket>", "quantity": 1, "unit_price": "100.00",
                                         "amount": "100.00"}]}


def test_an_invoice_renders_after_an_operations_report_in_the_same_process():
    # A fresh interpreter: reportlab's font registry is per process, and other tests fill it.
    script = ("from pbx.ops.documents import rfo_pdf; from pbx.billing.pdf import render; "
              f"assert rfo_pdf({RFO!r})[:5] == b'%PDF-'; assert render({INVOICE!r}, 'Ayşe & Oğul')[:5] == b'%PDF-'")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_escaped_text_prints_as_written():
    from pbx.pdf_fonts import escape
    assert escape("A<b>&c") == "A&lt;b&gt;&amp;c"
