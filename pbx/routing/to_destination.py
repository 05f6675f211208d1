"""Where a destination sends a call. Pure: the handler resolves what it names first."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from pbx.domain.destinations import (
    AnnouncementDest,
    ExtensionDest,
    HangupDest,
    IvrDest,
    RingGroupDest,
    ScheduleDest,
    VoicemailDest,
)
from pbx.domain.plans import Plan
from pbx.domain.recording import should_record
from pbx.domain.schedules import Schedule, is_open
from pbx.routing import ivr
from pbx.routing.decision import FAILURE, Decision
from pbx.routing.internal import DEFAULT_RING_SECONDS, Party


@dataclass(frozen=True)
class Group:
    group_id: int
    members: tuple[str, ...]  # SIP ids, in ringing order
    sequential: bool
    ring_seconds: int
    has_next: bool
    record_flags: tuple[bool, ...] = ()  # the members' record_calls


@dataclass(frozen=True)
class Resolved:
    """What the destination's references are, in this tenant, right now."""

    extensions: dict[str, str] = field(default_factory=dict)  # extension number -> SIP id
    prompts: dict[int, str] = field(default_factory=dict)  # prompt id -> playback path
    menus: dict[int, ivr.Menu] = field(default_factory=dict)  # IVR id -> menu
    schedules: dict[int, Schedule] = field(default_factory=dict)
    now: datetime | None = None  # when the call is routed (schedules)
    groups: dict[int, Group] = field(default_factory=dict)
    voicemail: dict[str, int] = field(default_factory=dict)  # extension number -> id, where voicemail is on
    plan: Plan | None = None  # the tenant's (whether calls may be recorded)
    recorded: frozenset[str] = frozenset()  # extension numbers with record_calls


def route_destination(dest, resolved: Resolved, tenant_id: int) -> Decision:
    match dest:
        case ExtensionDest(extension=number) if number in resolved.extensions:
            box = resolved.voicemail.get(number)
            return Decision("dial", dial=f"PJSIP/{resolved.extensions[number]}",
                            ring_seconds=DEFAULT_RING_SECONDS, tenant_id=tenant_id,
                            after=f"vm:{box}" if box else "",
                            record=should_record(resolved.plan, (number in resolved.recorded,)))
        case VoicemailDest(extension=number) if number in resolved.voicemail:
            return Decision("voicemail", tenant_id=tenant_id, voicemail_ext=resolved.voicemail[number])
        case AnnouncementDest(prompt_id=prompt_id) if prompt_id in resolved.prompts:
            return Decision("announce", playback=resolved.prompts[prompt_id], tenant_id=tenant_id)
        case IvrDest(ivr_id=ivr_id) if ivr_id in resolved.menus:
            return ivr.enter(resolved.menus[ivr_id])
        case ScheduleDest(schedule_id=schedule_id, open=when_open, closed=when_closed) \
                if schedule_id in resolved.schedules and resolved.now is not None:
            branch = when_open if is_open(resolved.schedules[schedule_id], resolved.now) else when_closed
            return route_destination(branch, resolved, tenant_id)
        case RingGroupDest(ring_group_id=group_id) if group_id in resolved.groups and \
                resolved.groups[group_id].members:
            return ring_group(resolved.groups[group_id], tenant_id, resolved.plan)
        case HangupDest():
            return Decision("hangup", tenant_id=tenant_id)
    return FAILURE  # names something that is gone, or a kind this build cannot route yet


def ring_group(group: Group, tenant_id: int, plan: Plan | None = None) -> Decision:
    # Dial() rings '&'-joined targets together; the dialplan's hunt loop takes
    # '^'-joined ones in turn with CUT(), whose field list syntax uses '&' itself.
    joiner = "^" if group.sequential else "&"
    return Decision("hunt" if group.sequential else "dial", dial=joiner.join(f"PJSIP/{m}" for m in group.members),
                    ring_seconds=group.ring_seconds, tenant_id=tenant_id,
                    after=f"rg:{group.group_id}" if group.has_next else "",
                    record=should_record(plan, group.record_flags))


def from_extension(dest, resolved: Resolved, caller: Party) -> Decision:
    """An extension calling its tenant's own public number: the destination decides, and
    as for any internal call, the caller's own record_calls counts too."""
    decision = route_destination(dest, resolved, caller.tenant_id)
    if decision.action in ("dial", "hunt") and should_record(resolved.plan, (caller.record,)):
        return replace(decision, record=True)
    return decision
