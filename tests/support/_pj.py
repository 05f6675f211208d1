"""The pjsua2 side of tests/support/phone.py: everything that runs on the owner thread.

pjsua2 allows one Endpoint per process and wants it created, pumped and
destroyed on one thread. `Engine` owns that thread; the public handles in
phone.py hand it work through submit() and read the plain state objects
(PhoneState, CallState) under `Engine.cond`. Test threads never hold pjsua2
objects: one garbage-collected off the owner thread makes pjlib assert.
A bad call id also asserts (aborts) rather than raises, so every operation
checks that its call is still live first.
"""

from __future__ import annotations

import collections
import gc
import itertools
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import pjsua2 as pj

log = logging.getLogger("tests.support.phone")

STATE_NAMES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}
CLOCK_RATE = 16000
# Behave like a plain desk phone: Asterisk tests expect G.711 unless they say otherwise.
CODEC_PRIORITY = {"PCMU/8000/1": 255, "PCMA/8000/1": 254, "G722/16000/1": 253, "GSM/8000/1": 100}
_RECEIVING = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)


@dataclass
class PhoneState:
    """Per-account facts shared with test threads (guarded by Engine.cond)."""
    key: int
    username: str
    domain: str
    port: int
    auto_answer: bool
    answer_delay: float
    display_name: str = ""       # sent as the From display name (SIP quoted-string)
    tls: bool = False            # SIP over TLS
    srtp: str = ""               # "", "optional" or "mandatory" (SDES)
    reg_sent: int = 0            # REGISTERs requested ...
    reg_done: int = 0            # ... and how many of those have a final answer
    reg_code: int | None = None
    reg_expires: int = 0
    reg_reason: str = ""
    incoming: collections.deque = field(default_factory=collections.deque)
    incoming_total: int = 0


@dataclass
class CallState:
    """Per-call facts shared with test threads (guarded by Engine.cond)."""
    key: int
    phone: PhoneState
    direction: str
    state: str = "NULL"
    seen: set = field(default_factory=set)
    last_status_code: int = 0
    last_reason: str = ""
    remote_uri: str = ""
    remote_contact: str = ""
    local_uri: str = ""
    local_contact: str = ""
    sip_call_id: str = ""
    codec: str = ""
    dtmf: str = ""
    recording_path: str | None = None


class CallEnded(Exception):
    """The call was DISCONNECTED before reaching the state a test waited for."""

    def __init__(self, status_code: int, reason: str = ""):
        super().__init__(f"call ended: {status_code} {reason}".strip())
        self.status_code, self.reason = status_code, reason


class PhoneError(RuntimeError):
    """A pjsua2 operation failed (pjsua2.Error carries no message of its own)."""


def pj_error_text(exc: Exception) -> str:
    # pjsua2.Error is an Exception whose str() is empty; the useful bits are attributes.
    return f"{getattr(exc, 'title', '')}: {getattr(exc, 'reason', exc)} (status {getattr(exc, 'status', '?')})"


def guarded(fn, *args) -> None:
    """Run a callback body; an exception escaping a SWIG director would abort the process."""
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - must never propagate into C++
        detail = pj_error_text(exc) if isinstance(exc, pj.Error) else repr(exc)
        log.exception("phone callback %s failed: %s", getattr(fn, "__name__", fn), detail)


def wav_complete(path: str) -> bool:
    """True once a recorder's file has its final RIFF header (any non-WAV: True)."""
    if not path.lower().endswith(".wav"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        return len(head) == 8 and int.from_bytes(head[4:], "little") == os.path.getsize(path) - 8
    except OSError:
        return False


def call_info_update(ci: pj.CallInfo) -> dict:
    """The CallState fields a CallInfo refreshes."""
    return {"state": STATE_NAMES.get(ci.state, ci.stateText),
            "last_status_code": int(ci.lastStatusCode), "last_reason": ci.lastReason,
            "remote_uri": ci.remoteUri, "remote_contact": ci.remoteContact,
            "local_uri": ci.localUri, "local_contact": ci.localContact, "sip_call_id": ci.callIdString}


def create_endpoint() -> pj.Endpoint:
    ep = pj.Endpoint()
    ep.libCreate()
    try:
        _configure(ep)
    except BaseException:
        ep.libDestroy()
        raise
    return ep


def _configure(ep: pj.Endpoint) -> None:
    debug = os.environ.get("PHONE_DEBUG") == "1"
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0          # we pump libHandleEvents ourselves ...
    cfg.uaConfig.mainThreadOnly = True  # ... so every callback lands on the owner thread
    cfg.uaConfig.maxCalls = 32          # default is 4; a peer-to-peer call uses two
    cfg.uaConfig.userAgent = "pbx-test-phone"
    cfg.logConfig.level = cfg.logConfig.consoleLevel = 5 if debug else 1
    cfg.logConfig.msgLogging = debug
    cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = CLOCK_RATE
    cfg.medConfig.noVad = True          # VAD would turn a quiet tone into silence frames
    cfg.medConfig.ecTailLen = 0
    cfg.medConfig.sndAutoCloseTime = -1  # the media clock also finishes destroyed recorders
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, CODEC_PRIORITY.get(codec.codecId, 0))


