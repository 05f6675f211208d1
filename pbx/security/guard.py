"""Applies the toll-fraud limits to live calls and raises `fraud.suspected` when one refuses
a call. The concurrent-call cap is Asterisk's ([pbx-limit] in dialplans/pbx.conf, which
reports a refusal as an AMI UserEvent); attempts per minute and international minutes are
counted here, in memory: attempts from each decision, international seconds from the CDR
events (and, at start, from today's call records)."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from pbx.db.models import Call
from pbx.db.unit import Database
from pbx.events import EventBus
from pbx.routing.decision import Decision
from pbx.routing.snapshot import TenantRouting
from pbx.security.fraud import AttemptWindow, is_international, outbound_limit, refused

log = logging.getLogger(__name__)
TENANT_ZONE = ZoneInfo("Europe/Istanbul")  # a tenant's day
LIMITS = frozenset({"concurrent_calls", "call_attempts_per_minute", "international_minutes"})


def tenant_day(at: datetime) -> date:
    return at.astimezone(TENANT_ZONE).date()


class FraudGuard:
    def __init__(self, database: Database, events: EventBus):
        self.database, self.events = database, events
        self.attempts = AttemptWindow()
        self.international_s: dict[tuple[int, date], float] = {}
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Today's international seconds per tenant, from the call records already stored."""
        today = tenant_day(datetime.now(timezone.utc))
        since = datetime.combine(today, datetime.min.time(), TENANT_ZONE)
        query = (select(Call.tenant_id, func.sum(Call.billsec))
                 .where(Call.direction == "outbound", Call.started_at >= since, Call.number.like("+%"),
                        Call.number.not_like("+90%"), Call.tenant_id.is_not(None))
                 .group_by(Call.tenant_id))
        async with self.database.read() as session:
            for tenant_id, seconds in await session.execute(query):
                self.international_s[(tenant_id, today)] = float(seconds or 0)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def check(self, decision: Decision, endpoint: str, tenant: TenantRouting | None, dialled: str,
              now: datetime) -> Decision:
        """An outbound decision past the extension's attempts or the tenant's international
        minutes becomes a refusal (and raises fraud.suspected); anything else passes."""
        if decision.action != "outbound" or tenant is None or tenant.limits is None:
            return decision
        attempts = self.attempts.attempt(endpoint, time.monotonic())
        used = self.international_s.get((tenant.tenant_id, tenant_day(now)), 0.0)
        limit = outbound_limit(decision, tenant.limits, attempts, used, dialled)
        if limit is None:
            return decision
        self._suspected(tenant.tenant_id, limit, {"extension": endpoint})
        return refused(decision)

    def limit_for(self, decision: Decision, endpoint: str, tenant: TenantRouting | None, dialled: str,
                  now: datetime) -> str | None:
        """The limit that check() would refuse this decision by if it were made now, recording no
        attempt (the call itself, once it is dialled, is checked and counted by check())."""
        if decision.action != "outbound" or tenant is None or tenant.limits is None:
            return None
        attempts = self.attempts.count(endpoint, time.monotonic()) + 1
        used = self.international_s.get((tenant.tenant_id, tenant_day(now)), 0.0)
        return outbound_limit(decision, tenant.limits, attempts, used, dialled)

    def on_user_event(self, _manager, message) -> None:
        """AMI callback: the dialplan refused a call past the tenant's concurrent-call cap."""
        if message.get("UserEvent") != "PbxFraud":
            return
        tenant, limit = str(message.get("Tenant", "")), str(message.get("Limit", ""))
        if tenant.isdigit() and limit in LIMITS:
            self._suspected(int(tenant), limit, {"max": _int(message.get("Max"))})

    def on_cdr(self, _manager, message) -> None:
        """AMI callback: an answered international call adds its seconds to the tenant's day."""
        tenant, answer, end = (str(message.get(k, "")) for k in ("PbxTenant", "PbxAnswer", "PbxEnd"))
        if message.get("PbxAction") != "outbound" or not is_international(str(message.get("PbxDialled", ""))):
            return
        if tenant.isdigit() and _int(answer) and _int(end):
            day = tenant_day(datetime.fromtimestamp(_int(answer), timezone.utc))
            key = (int(tenant), day)
            self.international_s[key] = self.international_s.get(key, 0.0) + max(0, _int(end) - _int(answer))

    def _suspected(self, tenant_id: int, limit: str, data: dict) -> None:
        log.warning("toll-fraud limit %s refused a call of tenant %s", limit, tenant_id)
        task = asyncio.get_running_loop().create_task(
            self.events.emit("fraud.suspected", tenant_id, {"limit": limit, **data}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _int(value) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
