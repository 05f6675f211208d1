"""Calls from an extension to the public network. Pure.

`0` + a national number leaves through the default trunk; `00` + an international
number only for tenants with international calls; emergency numbers always leave.
The caller ID is the tenant's own public number.
"""
from __future__ import annotations

from dataclasses import dataclass

from pbx.domain.plans import Plan
from pbx.domain.recording import should_record
from pbx.routing.decision import Decision

EMERGENCY = frozenset({"112", "110", "155", "156", "177"})  # 112 is Turkey's single emergency number
REFUSED_SOUND = "cannot-complete-as-dialed"
COUNTRY = "90"


@dataclass(frozen=True)
class Caller:
    tenant_id: int
    international_calls: bool
    caller_id: str | None  # the tenant's public number, E.164
    plan: Plan | None = None
    record_calls: bool = False  # the calling extension's


def is_outbound(dialled: str) -> bool:
    return dialled in EMERGENCY or dialled.startswith("0")


def public_number(dialled: str) -> str | None:
    """What the carrier is sent: E.164, or the emergency short number as dialled."""
    if dialled in EMERGENCY:
        return dialled
    digits = dialled[2:] if dialled.startswith("00") else COUNTRY + dialled[1:]
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    if digits.startswith(COUNTRY) and len(digits) != len(COUNTRY) + 10:
        return None
    return "+" + digits


def route_outbound(dialled: str, caller: Caller, trunk: str | None) -> Decision:
    target = public_number(dialled)
    if target is None:
        return Decision("unknown", tenant_id=caller.tenant_id)
    international = dialled.startswith("00") and not target.startswith("+" + COUNTRY)
    if international and not caller.international_calls:
        return Decision("refused", tenant_id=caller.tenant_id, notice=REFUSED_SOUND)
    if trunk is None or (caller.caller_id is None and dialled not in EMERGENCY):
        return Decision("failure", tenant_id=caller.tenant_id)
    return Decision("outbound", dial=f"PJSIP/{target}@{trunk}", ring_seconds=120, tenant_id=caller.tenant_id,
                    caller_id=caller.caller_id or "", record=should_record(caller.plan, (caller.record_calls,)))
