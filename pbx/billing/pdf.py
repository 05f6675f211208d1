"""The invoice as a Turkish PDF. DejaVu Sans is embedded (Debian's fonts-dejavu-core),
so ç ğ ı İ ö ş ü print in any viewer; reportlab's built-in fonts have no ğ, ı, ş."""
from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
KINDS = {"invoice": "FATURA", "credit_note": "İADE FATURASI (DÜZELTME)"}


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def tl(amount: str) -> str:
    """Turkish notation: 12830.00 -> 12.830,00 TL."""
    whole, _, kurus = amount.partition(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{kurus or '00'} TL"


def render(invoice: dict, tenant_name: str) -> bytes:
    _register_fonts()
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


def _escape(value: str) -> str:
    """Paragraph text is reportlab's mini-markup: a name with < or & must print as written."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
