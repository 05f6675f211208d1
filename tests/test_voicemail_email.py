"""Voicemail to e-mail against the real Asterisk with real phones: a KOBİ extension's new
message reaches a local SMTP server (which is down at first, and the control plane is
restarted meanwhile: the send is retried and arrives once), in Turkish, with the caller's tone in the WAV attachment; Girişimci gets
no e-mail; voicemail.created is raised for both."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.audio import dominant_frequency
from tests.support.calls import wait_for
from tests.support.events import EventStream
from tests.support.smtp import SmtpServer

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def _box(stack, phones, plan, number):
    """A tenant whose extension 102 (voicemail, e-mail) is away and whose 103 calls it."""
    tenant, api = stack.new_tenant(plan)
    away = api.ok("POST", f"/tenants/{tenant['id']}/extensions",
                  {"number": "102", "name": "Gülşen Çelik", "voicemail": True, "email": f"vm{number}@example.com"})
    me = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "103", "name": "Me"})
    phone = phones.add_phone(me["sip"]["username"], me["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    return tenant, api, away, phone


def _mails_of(stack, tenant_id):
    return stack.sql("SELECT status, attempts FROM voicemail_mails WHERE tenant_id = :t", t=tenant_id)


def test_new_message_is_mailed_once_after_smtp_comes_back_and_girisimci_gets_none(stack, phones, tmp_path):
    kobi, kobi_api, kobi_box, kobi_phone = _box(stack, phones, "kobi", 1)
    small, _, _, small_phone = _box(stack, phones, "girisimci", 2)
    stream = EventStream(stack.operator.base, kobi["id"], kobi_api.token)
    try:
        calls = [kobi_phone.call("102"), small_phone.call("102")]  # both leave a message at once
        for call in calls:
            call.wait_confirmed(timeout=20)
        time.sleep(7.0)  # the greeting, then the beep
        for call in calls:
            call.play_tone(700.0)
        time.sleep(4.0)
        for call in calls:
            call.hangup()
            call.wait_disconnected()
        created = stream.wait_for(lambda e: e["type"] == "voicemail.created", timeout=60)
        assert created, stream.events
        assert created["data"]["extension"] == "102" and created["data"]["caller"] == "103"
        assert 3 <= created["data"]["duration_s"] <= 8 and created["data"]["message_id"]
        # The SMTP server is not there yet: the send fails and stays owed.
        assert wait_for(lambda: [r for r in _mails_of(stack, kobi["id"]) if r[1] >= 2], timeout=60)
        stream.close()  # (an open stream holds a graceful stop up to aiohttp's shutdown timeout)
        stack.control.stop()  # what is owed is a row: a restart meanwhile loses nothing
        stack.control.start()
        stack.wait_ami(60)
        with SmtpServer() as smtp:
            assert wait_for(lambda: smtp.messages, timeout=60)
            time.sleep(3)  # nothing more comes
            assert len(smtp.messages) == 1, [m["To"] for m in smtp.messages]
            mail = smtp.messages[0]
        assert _mails_of(stack, kobi["id"])[0][0] == "sent" and _mails_of(stack, small["id"]) == []
    finally:
        stream.close()
        kobi_phone.remove()
        small_phone.remove()
    assert mail["To"] == "vm1@example.com" and "103" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "Gülşen Çelik" in text and "Arayan: 103" in text and re.search(r"Süre: \d saniye", text), text
    shown = datetime.strptime(re.search(r"Tarih: (\d\d\.\d\d\.\d{4} \d\d:\d\d)", text).group(1), "%d.%m.%Y %H:%M")
    now = datetime.now(ZoneInfo("Europe/Istanbul")).replace(tzinfo=None)
    assert now - timedelta(minutes=5) <= shown <= now, text  # the tenant's clock
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    path = tmp_path / "attached.wav"
    path.write_bytes(attachment.get_content())
    assert abs(dominant_frequency(str(path), skip_seconds=0.5) - 700) < 20
