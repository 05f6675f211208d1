"""Voicemail e-mail's pure parts: Turkish text, the tenant's clock, who gets one, retries."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

from pbx.mail import Mailer
from pbx.voicemail.mail_text import compose, duration_tr, when_tr
from pbx.voicemail.sender import schedule_from
from pbx.voicemail.settle import mail_owed


def test_durations_and_times_in_turkish():
    assert [duration_tr(ms) for ms in (300, 42_000, 60_000, 65_400, 300_000)] == [
        "1 saniye", "42 saniye", "1 dakika", "1 dakika 5 saniye", "5 dakika"]
    assert when_tr(datetime(2026, 12, 1, 11, 5, tzinfo=timezone.utc)) == "01.12.2026 14:05"  # UTC+3


def test_only_kobi_and_up_with_an_address_get_mail():
    assert mail_owed("kobi", "a@b.tr") and mail_owed("enterprise", "a@b.tr")
    assert not mail_owed("girisimci", "a@b.tr") and not mail_owed("kobi", None) and not mail_owed("kobi", "")


def test_the_mail_carries_the_audio_and_the_facts():
    mailer = Mailer("localhost", 25, "santral@example.com")
    message = compose(mailer.message("ayse@example.com", "", ""), extension_number="101", extension_name="Ayşe Öz",
                      caller="+905321234567", at=datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc),
                      duration_ms=65_000, message_id=9, audio=b"RIFF....WAVE")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Yeni sesli mesaj: +905321234567 (1 dakika 5 saniye)"
    assert parsed["To"] == "ayse@example.com" and parsed["Message-ID"] == "<voicemail-9@pbx>"
    text = parsed.get_body(("plain",)).get_content()
    assert "Ayşe Öz" in text and "Tarih: 01.12.2026 12:00" in text and "Arayan: +905321234567" in text
    [wav] = list(parsed.iter_attachments())
    assert wav.get_content_type() == "audio/wav" and wav.get_content() == b"RIFF....WAVE"
    unknown = compose(mailer.message("a@b.tr", "", ""), extension_number="1", extension_name="x", caller="unknown",
                      at=datetime.now(timezone.utc), duration_ms=1000, message_id=1, audio=b"")
    assert "Bilinmeyen numara" in unknown["Subject"]


def test_mail_retries_never_give_up():
    schedule = schedule_from("")
    assert (schedule.first_s, schedule.cap_s) == (30.0, 3600.0) and not schedule.exhausted(10 ** 9)
    assert schedule_from("0.5,1").delay(50) <= 1



def test_the_settlers_cdr_callback_only_pokes_its_loop():
    """Every call's Cdr event reaches it: it must neither touch the database nor wait."""
    import asyncio
    import inspect

    from pbx.voicemail.settle import VoicemailSettler

    class NoDatabase:
        def __getattr__(self, name):
            raise AssertionError(f"the Cdr callback used the database ({name})")

    async def scenario():
        settler = VoicemailSettler(NoDatabase(), events=None, voicemail=None)
        assert not settler.loop.poked
        assert settler.on_call_record(None, {"Event": "Cdr"}) is None  # not a coroutine: nothing awaited
        assert settler.loop.poked

    assert not inspect.iscoroutinefunction(VoicemailSettler.on_call_record)
    asyncio.run(scenario())
