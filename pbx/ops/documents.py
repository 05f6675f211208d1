"""Reports as documents: PDF (reportlab, with a bar chart; DejaVu Sans embedded so Turkish
letters print, Debian's fonts-dejavu-core) and Excel (openpyxl). Cells never start a formula."""
from __future__ import annotations

import io

from openpyxl import Workbook
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from pbx.pdf_fonts import dejavu as _font
from pbx.pdf_fonts import escape as _escape

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _styles():
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "Normal"):
        styles[name].fontName = _font()
    return styles


def _chart(months: list[dict]) -> Drawing:
    drawing = Drawing(460, 180)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, 400, 130
    chart.data = [[m["faults"] for m in months]]
    chart.categoryAxis.categoryNames = [m["month"][2:] for m in months]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = _font()
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    return drawing


def performance_pdf(report: dict, title: str) -> bytes:
    styles, out = _styles(), io.BytesIO()
    rows = [["Ay", "Arıza sayısı", "Ort. çözüm (saat)"]] + [
        [m["month"], str(m["faults"]), "-" if m["mean_resolution_hours"] is None else f"{m['mean_resolution_hours']:.2f}"]
        for m in report["months"]]
    story = [Paragraph(title, styles["Title"]), Paragraph("Son 12 ay – aylık arıza sayısı", styles["Heading2"]),
             _chart(report["months"]), Table(rows, style=[("FONTNAME", (0, 0), (-1, -1), _font())]),
             Spacer(1, 12), Paragraph("Arıza kaynakları: " + ", ".join(f"{k}: {v}" for k, v in report["sources"].items()),
                                      styles["Normal"]),
             Paragraph("En çok arıza bırakan devreler: " + ", ".join(
                 f"{t['name']} ({t['faults']})" for t in report["worst_trunks"]), styles["Normal"]),
             Paragraph("Şikâyet sebepleri: " + ", ".join(
                 f"{_escape(c['label_tr'])} ({c['faults']})" for c in report["complaint_reasons"]), styles["Normal"]),
             Paragraph("En sık şikâyet başlıkları: " + ", ".join(
                 f"{_escape(c['title'])} ({c['faults']})" for c in report["complaint_titles"]), styles["Normal"])]
    if "availability" in report:
        a = report["availability"]
        story.append(Paragraph(f"Erişilebilirlik: %{a['percent']} (taahhüt %{a['promise']})", styles["Normal"]))
    SimpleDocTemplate(out, pagesize=A4, title=title).build(story)
    return out.getvalue()


def rfo_pdf(rfo: dict) -> bytes:
    styles, out = _styles(), io.BytesIO()
    fields = [("Arıza başlangıç zamanı", rfo["start"]), ("Arıza bitiş zamanı", rfo["end"]),
              ("Arıza sebebi", rfo["cause"]), ("Arızanın nasıl çözüldüğü", rfo["fix"]),
              ("Bir daha yaşanmaması için alınan aksiyonlar", rfo["prevention"])]
    story = [Paragraph(f"RFO – Arıza #{rfo['fault_id']}: {_escape(rfo['title'])}", styles["Title"])]
    for label, value in fields:
        story += [Paragraph(label, styles["Heading2"]), Paragraph(_escape(value or "-"), styles["Normal"])]
    SimpleDocTemplate(out, pagesize=A4, title=f"RFO {rfo['fault_id']}").build(story)
    return out.getvalue()


def performance_xlsx(report: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Aylık"
    sheet.append(["Ay", "Arıza sayısı", "Ort. çözüm (saat)"])
    for m in report["months"]:
        sheet.append([m["month"], m["faults"], m["mean_resolution_hours"]])
    sources = book.create_sheet("Kaynaklar")
    for key, value in report["sources"].items():
        sources.append([_cell(key), value])
    worst = book.create_sheet("Devreler")
    for t in report["worst_trunks"]:
        worst.append([_cell(t["name"] or str(t["trunk_id"])), t["faults"]])
    reasons = book.create_sheet("Şikâyetler")
    reasons.append(["Sebep", "Reason", "Kod", "Şikâyet sayısı"])
    for c in report["complaint_reasons"]:
        reasons.append([c["label_tr"], c["label_en"], c["reason"] or "", c["faults"]])
    titles = book.create_sheet("Şikâyet başlıkları")
    for c in report["complaint_titles"]:
        titles.append([_cell(c["title"]), c["faults"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rfo_xlsx(rfo: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "RFO"
    for key in ("fault_id", "title", "priority", "trunk", "start", "end", "cause", "fix", "prevention", "due_at"):
        sheet.append([key, _cell(rfo[key]) if isinstance(rfo[key], str) else rfo[key]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula
