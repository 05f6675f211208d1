"""Finished calls logged back to the tenant's CRM as call activities.

A call owed is a crm_call_logs row written in the call record's own transaction (so a
restart loses none); one loop finds the due ones and starts each tenant's on its own task,
one task per tenant at a time (a hung CRM holds up only its own tenant's logs), and retries
a failure on the webhooks' schedule (pbx/eventing/retry.py) until it has failed for a day.
Nothing here is on a call's path."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pbx.crm.base import CallLog
from pbx.db.crm_tables import CrmCallLog, CrmConnection
from pbx.db.models import Call
from pbx.eventing.retry import RetrySchedule
from pbx.tasks import KeyedTasks, WakeableLoop

log = logging.getLogger(__name__)
BATCH = 100
_DISPOSITIONS = {"answered": "ANSWERED", "no_answer": "NO ANSWER", "busy": "BUSY"}


def call_fields(call: Call) -> dict:
    """What log_call needs, as JSON (the row outlives the process)."""
    return {"call_id": call.linkedid, "direction": call.direction, "caller": call.caller, "callee": call.callee,
            "started_at": call.started_at.isoformat(), "duration_s": call.billsec,
            "disposition": _DISPOSITIONS.get(call.disposition, "FAILED"), "extension": call.extension}


def call_log(fields: dict) -> CallLog:
    return CallLog(**{**fields, "started_at": datetime.fromisoformat(fields["started_at"])})


class CrmCallLogger:
    def __init__(self, database, lookups, schedule: RetrySchedule, *, interval_s: float = 5.0):
        self.database, self.lookups, self.schedule = database, lookups, schedule
        self.loop = WakeableLoop("crm-call-logs", self._log_due, interval_s=interval_s, debounce_s=0.2,
                                 run_at_start=True)
        self._tenants = KeyedTasks("crm-call-logs", on_end=self.loop.poke)  # per tenant id: its logs under way

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        await self._tenants.cancel()  # what they were logging stays owed

    async def calls_stored(self, unit, linkedids: set[str]) -> None:
        """In the call records' transaction: a row owed for each tenant call whose tenant has a CRM."""
        calls = list(await unit.session.scalars(
            select(Call).join(CrmConnection, CrmConnection.tenant_id == Call.tenant_id)
            .where(Call.linkedid.in_(sorted(linkedids)), Call.direction != "internal")))
        if not calls:
            return
        owed = set(await unit.session.scalars(select(CrmCallLog.call_id).where(
            CrmCallLog.call_id.in_([c.linkedid for c in calls]))))
        try:  # a savepoint: the call records never pay for this
            async with unit.session.begin_nested():
                unit.session.add_all([CrmCallLog(tenant_id=c.tenant_id, call_id=c.linkedid, call=call_fields(c),
                                                 status="pending", attempts=0, next_attempt_at=_now())
                                      for c in calls if c.linkedid not in owed])
        except Exception:
            log.exception("CRM call logs of %d calls not owed", len(calls))
            return
        unit.after_commit(self._poke)

    async def _poke(self) -> None:
        self.loop.poke()

    async def _log_due(self) -> None:
        """Starts each tenant with due logs and none under way; returns at once."""
        async with self.database.read() as session:
            due = list(await session.scalars(select(CrmCallLog).where(
                CrmCallLog.status == "pending", CrmCallLog.next_attempt_at <= _now(),
                CrmCallLog.tenant_id.not_in(self._tenants.busy()))
                .order_by(CrmCallLog.id).limit(BATCH)))
        per_tenant: dict[int, list[CrmCallLog]] = {}
        for row in due:
            per_tenant.setdefault(row.tenant_id, []).append(row)
        for tenant_id, rows in per_tenant.items():
            self._tenants.start(tenant_id, lambda rows=rows: self._log_tenant(rows))

    async def _log_tenant(self, rows: list[CrmCallLog]) -> None:
        outcomes = await self._tenant(rows)
        async with self.database.unit() as unit:
            for row_id, fields in outcomes:
                row = await unit.session.get(CrmCallLog, row_id)
                for name, value in (fields if row is not None else {}).items():
                    setattr(row, name, value)

    async def _tenant(self, rows: list[CrmCallLog]) -> list[tuple[int, dict]]:
        """One tenant's due logs, in order; after a failure the rest wait as long as it does."""
        results = []
        for index, row in enumerate(rows):
            try:
                logged = await self.lookups.log_call(row.tenant_id, call_log(row.call))
            except Exception as exc:
                failed = self._failed(row, f"{type(exc).__name__}: {exc}"[:200])
                later = {"next_attempt_at": failed["next_attempt_at"]} if "next_attempt_at" in failed else {}
                return results + [(row.id, failed)] + [(other.id, later) for other in rows[index + 1:]]
            results.append((row.id, {"status": "logged" if logged else "failed", "attempts": row.attempts + 1,
                                     "last_error": None if logged else "the tenant has no CRM any more"}))
        return results

    def _failed(self, row: CrmCallLog, error: str) -> dict:
        attempts = row.attempts + 1
        if self.schedule.exhausted((_now() - row.created_at).total_seconds()):
            return {"status": "failed", "attempts": attempts, "last_error": error}
        return {"attempts": attempts, "last_error": error,
                "next_attempt_at": _now() + timedelta(seconds=self.schedule.delay(attempts))}


def _now() -> datetime:
    return datetime.now(timezone.utc)
