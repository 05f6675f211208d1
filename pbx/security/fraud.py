"""Toll-fraud limits: what a tenant's calls may cost before they are refused. Pure.

A stolen SIP account is used to make many, long, international calls at once. Three caps
stop it: the tenant's concurrent calls (counted by Asterisk itself, GROUP_COUNT in
dialplans/pbx.conf [pbx-limit], so that racing calls never exceed it), the tenant's
international minutes per day, and each extension's outbound call attempts per minute.
International calls also need the tenant's `international_calls` permission (off by default).
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, replace

from pbx.routing.decision import Decision

REFUSED_SOUND = "all-circuits-busy-now"  # what the caller hears when a limit refuses the call
# Decisions that connect a call (and so count against the concurrent-call cap).
CONNECTING = frozenset({"dial", "hunt", "outbound", "ivr", "announce", "voicemail"})


@dataclass(frozen=True)
class FraudLimits:
    concurrent_calls: int
    international_minutes: int  # per day, Europe/Istanbul
    call_attempts_per_minute: int  # per extension, outbound


PLAN_LIMITS = {
    "girisimci": FraudLimits(concurrent_calls=4, international_minutes=60, call_attempts_per_minute=10),
    "kobi": FraudLimits(concurrent_calls=20, international_minutes=300, call_attempts_per_minute=20),
    "enterprise": FraudLimits(concurrent_calls=200, international_minutes=3000, call_attempts_per_minute=60),
}


def limits_for(plan: str, concurrent_calls: int | None = None, international_minutes: int | None = None,
               call_attempts_per_minute: int | None = None) -> FraudLimits:
    """The plan's limits, with what the operator set for the tenant (None: the plan's)."""
    base = PLAN_LIMITS[plan]
    overrides = {"concurrent_calls": concurrent_calls, "international_minutes": international_minutes,
                 "call_attempts_per_minute": call_attempts_per_minute}
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def capped(decision: Decision, limits: FraudLimits) -> Decision:
    """A connecting decision carries the tenant's concurrent-call cap to the dialplan."""
    if decision.action not in CONNECTING or decision.tenant_id is None:
        return decision
    return replace(decision, max_calls=limits.concurrent_calls)


def refused(decision: Decision) -> Decision:
    return Decision("refused", tenant_id=decision.tenant_id, notice=REFUSED_SOUND)


def is_international(dialled: str) -> bool:
    return dialled.startswith("00") and not dialled.startswith("0090")


class AttemptWindow:
    """Outbound attempts per extension within the last minute."""

    WINDOW_S = 60.0

    def __init__(self) -> None:
        self._seen: dict[str, collections.deque[float]] = {}

    def attempt(self, endpoint: str, now: float) -> int:
        """Records one attempt; how many there were in the last minute, this one included."""
        times = self._seen.setdefault(endpoint, collections.deque())
        times.append(now)
        while times[0] <= now - self.WINDOW_S:
            times.popleft()
        if len(self._seen) > 100_000:  # bounded: forget extensions quiet for a minute
            for key in [k for k, t in self._seen.items() if t[-1] <= now - self.WINDOW_S]:
                del self._seen[key]
        return len(times)

    def count(self, endpoint: str, now: float) -> int:
        """How many attempts the last minute holds, recording none (a click-to-call's preflight)."""
        return sum(1 for t in self._seen.get(endpoint, ()) if t > now - self.WINDOW_S)


def outbound_limit(decision: Decision, limits: FraudLimits, attempts: int, international_s_today: float,
                   dialled: str) -> str | None:
    """Which limit an outbound decision breaks, if any: "call_attempts_per_minute" or
    "international_minutes"."""
    if decision.action != "outbound":
        return None
    if attempts > limits.call_attempts_per_minute:
        return "call_attempts_per_minute"
    if is_international(dialled) and international_s_today >= 60 * limits.international_minutes:
        return "international_minutes"
    return None
