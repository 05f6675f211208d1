"""Calls between extensions of one tenant. Pure: no sockets, no database."""
from __future__ import annotations

from dataclasses import dataclass

from pbx.domain.plans import Plan
from pbx.domain.recording import should_record

DEFAULT_RING_SECONDS = 30


@dataclass(frozen=True)
class Party:
    tenant_id: int
    number: str
    sip_id: str
    extension_id: int = 0
    voicemail: bool = False
    record: bool = False  # the extension's record_calls


def after_unanswered(callee: Party) -> str:
    return f"vm:{callee.extension_id}" if callee.voicemail else ""


@dataclass(frozen=True)
class Decision:
    action: str  # an extension of [pbx-apply]: dial, hunt, outbound, refused, announce, ivr, voicemail,
    # hangup, unknown, failure
    dial: str = ""
    ring_seconds: int = 0
    tenant_id: int | None = None
    playback: str = ""  # a prompt path as Asterisk sees it
    ivr_id: int | None = None
    attempt: int = 0
    timeout_s: int = 0
    notice: str = ""  # an Asterisk sound played first (e.g. "option-is-invalid")
    after: str = ""  # what an unanswered call does next: "rg:<ring group id>" or "vm:<extension id>"
    voicemail_ext: int | None = None  # "voicemail": the extension whose box records
    caller_id: str = ""  # outbound: the number the far end sees
    record: bool = False  # Asterisk records the call into the spool (pbx/domain/recording.py)
    recording_notice: str = ""  # inbound: a sound the caller hears before anything else
    max_calls: int = 0  # the tenant's concurrent-call cap, applied by the dialplan ([pbx-limit]); 0: none


UNKNOWN = Decision("unknown")
FAILURE = Decision("failure")


def route_internal(caller: Party | None, callee: Party | None, plan: Plan | None = None) -> Decision:
    """callee is the extension the dialled number names, looked up in the caller's
    tenant only; a number of another tenant never arrives here as a callee."""
    if caller is None:
        return FAILURE  # the calling endpoint is not (or no longer) an extension
    if callee is None or callee.tenant_id != caller.tenant_id or callee.sip_id == caller.sip_id:
        return Decision("unknown", tenant_id=caller.tenant_id)
    return Decision("dial", dial=f"PJSIP/{callee.sip_id}", ring_seconds=DEFAULT_RING_SECONDS,
                    tenant_id=caller.tenant_id, after=after_unanswered(callee),
                    record=should_record(plan, (caller.record, callee.record)))
