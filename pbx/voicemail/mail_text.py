"""The voicemail e-mail, in Turkish: who called, when (the tenant's clock), how long;
the recording attached as WAV. Pure: the caller is a number reduced to dialable
characters (pbx/services/voicemail.py caller_number), the name is the extension's
validated name, and both go only into the body, never into a header."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

TENANT_ZONE = ZoneInfo("Europe/Istanbul")  # contract: tenant-facing times default to it


def duration_tr(ms: int) -> str:
    """42 saniye · 1 dakika 5 saniye · 2 dakika."""
    minutes, seconds = divmod(max(1, round(ms / 1000)), 60)
    parts = ([f"{minutes} dakika"] if minutes else []) + ([f"{seconds} saniye"] if seconds or not minutes else [])
    return " ".join(parts)


def when_tr(at: datetime, zone: ZoneInfo = TENANT_ZONE) -> str:
    """01.12.2026 14:05 (the tenant's clock)."""
    return at.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def caller_tr(caller: str) -> str:
    return "Bilinmeyen numara" if caller in ("", "unknown") else caller


def compose(message: EmailMessage, *, extension_number: str, extension_name: str, caller: str,
            at: datetime, duration_ms: int, message_id: int, audio: bytes, domain: str = "pbx") -> EmailMessage:
    """Fills a Mailer.message(...) with the subject, text and attachment; Message-ID is the
    message's own, so a send repeated after a crash can be recognised by the reader."""
    who = caller_tr(caller)
    message.replace_header("Subject", f"Yeni sesli mesaj: {who} ({duration_tr(duration_ms)})")
    message["Message-ID"] = f"<voicemail-{message_id}@{domain}>"
    message.set_content(
        f"Merhaba {extension_name},\n\n"
        f"{extension_number} numaralı dahilinize yeni bir sesli mesaj bırakıldı.\n\n"
        f"Arayan: {who}\n"
        f"Tarih: {when_tr(at)}\n"
        f"Süre: {duration_tr(duration_ms)}\n\n"
        "Ses kaydı bu e-postanın ekindedir.\n")
    message.add_attachment(audio, maintype="audio", subtype="wav", filename=f"sesli-mesaj-{message_id}.wav")
    return message
