"""A fault as the API shows it. Breaches are worked out at read time as well as stored by the
watcher (pbx/ops/watch.py), so a fault shows a breach the moment its deadline passes."""
from __future__ import annotations

from datetime import datetime

from pbx.api.present import timestamp
from pbx.db.base import utcnow
from pbx.db.ops_tables import Fault
from pbx.ops import faults


def breaches(fault: Fault, now: datetime) -> list[str]:
    found = set(fault.breaches or [])
    answered = fault.responded_at or fault.resolved_at
    if (answered or now) > fault.respond_by:
        found.add("response")
    if (fault.resolved_at or now) > fault.resolve_by:
        found.add("resolution")
    if rfo_overdue(fault, now):
        found.add("rfo")
    return sorted(found)


def rfo_overdue(fault: Fault, now: datetime) -> bool:
    return bool(fault.rfo_due_at and fault.rfo_completed_at is None and now > fault.rfo_due_at)


async def present_fault(session, fault: Fault, *, detail: bool = False, now: datetime | None = None) -> dict:
    now = now or utcnow()
    shown = {
        "id": fault.id, "title": fault.title, "status": fault.status, "priority": fault.priority,
        "source": fault.source, "reason": fault.reason, "trunk_id": fault.trunk_id, "number": fault.number,
        "from": timestamp(fault.period_from), "to": timestamp(fault.period_to),
        "opened_at": timestamp(fault.opened_at), "respond_by": timestamp(fault.respond_by),
        "resolve_by": timestamp(fault.resolve_by), "responded_at": timestamp(fault.responded_at),
        "resolved_at": timestamp(fault.resolved_at), "cause": fault.cause, "fix": fault.fix,
        "prevention": fault.prevention, "rfo_due_at": timestamp(fault.rfo_due_at),
        "rfo_overdue": rfo_overdue(fault, now), "breaches": breaches(fault, now),
    }
    if detail:
        shown["history"] = [{"at": timestamp(h.at), "status": h.status, "by": h.by, "note": h.note}
                            for h in await faults.history(session, fault.id)]
        shown["calls"] = [_call(c) for c in await faults.linked_calls(session, fault.id)]
    return shown


def _call(call) -> dict:
    return {"id": call.id, "started_at": timestamp(call.started_at), "direction": call.direction,
            "caller": call.caller, "callee": call.callee, "disposition": call.disposition,
            "quality": {"jitter_ms": call.jitter_ms, "loss_percent": call.loss_percent, "rtt_ms": call.rtt_ms}}
