"""What Asterisk does on its own when the control plane cannot decide. Pure.

The control plane keeps a snapshot in Asterisk's own database (astdb family
`pbx-fallback`), so that calls are still answered while it is down or slow:
  ep/<sip id>            -> tenant id of an extension
  ext/<tenant>/<number>  -> dial:PJSIP/<sip id>
  did/<E.164 digits>     -> dial:<targets> | play:<prompt path> | hangup
                            (a suspended tenant's numbers: play:<the suspension message>)
A number's entry is the decision routing would make at snapshot time, reduced to
what the dialplan can do without asking (a menu plays its greeting; a sequential
ring group rings everyone at once).
"""
from __future__ import annotations

from datetime import datetime

from pbx.routing.decision import Decision
from pbx.routing.decisions import suspended
from pbx.routing.snapshot import Snapshot
from pbx.routing.to_destination import route_destination

FAMILY = "pbx-fallback"


def static_action(decision: Decision) -> str | None:
    match decision.action:
        case "dial":
            return f"dial:{decision.dial}"
        case "hunt":
            return f"dial:{decision.dial.replace('^', '&')}"
        case "announce" | "ivr":
            return f"play:{decision.playback}"
        case "hangup":
            return "hangup"
        case "suspended":
            return f"play:{decision.notice}"
    return None


def extension_entries(tenant_id: int, number: str, sip_id: str) -> dict[str, str]:
    return {f"ep/{sip_id}": str(tenant_id), f"ext/{tenant_id}/{number}": f"dial:PJSIP/{sip_id}"}


def number_key(e164: str) -> str:
    return f"did/{e164.removeprefix('+')}"


def entries(snap: Snapshot, now: datetime) -> dict[str, str]:
    """The whole astdb family for a routing snapshot, at `now` (schedules)."""
    found: dict[str, str] = {}
    for party in snap.endpoints.values():
        found |= extension_entries(party.tenant_id, party.number, party.sip_id)
    return found | number_entries(snap, now)


def number_entries(snap: Snapshot, now: datetime) -> dict[str, str]:
    """The did/ entries: what each public number does at `now` (schedules change with the clock)."""
    found: dict[str, str] = {}
    for e164, number in snap.numbers.items():
        tenant = snap.tenants[number.tenant_id]
        decision = (suspended(tenant.tenant_id) if tenant.suspended
                    else route_destination(number.destination, tenant.at(now), tenant.tenant_id))
        if action := static_action(decision):
            found[number_key(e164)] = action
    return found


def extension_delta(old: Snapshot, new: Snapshot) -> tuple[dict[str, str], set[str]]:
    """The ep/ and ext/ entries to put, and the keys to delete, to go from `old` to `new`.
    Snapshot steps reuse what they did not change, so a tenant (or an extension) that is
    the same object in both is skipped without a look inside."""
    put: dict[str, str] = {}
    gone: set[str] = set()
    for tenant_id in old.tenants.keys() | new.tenants.keys():
        before, after = old.tenants.get(tenant_id), new.tenants.get(tenant_id)
        if before is after:
            continue
        was, now = (before.extensions if before else {}), (after.extensions if after else {})
        for number, party in was.items():
            if now.get(number) is not party:
                gone.update(extension_entries(tenant_id, number, party.sip_id))
        for number, party in now.items():
            if was.get(number) is not party:
                put |= extension_entries(tenant_id, number, party.sip_id)
    return put, gone - put.keys()