def create_udp_transport(ep: pj.Endpoint, address: str, tls: bool = False) -> tuple[int, int]:
    """Returns (transport id, bound port). tls: a TLS client transport (the server's
    certificate is not verified: tests use a self-signed one)."""
    cfg = pj.TransportConfig()
    cfg.port = 0
    cfg.boundAddress = address
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_TLS if tls else pj.PJSIP_TRANSPORT_UDP, cfg)
    return tid, int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])


def account_config(ps: PhoneState, password: str, *, register: bool, realm: str,
                   transport_id: int, media_address: str) -> pj.AccountConfig:
    cfg = pj.AccountConfig()
    params = ";transport=tls" if ps.tls else ""
    uri = f"sip:{ps.username}@{ps.domain}:{ps.port}{params}"
    if ps.display_name:
        quoted = ps.display_name.replace("\\", "\\\\").replace('"', '\\"')
        uri = f'"{quoted}" <{uri}>'
    cfg.idUri = uri
    # Always configured so a register=False phone can still reregister() later.
    cfg.regConfig.registrarUri = f"sip:{ps.domain}:{ps.port}{params}"
    cfg.regConfig.registerOnAdd = register
    cfg.regConfig.retryIntervalSec = 0   # a refused REGISTER must stay refused for the test to see it
    cfg.regConfig.unregWaitMsec = 1000   # bounds libDestroy when the registrar is gone
    cfg.sipConfig.transportId = transport_id
    cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", realm, ps.username, 0, password))
    cfg.mediaConfig.transportConfig.boundAddress = media_address
    cfg.mediaConfig.transportConfig.port = 0
    cfg.mediaConfig.srtpUse = {"optional": pj.PJMEDIA_SRTP_OPTIONAL, "mandatory": pj.PJMEDIA_SRTP_MANDATORY}.get(
        ps.srtp, pj.PJMEDIA_SRTP_DISABLED)
    cfg.mediaConfig.srtpSecureSignaling = 0
    nat = cfg.natConfig
    nat.iceEnabled = False
    nat.sipStunUse = nat.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    # No rewriting: on loopback the addresses are already right, and a rewrite
    # triggers an extra REGISTER that tests would see as noise.
    nat.contactRewriteUse = nat.viaRewriteUse = nat.sdpNatRewriteUse = 0
    nat.sipOutboundUse = 0
    nat.udpKaIntervalSec = 0
    return cfg


def call_param(status_code: int = 0, headers: dict[str, str] | None = None) -> pj.CallOpParam:
    prm = pj.CallOpParam(True)
    prm.opt.audioCount, prm.opt.videoCount = 1, 0
    if status_code:
        prm.statusCode = status_code
    for name, value in (headers or {}).items():
        hdr = pj.SipHeader()
        hdr.hName, hdr.hValue = name, value
        prm.txOption.headers.append(hdr)
    return prm


class PjAccount(pj.Account):
    def __init__(self, engine, ps: PhoneState):
        super().__init__()
        self.engine, self.ps = engine, ps

    def onRegState(self, prm):
        guarded(self.engine.on_reg_state, self.ps, prm.code, prm.expiration, prm.reason)

    def onIncomingCall(self, prm):
        guarded(self.engine.on_incoming, self, prm.callId)


