"""The invoice as a Turkish PDF, in DejaVu Sans (pbx/pdf_fonts.py)."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from pbx.pdf_fonts import BOLD, FONT, dejavu
from pbx.pdf_fonts import escape as _escape

KINDS = {"invoice": "FATURA", "credit_note": "İADE FATURASI (DÜZELTME)"}


def tl(amount: str) -> str:
    """Turkish notation: 12830.00 -> 12.830,00 TL."""
    whole, _, kurus = amount.partition(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{kurus or '00'} TL"


def render(invoice: dict, tenant_name: str) -> bytes:
    dejavu()
    out = io.BytesIO()
    text = ParagraphStyle("text", fontName=FONT, fontSize=10, leading=13)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20)
    heading = KINDS.get(invoice["kind"], "FATURA") + (" (TASLAK)" if invoice["status"] == "draft" else "")
    story = [Paragraph(heading, title), Spacer(1, 4 * mm),
             Paragraph(f"Müşteri: {_escape(tenant_name)}", text),
             Paragraph(f"Dönem: {invoice['month']}", text),
             Paragraph(f"Fatura no: {invoice['id'] if invoice['id'] is not None else '—'}", text),
             Spacer(1, 6 * mm), _table(invoice), Spacer(1, 6 * mm),
             Paragraph("Tutarlar Türk lirasıdır; kuruşa yarım yukarı yuvarlanır. KDV oranı %20.", text)]
    SimpleDocTemplate(out, pagesize=A4, title=heading, author="Bulut Santral").build(story)
    return out.getvalue()


def _table(invoice: dict) -> Table:
    rows = [["Açıklama", "Miktar", "Birim fiyat", "Tutar"]]
    rows += [[Paragraph(_escape(l["description"]), ParagraphStyle("cell", fontName=FONT, fontSize=9)),
              l["quantity"], tl(l["unit_price"]), tl(l["amount"])] for l in invoice["lines"]]
    rows += [["", "", "Ara toplam", tl(invoice["subtotal"])], ["", "", "KDV (%20)", tl(invoice["kdv"])],
             ["", "", "Genel toplam", tl(invoice["total"])]]
    table = Table(rows, colWidths=[85 * mm, 20 * mm, 30 * mm, 35 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("FONTNAME", (2, -1), (-1, -1), BOLD), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (2, -3), (-1, -3), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table

