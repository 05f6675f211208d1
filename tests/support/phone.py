"""Real SIP phones for tests: one pjsua2 Endpoint, many accounts, a thread-safe API.

    with Phones() as phones:
        alice = phones.add_phone("alice", "secret")       # REGISTERs to 127.0.0.1:5060
        assert alice.wait_registered() == 200
        call = alice.call("200")                          # sip:200@127.0.0.1:5060
        call.wait_confirmed()

Every method may be called from any thread (asyncio tests: asyncio.to_thread for
the waits). The work runs on the Engine's owner thread (see _pj.py); waits only
watch the shared state objects, so they never block pjsua2.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
import time

from . import _pj
from ._pj import CallEnded, PhoneError
from .audio import write_tone_wav

__all__ = ["Phones", "Phone", "CallHandle", "CallEnded", "PhoneError", "answer_and_hang_up"]

# INCOMING and CALLING are the same stage seen from either end.
_STATE_RANK = {"NULL": 0, "CALLING": 1, "INCOMING": 1, "EARLY": 2, "CONNECTING": 3, "CONFIRMED": 4}
_DISPLAY_NAME = re.compile(r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^<"]*?))\s*<')


def _call_field(name: str) -> property:
    """A read-only view of one field of the call's shared state."""
    return property(lambda self: getattr(self._st, name))


def answer_and_hang_up(call: CallHandle, callee: Phone, *, ring_s: float = 10) -> CallHandle:
    """`callee` answers `call` (ringing within `ring_s`); once the caller sees it up, the caller
    hangs up and the callee sees it end. Returns the callee's leg."""
    incoming = callee.wait_incoming(timeout=ring_s)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    call.hangup()
    incoming.wait_disconnected()
    return incoming


class Phones:
    """Owns the single pjsua2 Endpoint (and its thread); creates phones on it."""

    def __init__(self):
        self._engine = _pj.Engine()
        self._closed = False
        self._close_lock = threading.Lock()
        # A forgotten close() would leave pjsua to be torn down from the wrong thread.
        atexit.register(self.close)

    def __enter__(self) -> Phones:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add_phone(self, username: str, password: str, *, domain: str = "127.0.0.1", port: int = 5060,
                  register: bool = True, bind_address: str | None = None, realm: str = "*",
                  auto_answer: bool = False, answer_delay: float = 0.0, display_name: str = "",
                  tls: bool = False, srtp: str = "") -> Phone:
        """Account sip:username@domain:port; REGISTERs to sip:domain:port unless register=False.

        Returns at once; use wait_registered() for the outcome. bind_address puts
        the phone's SIP and RTP on that local address (one UDP transport each). tls: SIP over
        TLS to `port`; srtp: "optional" or "mandatory" SRTP media (SDES)."""
        ps = _pj.PhoneState(self._engine.next_key(), username, domain, port, auto_answer, answer_delay,
                            display_name, tls, srtp)
        address = bind_address or _pj.DEFAULT_ADDRESS
        self._engine.submit(self._engine.add_account, ps, password, register, realm, address)
        return Phone(self._engine, ps)

    def sip_port(self, bind_address: str | None = None) -> int:
        """UDP port of the SIP transport on bind_address (created on first use)."""
        return self._engine.submit(self._engine.transport, bind_address or _pj.DEFAULT_ADDRESS)[1]

    def release_address(self, bind_address: str) -> None:
        """Closes the transports bound to bind_address (its phones removed first): the session
        shares one pjsua, which holds only a few transports."""
        self._engine.submit(self._engine.close_transport, bind_address)

    def close(self) -> None:
        """Hang up everything, delete all pjsua2 objects, destroy the library. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        self._engine.stop()


class Phone:
    """One SIP account on the shared endpoint."""

    def __init__(self, engine: _pj.Engine, ps: _pj.PhoneState):
        self._engine, self._ps = engine, ps
        self.username = ps.username

    def __repr__(self) -> str:
        return f"<Phone sip:{self.username}@{self._ps.domain}:{self._ps.port}>"

    def wait_registered(self, timeout: float = 5.0) -> int:
        """Final status of the latest REGISTER (200, 401, 403, 404, 408...)."""
        ps = self._ps
        with self._engine.cond:
            if ps.reg_sent == 0:
                raise TimeoutError(f"{self}: no REGISTER was sent (register=False?)")
        if not self._engine.wait(lambda: ps.reg_done >= ps.reg_sent, timeout):
            raise TimeoutError(f"{self}: no final answer to REGISTER within {timeout}s")
        return ps.reg_code

    def registration_status(self) -> int | None:
        return self._ps.reg_code

    def is_registered(self) -> bool:
        with self._engine.cond:
            return self._ps.reg_code == 200 and self._ps.reg_expires > 0

    def reregister(self) -> None:
        self._engine.submit(self._engine.set_registration, self._ps, True)

    def set_password(self, password: str) -> None:
        """REGISTERs again with another password (wait_registered() for the answer)."""
        self._engine.submit(self._engine.set_password, self._ps, password)

    def unregister(self) -> None:
        self._engine.submit(self._engine.set_registration, self._ps, False)

    def call(self, target: str, *, headers: dict[str, str] | None = None) -> CallHandle:
        """target: a full sip:/sips: URI, or a user part dialled at this phone's domain:port."""
        params = ";transport=tls" if self._ps.tls else ""
        uri = target if re.match(r"sips?:", target) else f"sip:{target}@{self._ps.domain}:{self._ps.port}{params}"
        st = _pj.CallState(self._engine.next_key(), self._ps, "outgoing")
        self._engine.submit(self._engine.make_call, st, uri, headers)
        return CallHandle(self._engine, st)

    def wait_incoming(self, timeout: float = 5.0) -> CallHandle:
        """Next incoming call not yet taken (it has already been answered 180 Ringing)."""
        if not self._engine.wait(lambda: self._ps.incoming, timeout):
            raise TimeoutError(f"{self}: no incoming call within {timeout}s")
        with self._engine.cond:
            return CallHandle(self._engine, self._ps.incoming.popleft())

    def incoming_count(self) -> int:
        """Incoming calls ever received, taken or not (assert 0 for "never rang")."""
        return self._ps.incoming_total

    def make_default(self) -> None:
        """This account gets the incoming requests no other account matches (pjsua's default)."""
        self._engine.submit(self._engine.set_default, self._ps)

    def remove(self) -> None:
        """Hang up this phone's calls and delete the account (unregistering if registered)."""
        self._engine.submit(self._engine.remove_account, self._ps)


