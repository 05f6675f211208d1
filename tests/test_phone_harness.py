"""The SIP test phone itself, without Asterisk: phones call each other directly."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import soundfile as sf

from tests.support.audio import dominant_frequency, rms_dbfs
from tests.support.phone import CallEnded

pytestmark = pytest.mark.phone

CARRIER_ADDRESS = "127.0.5.9"  # not the session carrier's address (tests/conftest.py)


@pytest.fixture
def new_phone(phones):
    """add_phone(register=False by default) on the session's Phones, removing the
    phones after the test: pjsua has room for only 8 accounts."""
    made = []

    def make(username, **kwargs):
        kwargs.setdefault("register", False)
        made.append(phones.add_phone(username, "secret", **kwargs))
        return made[-1]

    yield make
    for phone in made:
        phone.remove()


def direct_uri(phones, user, address=None):
    return f"sip:{user}@{address or '127.0.0.1'}:{phones.sip_port(address)}"


def connect(caller, callee_phone, uri):
    call = caller.call(uri)
    incoming = callee_phone.wait_incoming()
    incoming.answer()
    call.wait_confirmed()
    incoming.wait_confirmed()
    return call, incoming


def test_tone_reaches_the_other_phone(phones, new_phone, tmp_path):
    a, b = new_phone("a"), new_phone("b")
    call, incoming = connect(a, b, direct_uri(phones, "b"))
    recording = str(tmp_path / "b.wav")
    call.play_tone(1000)
    incoming.start_recording(recording)
    time.sleep(2)
    call.hangup()
    incoming.wait_disconnected()  # DISCONNECTED is only visible once the WAV is complete
    call.wait_disconnected()

    assert sf.info(recording).duration > 1.8
    assert dominant_frequency(recording, skip_seconds=0.3) == pytest.approx(1000, abs=20)
    assert rms_dbfs(recording, skip_seconds=0.3) > -20


def test_audio_survives_a_reinvite(phones, new_phone, tmp_path):
    a, b = new_phone("a"), new_phone("b")
    call, incoming = connect(a, b, direct_uri(phones, "b"))
    call.play_tone(1000)
    incoming.start_recording(str(tmp_path / "b.wav"))
    time.sleep(1)
    call.reinvite()  # both ends get new conference slots; player and recorder must follow
    time.sleep(1.5)
    wav = incoming.stop_recording()
    call.hangup()
    incoming.wait_disconnected()

    assert sf.info(wav).duration > 2.2
    assert dominant_frequency(wav, skip_seconds=1.8) == pytest.approx(1000, abs=20)
    assert rms_dbfs(wav, skip_seconds=1.8) > -20


def test_dtmf_arrives_as_rfc2833(phones, new_phone):
    a, b = new_phone("a"), new_phone("b")
    call, incoming = connect(a, b, direct_uri(phones, "b"))
    call.send_dtmf("2#")
    deadline = time.monotonic() + 5
    while incoming.received_dtmf() != "2#" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert incoming.received_dtmf() == "2#"
    call.hangup()
    incoming.wait_disconnected()


def test_phone_on_a_second_local_address(phones, new_phone, tmp_path):
    a = new_phone("a")
    carrier = new_phone("far-end", bind_address=CARRIER_ADDRESS)
    call, incoming = connect(a, carrier, direct_uri(phones, "far-end", CARRIER_ADDRESS))
    assert CARRIER_ADDRESS in incoming.local_info["local_contact"]
    assert CARRIER_ADDRESS in call.remote_contact

    incoming.play_tone(440)  # media must flow from the carrier's address too
    call.start_recording(str(tmp_path / "a.wav"))
    time.sleep(1.5)
    incoming.hangup()
    call.wait_disconnected()
    assert dominant_frequency(call.stop_recording(), skip_seconds=0.3) == pytest.approx(440, abs=20)


def test_auto_answer_rejection_and_ring_count(phones, new_phone):
    a = new_phone("a")
    b = new_phone("b", auto_answer=True, answer_delay=0.5)
    c = new_phone("c")

    answered = a.call(direct_uri(phones, "b"))
    answered.wait_state("EARLY")
    assert answered.state == "EARLY"  # the automatic 180, well before the delayed 200
    answered.wait_confirmed()
    assert b.incoming_count() == 1

    rejected = a.call(direct_uri(phones, "c"))
    c.wait_incoming().answer(486)
    with pytest.raises(CallEnded) as ended:
        rejected.wait_confirmed()
    assert ended.value.status_code == 486

    answered.hangup()
    answered.wait_disconnected()
    assert a.incoming_count() == 0


async def test_usable_from_asyncio(phones, new_phone):
    a, b = new_phone("a"), new_phone("b", auto_answer=True)
    call = a.call(direct_uri(phones, "b"))  # quick calls may run on the loop directly
    await asyncio.to_thread(call.wait_confirmed)  # waits belong in a thread
    incoming = await asyncio.to_thread(b.wait_incoming)
    await asyncio.to_thread(incoming.hangup)
    await asyncio.gather(asyncio.to_thread(call.wait_disconnected),
                         asyncio.to_thread(incoming.wait_disconnected))
    assert call.last_status_code == 200


class FakeRegistrar:
    """Just enough of a UDP registrar: 200 for ALLOWED users, 403 for the rest."""

    ALLOWED = {"alice"}

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()

    def _serve(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            if data.startswith(b"REGISTER "):
                self.sock.sendto(self._answer(data.decode()), addr)

    def _answer(self, request: str) -> bytes:
        headers = [line for line in request.split("\r\n\r\n")[0].split("\r\n")[1:] if ":" in line]
        get = lambda name: [h for h in headers if h.split(":", 1)[0].strip().lower() == name]  # noqa: E731
        expires = get("expires")[0].split(":", 1)[1].strip() if get("expires") else "300"
        user = get("to")[0].split("sip:", 1)[1].split("@", 1)[0]
        status = "200 OK" if user in self.ALLOWED else "403 Forbidden"
        lines = [f"SIP/2.0 {status}", *get("via"), *get("from"), get("to")[0] + ";tag=fake",
                 *get("call-id"), *get("cseq")]
        if status.startswith("200") and expires != "0":
            lines += [f"{c};expires={expires}" for c in get("contact")]
        lines += [f"Expires: {expires}", "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def registrar():
    r = FakeRegistrar()
    yield r
    r.close()


def test_registration_outcomes(new_phone, registrar):
    alice = new_phone("alice", port=registrar.port, register=True)
    mallory = new_phone("mallory", port=registrar.port, register=True)
    assert alice.wait_registered() == 200
    assert alice.is_registered()
    assert mallory.wait_registered() == 403
    assert not mallory.is_registered()

    alice.unregister()
    assert alice.wait_registered() == 200
    assert not alice.is_registered()
    alice.reregister()
    assert alice.wait_registered() == 200
    assert alice.is_registered()
