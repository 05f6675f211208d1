"""Calls between extensions of one tenant. Pure: no sockets, no database."""
from __future__ import annotations

from dataclasses import dataclass

from pbx.domain.plans import Plan
from pbx.domain.recording import should_record
from pbx.routing.decision import FAILURE, Decision

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