class CallHandle:
    """One call leg of one of our phones."""

    def __init__(self, engine: _pj.Engine, st: _pj.CallState):
        self._engine, self._st = engine, st

    def __repr__(self) -> str:
        return f"<CallHandle {self._st.direction} {self._st.remote_uri or '?'} {self._st.state}>"

    def answer(self, code: int = 200) -> None:
        """200 answers; a code >= 300 rejects the (unanswered) call with that status."""
        self._engine.submit(self._engine.answer, self._st.key, code)

    def hangup(self) -> None:
        """CANCEL, BYE or reject as fits the call's state; no-op once it is over."""
        self._engine.submit(self._engine.hangup, self._st.key)

    def wait_state(self, state: str, timeout: float = 5.0) -> None:
        """Returns once the call has reached `state` or a later one (EARLY is
        satisfied by CONFIRMED). Raises CallEnded if the call disconnects first."""
        if state not in _STATE_RANK and state != "DISCONNECTED":
            raise ValueError(f"unknown call state {state!r}")
        st = self._st
        if not self._engine.wait(lambda: self._reached(state) or "DISCONNECTED" in st.seen, timeout):
            raise TimeoutError(f"{self}: not {state} within {timeout}s")
        with self._engine.cond:
            if not self._reached(state):
                raise CallEnded(st.last_status_code, st.last_reason)

    def _reached(self, state: str) -> bool:
        if state in self._st.seen:
            return True
        rank = _STATE_RANK.get(state, 99)
        return any(_STATE_RANK.get(seen, -1) >= rank for seen in self._st.seen)

    def wait_confirmed(self, timeout: float = 5.0) -> None:
        self.wait_state("CONFIRMED", timeout)

    def wait_disconnected(self, timeout: float = 10.0) -> None:
        self.wait_state("DISCONNECTED", timeout)

    state = _call_field("state")
    last_status_code = _call_field("last_status_code")
    last_reason = _call_field("last_reason")
    remote_uri = _call_field("remote_uri")
    remote_contact = _call_field("remote_contact")

    @property
    def remote_display_name(self) -> str:
        """Display name in the far end's URI: the From of an incoming call."""
        m = _DISPLAY_NAME.match(self._st.remote_uri)
        if not m:
            return ""
        quoted = m.group("quoted")
        return re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else m.group("token")

    @property
    def local_info(self) -> dict:
        with self._engine.cond:
            st = self._st
            return {"direction": st.direction, "phone": st.phone.username, "local_uri": st.local_uri,
                    "local_contact": st.local_contact, "sip_call_id": st.sip_call_id, "codec": st.codec,
                    "recording_path": st.recording_path}

    def play_tone(self, freq_hz: float, *, seconds: float = 30.0, amplitude: float = 0.5) -> None:
        """Loop a sine into the call (survives re-INVITEs)."""
        name = f"tone-{self._st.key}-{freq_hz:g}Hz-{time.monotonic_ns()}.wav"
        path = write_tone_wav(os.path.join(self._engine.tmpdir, name), freq_hz, seconds,
                              rate=_pj.CLOCK_RATE, amplitude=amplitude)
        self.play_file(path, loop=True)

    def play_file(self, wav_path: str, loop: bool = False) -> None:
        """Replace whatever this phone is sending with the WAV file."""
        self._engine.submit(self._engine.play, self._st.key, os.fspath(wav_path), loop)

    def start_recording(self, wav_path: str) -> None:
        """Record what the far end sends (early media included). The WAV is complete
        when stop_recording() returns, or once this leg is seen DISCONNECTED."""
        self._engine.submit(self._engine.record, self._st.key, os.fspath(wav_path))

    def stop_recording(self) -> str | None:
        """Stops recording; returns the path (None if never recording) once the WAV is complete."""
        self._engine.submit(self._engine.stop_recording, self._st.key)
        path = self._st.recording_path
        deadline = time.monotonic() + 2.0
        while path and not _pj.wav_complete(path) and time.monotonic() < deadline:
            time.sleep(0.01)
        return path

    def send_dtmf(self, digits: str) -> None:
        """RFC 2833 telephone-events."""
        self._engine.submit(self._engine.send_dtmf, self._st.key, digits)

    def received_dtmf(self) -> str:
        return self._st.dtmf

    def reinvite(self) -> None:
        """Re-INVITE with fresh media, as a PBX does when it bridges or moves a call."""
        self._engine.submit(self._engine.reinvite, self._st.key)
