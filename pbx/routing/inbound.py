"""Calls from a trunk to a tenant's public number. Pure."""
from __future__ import annotations

from dataclasses import replace

from pbx.domain.recording import NOTICE_SOUND, wants_notice
from pbx.routing.decision import Decision
from pbx.routing.to_destination import Resolved, route_destination

# Decisions that take the call nowhere: nothing to be told about recording.
_NOWHERE = frozenset({"failure", "unknown", "hangup"})


def route_inbound(dest, resolved: Resolved, tenant_id: int, recording_notice: bool) -> Decision:
    """The number's destination decides; the caller is told first when the tenant records.
    recording_notice is the tenant's switch. Only this first decision carries the notice: later ones (IVR keys, ring group
    fall-through) belong to a call that has already heard it."""
    decision = route_destination(dest, resolved, tenant_id)
    if decision.action in _NOWHERE or not wants_notice(resolved.plan, recording_notice, bool(resolved.recorded)):
        return decision
    return replace(decision, recording_notice=NOTICE_SOUND)