class PjCall(pj.Call):
    """A pjsua call plus the player/recorder we keep wired to its audio."""

    def __init__(self, acc: PjAccount, engine, st: CallState, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(acc, call_id)
        self.engine, self.st = engine, st
        self.player: pj.AudioMediaPlayer | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.ended = False  # DISCONNECTED seen, even if not yet published to CallState

    def onCallState(self, prm):
        guarded(self.engine.on_call_state, self)

    def onCallMediaState(self, prm):
        # A re-INVITE gives the call a fresh conference slot: wire everything up again.
        guarded(self.attach_media)
        guarded(self.engine.on_media_state, self)

    def onDtmfDigit(self, prm):
        guarded(self.engine.on_dtmf, self, prm.digit)

    def live(self) -> bool:
        return not self.ended and self.isActive()

    def audio_streams(self):
        """(media index, AudioMedia) for every audio stream the far end is sending us."""
        # Keep the CallInfo alive: .media is a view into it, and iterating the
        # vector of a discarded temporary reads freed memory.
        info = self.getInfo()
        indexes = [mi.index for mi in info.media
                   if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status in _RECEIVING and mi.audioConfSlot >= 0]
        return [(idx, self.getAudioMedia(idx)) for idx in indexes]

    def attach_media(self) -> None:
        if not self.live():
            return
        for _, aud in self.audio_streams():
            if self.player is not None:
                self.player.startTransmit(aud)
            if self.recorder is not None:
                aud.startTransmit(self.recorder)

    def codec_name(self) -> str:
        for idx, _ in self.audio_streams():
            return self.getStreamInfo(idx).codecName
        return ""

    def set_player(self, path: str, loop: bool) -> None:
        player = pj.AudioMediaPlayer()
        player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        self.player = player  # the replaced player is destroyed, which unhooks it
        self.attach_media()

    def set_recorder(self, path: str) -> None:
        self.recorder = None  # finish the previous file before starting another
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(path)
        self.recorder = recorder
        self.attach_media()

    def drop_media(self) -> str | None:
        """Returns the path of a recording this stopped. Its WAV header is written by
        the media clock thread a frame or two later (see wav_complete)."""
        stopped = self.st.recording_path if self.recorder is not None else None
        self.player = None
        self.recorder = None
        return stopped


DEFAULT_ADDRESS = "127.0.0.1"
OP_TIMEOUT = 30.0
MAX_ACCOUNTS = 8  # PJSUA_MAX_ACC compiled into the wheel


class Engine:
    """The owner thread: runs submitted work, auto-answer timers and libHandleEvents."""

    _exists = threading.Lock()  # held while an Engine lives: a second Endpoint aborts the process

    def __init__(self):
        if not Engine._exists.acquire(blocking=False):
            raise PhoneError("only one Phones may exist per process (pjsua2 has one Endpoint); close the other")
        self.cond = threading.Condition()  # guards every PhoneState/CallState
        self.tmpdir = tempfile.mkdtemp(prefix="phones-")
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.next_key = itertools.count(1).__next__  # ids for PhoneState/CallState
        self._accepting = True
        self._stopping = False
        self._ep: pj.Endpoint | None = None
        # Owner-thread-only state below.
        self._transports: dict[str, tuple[int, int]] = {}
        self._accounts: dict[int, PjAccount] = {}
        self._calls: dict[int, PjCall] = {}
        self._timers: list[tuple[float, int]] = []
        self._reap: list[int] = []
        self._finishing: list[tuple[float, str, CallState, dict]] = []  # DISCONNECTEDs awaiting a WAV
        started: Future = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="pjsua-phones", daemon=True)
        self._thread.start()
        try:
            started.result(timeout=OP_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    # ---- called from any thread -------------------------------------------
    def submit(self, fn, *args, timeout: float = OP_TIMEOUT):
        """Run fn(*args) on the owner thread and return its result."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        fut: Future = Future()
        with self.cond:
            if not self._accepting:
                raise PhoneError("Phones is closed")
            self._tasks.put((fn, args, fut))
        return fut.result(timeout)

    def wait(self, predicate, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def stop(self) -> None:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._tasks.put((self._request_stop, (), Future()))
            self._thread.join(timeout=OP_TIMEOUT)
        if not self._thread.is_alive():  # else pjsua is still up; a new Endpoint would abort
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            Engine._exists.release()

    # ---- the loop -----------------------------------------------------------
    def _run(self, started: Future) -> None:
        try:
            self._ep = create_endpoint()
            self.transport(DEFAULT_ADDRESS)
            self._ep.libStart()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the constructor
            started.set_exception(exc)
            self._shutdown()
            return
        started.set_result(None)
        try:
            while not self._stopping:
                self._run_tasks()
                self._run_timers()
                self._ep.libHandleEvents(10)
                self._publish_finished()
                self._reap_calls()
        finally:
            self._shutdown()

    def _run_tasks(self) -> None:
        while not self._stopping:
            try:
                fn, args, fut = self._tasks.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except pj.Error as exc:
                fut.set_exception(PhoneError(pj_error_text(exc)))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                fut.set_exception(exc)

    def _request_stop(self) -> None:
        self._stopping = True

    def _run_timers(self) -> None:
        now = time.monotonic()
        due = [key for when, key in self._timers if when <= now]
        self._timers = [(when, key) for when, key in self._timers if when > now]
        for key in due:
            guarded(self._auto_answer, key)

    def _pump_until(self, predicate, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not predicate() and time.monotonic() < deadline:
            self._ep.libHandleEvents(10)
            self._publish_finished()

    def _shutdown(self) -> None:
        with self.cond:
            self._accepting = False
        while not self._tasks.empty():
            self._tasks.get_nowait()[2].set_exception(PhoneError("Phones is closed"))
        if self._ep is None:
            return
        self._drop_calls(list(self._calls))
        for acc in self._accounts.values():
            acc.shutdown()
        self._accounts.clear()
        gc.collect()  # a Call or Account outliving libDestroy aborts the process at exit
        self._ep.libDestroy()
        self._ep = None
        self._publish_finished(force=True)

    # ---- operations (owner thread) -----------------------------------------
    def transport(self, address: str, tls: bool = False) -> tuple[int, int]:
        key = (address, "tls") if tls else address
        if key not in self._transports:
            self._transports[key] = create_udp_transport(self._ep, address, tls)
        return self._transports[key]

    def close_transport(self, address: str) -> None:
        """pjsua holds few transports (PJ_ETOOMANY past them) for the whole session: one bound
        to an address a test made and takes away again is closed once its phones are gone."""
        for key in (address, (address, "tls")):
            if key in self._transports:
                self._ep.transportClose(self._transports.pop(key)[0])

    def add_account(self, ps: PhoneState, password: str, register: bool, realm: str, address: str) -> None:
        if len(self._accounts) >= MAX_ACCOUNTS:  # pjsua would assert (abort), not fail
            raise PhoneError(f"pjsua allows only {MAX_ACCOUNTS} accounts at once; remove() unused phones")
        tid, _ = self.transport(address, ps.tls)
        cfg = account_config(ps, password, register=register, realm=realm, transport_id=tid,
                             media_address=address)
        acc = PjAccount(self, ps)
        acc.config_args = (realm, tid, address)  # set_password rebuilds the same account with new credentials
        if register:
            with self.cond:
                ps.reg_sent += 1
        acc.create(cfg, True)
        self._accounts[ps.key] = acc

    def set_password(self, ps: PhoneState, password: str) -> None:
        """New credentials on the same account (pjsua2 allows few accounts: reuse them);
        modify() itself sends a fresh REGISTER with them."""
        acc = self._account(ps)
        realm, tid, address = acc.config_args
        with self.cond:
            ps.reg_sent += 1
        acc.modify(account_config(ps, password, register=True, realm=realm, transport_id=tid,
                                  media_address=address))

    def set_registration(self, ps: PhoneState, renew: bool) -> None:
        acc = self._account(ps)
        with self.cond:
            ps.reg_sent += 1
        try:
            acc.setRegistration(renew)
        except Exception:
            with self.cond:  # nothing is in flight after all
                ps.reg_done = ps.reg_sent
            raise

    def set_default(self, ps: PhoneState) -> None:
        """pjsua hands an incoming request no account matches to the default account, which
        every new account becomes: a test that adds one gives the carrier its calls back."""
        self._accounts[ps.key].setDefault()

    def remove_account(self, ps: PhoneState) -> None:
        self._drop_calls([k for k, c in self._calls.items() if c.st.phone is ps])
        acc = self._accounts.pop(ps.key, None)
        if acc is not None:
            acc.shutdown()  # unregisters if registered; we will not hear the answer
            del acc
            gc.collect()
        with self.cond:
            ps.reg_expires = 0

    def make_call(self, st: CallState, uri: str, headers: dict[str, str] | None) -> None:
        call = PjCall(self._account(st.phone), self, st)
        self._calls[st.key] = call
        try:
            call.makeCall(uri, call_param(headers=headers))
        except Exception:
            del self._calls[st.key]
            raise

    def answer(self, key: int, code: int) -> None:
        call = self._live_call(key)
        if code >= 300:  # refusing an unanswered call is a hangup with that code
            call.hangup(call_param(code))
        else:
            call.answer(call_param(code))

    def hangup(self, key: int) -> None:
        call = self._calls.get(key)
        if call is not None and call.live():
            try:
                call.hangup(call_param())
            except pj.Error as exc:  # e.g. already being torn down by the far end
                log.debug("hangup: %s", pj_error_text(exc))

    def play(self, key: int, path: str, loop: bool) -> None:
        self._live_call(key).set_player(path, loop)

    def record(self, key: int, path: str) -> None:
        self._live_call(key).set_recorder(path)
        with self.cond:
            self._calls[key].st.recording_path = path

    def stop_recording(self, key: int) -> None:
        call = self._calls.get(key)
        if call is not None:
            call.recorder = None  # the media clock writes the WAV header shortly after

    def send_dtmf(self, key: int, digits: str) -> None:
        self._live_call(key).dialDtmf(digits)

    def reinvite(self, key: int) -> None:
        prm = call_param()
        prm.opt.flag = pj.PJSUA_CALL_REINIT_MEDIA  # new RTP transport: new conference slots
        self._live_call(key).reinvite(prm)

    # ---- helpers (owner thread) ---------------------------------------------
    def _account(self, ps: PhoneState) -> PjAccount:
        if ps.key not in self._accounts:
            raise PhoneError(f"phone {ps.username} was removed")
        return self._accounts[ps.key]

    def _live_call(self, key: int) -> PjCall:
        call = self._calls.get(key)
        if call is None or not call.live():
            st = call.st if call else None
            raise CallEnded(st.last_status_code if st else 0, st.last_reason if st else "call is over")
        return call

    def _auto_answer(self, key: int) -> None:
        call = self._calls.get(key)
        if call is not None and call.live() and call.st.state in ("INCOMING", "EARLY"):
            self.answer(key, 200)

    def _drop_calls(self, keys: list[int]) -> None:
        """Hang up, give the far ends a moment to confirm, then delete the pjsua2 objects."""
        for key in keys:
            self.hangup(key)
        self._pump_until(lambda: all(self._calls[k].ended for k in keys), 2.0)
        for key in keys:
            call = self._calls[key]
            if not call.ended:  # release anyone still waiting on it
                call.drop_media()
                call.ended = True
                self._publish(call.st, {"state": "DISCONNECTED",
                                        "last_reason": call.st.last_reason or "dropped by the harness"})
        self._pump_until(lambda: not self._finishing, 1.0)
        self._reap.extend(keys)
        self._reap_calls()

    def _reap_calls(self) -> None:
        """Delete pjsua2 objects of finished calls; handles keep their CallState."""
        if not self._reap:
            return
        for key in self._reap:
            self._calls.pop(key, None)
        self._reap.clear()
        gc.collect()  # a Call caught in a cycle must die here, not on some other thread

    # ---- pjsua2 callbacks (owner thread, must not block) ----------------------
    def on_reg_state(self, ps: PhoneState, code: int, expiration: int, reason: str) -> None:
        with self.cond:
            ps.reg_code = code or 503  # 0: no response at all (transport failure)
            ps.reg_expires, ps.reg_reason = expiration, reason
            ps.reg_done = ps.reg_sent
            self.cond.notify_all()

    def on_incoming(self, acc: PjAccount, call_id: int) -> None:
        st = CallState(self.next_key(), acc.ps, "incoming")
        call = PjCall(acc, self, st, call_id)
        self._calls[st.key] = call
        self.on_call_state(call)
        with self.cond:
            acc.ps.incoming.append(st)
            acc.ps.incoming_total += 1
            self.cond.notify_all()
        if acc.ps.auto_answer:
            self._timers.append((time.monotonic() + acc.ps.answer_delay, st.key))
        call.answer(call_param(180))

    def on_call_state(self, call: PjCall) -> None:
        update = call_info_update(call.getInfo())
        if update["state"] == "DISCONNECTED":
            call.ended = True
            self._reap.append(call.st.key)
            wav = call.drop_media()
            if wav:  # waiters of DISCONNECTED may read the file at once: publish when it is whole
                self._finishing.append((time.monotonic() + 1.0, wav, call.st, update))
                return
        self._publish(call.st, update)

    def _publish(self, st: CallState, update: dict) -> None:
        with self.cond:
            for name, value in update.items():
                setattr(st, name, value)
            st.seen.add(st.state)
            self.cond.notify_all()

    def _publish_finished(self, force: bool = False) -> None:
        now = time.monotonic()
        for item in list(self._finishing):
            deadline, wav, st, update = item
            if force or now > deadline or wav_complete(wav):
                self._finishing.remove(item)
                self._publish(st, update)

    def on_media_state(self, call: PjCall) -> None:
        codec = call.codec_name()
        with self.cond:
            call.st.codec = codec

    def on_dtmf(self, call: PjCall, digit: str) -> None:
        with self.cond:
            call.st.dtmf += digit
            self.cond.notify_all()
