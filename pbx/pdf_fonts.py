"""The one font of every PDF we make (invoices, operations reports): DejaVu Sans, embedded
from Debian's fonts-dejavu-core, so ç ğ ı İ ö ş ü print in any viewer (reportlab's built-in
fonts have no ğ, ı, ş). Registered once per process, on first use, not at import."""
from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FILES = {FONT: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


def dejavu() -> str:
    """Registers the regular and bold faces, each if missing; the regular face's name."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    return FONT


def escape(text: str) -> str:
    """Paragraph text is reportlab's mini-markup: a name with < or & must print as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
