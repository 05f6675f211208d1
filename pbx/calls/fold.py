"""Asterisk's CDRs of one call (same linkedid) folded into the call record. Pure.

Asterisk writes several CDRs per call: one per Dial of a hunt, one for what the
channel did after a Dial, a short last one carrying what the hangup handler set.
The call is answered if any leg was; it starts with the first leg and ends with
the last; what the dialplan tagged (tenant, route, outcome) may sit on any leg.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pbx.calls.legs import Leg, Quality
from pbx.domain.errors import Invalid
from pbx.domain.numbers import to_e164
from pbx.routing.outbound import public_number

# Most telling first: what the dialplan decided beats what the channel saw.
_BY_CHANNEL = {"ANSWERED": "answered", "BUSY": "busy", "FAILED": "failed", "CONGESTION": "failed"}
_RANK = ("refused", "failed-tag", "answered", "busy", "failed", "no_answer")


@dataclass(frozen=True)
class CallRecord:
    linkedid: str
    tenant_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    direction: str  # inbound | outbound | internal
    caller: str | None
    callee: str | None
    number: str | None  # the public number: the DID called (inbound) or the number dialled (outbound)
    extension: str | None  # the tenant's extension on the call, for per-extension reports
    disposition: str  # answered | no_answer | busy | failed | refused
    duration_s: int
    billsec: int
    recording_file_id: str | None
    quality: Quality | None


def fold(legs: Iterable[Leg]) -> CallRecord:
    ordered = sorted(legs, key=lambda leg: (leg.start, leg.sequence))
    first = next((leg for leg in ordered if leg.route), ordered[0])
    direction = _direction(first.route, _first(leg.action for leg in ordered))
    disposition = _disposition(ordered)
    started, ended = ordered[0].start, max(leg.end for leg in ordered)
    answered = _answered_at(ordered) if disposition == "answered" else None
    answered_by = _first(leg.callee for leg in reversed(ordered)) if answered else None
    number, callee, extension = _parties(direction, first, answered_by)
    return CallRecord(
        linkedid=first.linkedid, tenant_id=_first(leg.tenant_id for leg in ordered),
        started_at=started, answered_at=answered, ended_at=ended, direction=direction,
        caller=_caller(direction, first.caller), callee=callee, number=number, extension=extension,
        disposition=disposition, duration_s=_seconds(started, ended),
        billsec=_seconds(answered, ended),
        recording_file_id=_first(leg.recording for leg in ordered),
        quality=_first(leg.quality for leg in reversed(ordered)),
    )


def _direction(route: str | None, action: str | None) -> str:
    if route == "inbound":
        return "inbound"
    return "outbound" if action in ("outbound", "refused") else "internal"


def _disposition(legs: list[Leg]) -> str:
    seen = {_BY_CHANNEL.get(leg.disposition, "no_answer") for leg in legs}
    seen |= {"failed-tag" if leg.outcome == "failed" else leg.outcome for leg in legs if leg.outcome}
    best = next(name for name in _RANK if name in seen)  # seen has a leg's at least
    return "failed" if best == "failed-tag" else best


def _answered_at(legs: list[Leg]) -> datetime | None:
    return min((leg.answer for leg in legs if leg.disposition == "ANSWERED" and leg.answer), default=None)


def _parties(direction: str, first: Leg, answered_by: str | None) -> tuple[str | None, str | None, str | None]:
    """(number, callee, extension) as the contract and the reports see them."""
    if direction == "inbound":
        return _e164(first.dialled), answered_by or _e164(first.dialled), answered_by
    if direction == "outbound":
        number = public_number(first.dialled) if first.dialled else None
        return number, number or first.dialled, first.caller
    return None, first.dialled, first.caller


def _caller(direction: str, caller: str | None) -> str | None:
    return (_e164(caller) or caller) if direction == "inbound" else caller


def _e164(digits: str | None) -> str | None:
    try:
        return to_e164(digits) if digits else None
    except Invalid:
        return None


def _first(values):
    return next((value for value in values if value is not None), None)


def seconds_between(since: datetime, until: datetime) -> int:
    return max(0, round((until - since).total_seconds()))


def _seconds(since: datetime | None, until: datetime) -> int:
    return seconds_between(since, until) if since else 0
