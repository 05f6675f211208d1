"""Webhook deliveries, at least once: works from the webhook_deliveries rows only (so
it resumes after a restart), one delivery at a time per webhook in seq order, each
webhook on its own task, at most `per_tenant` in flight per tenant. A failure is
retried on the one RetrySchedule; a 410 stops; a webhook failing for the schedule's whole give-up time is disabled and
the tenant gets a webhook.disabled event."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import Row, bindparam, select, update

from pbx.db.event_tables import EventRow, Webhook, WebhookDelivery
from pbx.eventing.outbox import published
from pbx.eventing.retry import RetrySchedule
from pbx.eventing.sender import Outcome, Sender
from pbx.tasks import KeyedTasks, WakeableLoop

log = logging.getLogger(__name__)
BATCH = 500
DEBOUNCE_S = 0.05
# What one due delivery needs of its row, its webhook and its event.
DUE_COLUMNS = (WebhookDelivery.id.label("delivery_id"), WebhookDelivery.attempts, WebhookDelivery.webhook_id,
               Webhook.tenant_id, Webhook.url, Webhook.secret, Webhook.failing_since, EventRow.id.label("event_id"),
               EventRow.seq, EventRow.type, EventRow.at, EventRow.data)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _published(row: Row) -> dict:
    return published(row.event_id, row.seq, row.type, row.tenant_id, row.at, row.data)


class WebhookDispatcher:
    def __init__(self, database, events, sender: Sender, schedule: RetrySchedule, *, per_tenant: int = 4,
                 interval_s: float = 1.0):
        self.database, self.events, self.sender, self.schedule = database, events, sender, schedule
        self.per_tenant = per_tenant
        self._tenant_slots: dict[int, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_tenant))
        self._in_flight = KeyedTasks("webhook", on_end=self.poke)  # per webhook id: its deliveries under way
        # Retries fall due with no poke: looked for every interval (a test's short schedule, sooner).
        # Debounced: every committed event batch and every webhook's finished batch pokes, and each
        # run reads and sorts the pending rows; a burst of pokes is one read (bench/fanout.py).
        self._loop = WakeableLoop("webhook-dispatch", self.dispatch_due, retry_s=1.0, run_at_start=True,
                                  interval_s=min(interval_s, schedule.first_s / 2), debounce_s=DEBOUNCE_S)

    def on_event(self, _event: dict) -> None:
        """Event sink: a new event may owe deliveries (their rows are already committed)."""
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._in_flight.cancel()
        await self.sender.close()

    async def dispatch_due(self) -> int:
        """Starts every webhook with due deliveries and none in flight on its due ones, in
        seq order, and returns at once: a slow receiver (10 s each) holds up only itself."""
        due = await self._due(self._in_flight.busy())
        by_hook: dict[int, list] = defaultdict(list)
        for row in due:
            by_hook[row.webhook_id].append(row)
        for hook_id, rows in by_hook.items():
            # one delivery task per webhook: one started by another round while this one read is left alone
            self._in_flight.start(hook_id, lambda rows=rows: self._deliver_hook(rows))
        return len(due)

    def poke(self) -> None:
        """Deliveries may be due now: a webhook's next ones after its batch, or new ones."""
        self._loop.poke()

    async def idle(self) -> None:
        """Until nothing is in flight (tests, benches)."""
        await self._in_flight.idle()

    async def _due(self, busy: set[int]) -> list[Row]:
        """Plain columns, not ORM objects: three entities per row (the event's JSON decoded into
        one) were half the dispatcher's CPU per delivery (py-spy on bench/fanout.py)."""
        async with self.database.read() as session:
            result = await session.execute(
                select(*DUE_COLUMNS)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .join(EventRow, EventRow.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= _now(),
                       Webhook.enabled.is_(True), WebhookDelivery.webhook_id.not_in(busy))
                .order_by(WebhookDelivery.webhook_id, WebhookDelivery.seq).limit(BATCH))
            return list(result)

    async def _deliver_hook(self, rows: list[Row]) -> None:
        hook = rows[0]
        results = []
        async with self._tenant_slots[hook.tenant_id]:
            for row in rows:
                outcome = await self.sender.send(hook.url, hook.secret, _published(row))
                results.append((row, outcome))
                if not (outcome.delivered or outcome.gone):
                    break  # the later ones wait: order is kept while the receiver is down
        await self._record(hook, results)

    async def _record(self, hook: Row, results: list[tuple[Row, Outcome]]) -> None:
        now = _now()
        failed = any(not (o.delivered or o.gone) for _, o in results)
        failing_since = (hook.failing_since or now) if failed else None
        async with self.database.unit() as unit:
            await self._store_outcomes(unit, [(delivery.delivery_id, self._after(delivery, outcome, now))
                                              for delivery, outcome in results])
            await unit.session.execute(update(Webhook).where(Webhook.id == hook.webhook_id)
                                       .values(failing_since=failing_since))
            if failed and self.schedule.exhausted((now - failing_since).total_seconds()):
                await self._disable(unit, hook)

    @staticmethod
    async def _store_outcomes(unit, outcomes: list[tuple[int, dict]]) -> None:
        """One executemany per shape of change (delivered / gone / to retry)."""
        table = WebhookDelivery.__table__
        by_shape: dict[tuple, list[dict]] = defaultdict(list)
        for delivery_id, values in outcomes:
            by_shape[tuple(sorted(values))].append({"delivery_id": delivery_id, **values})
        for names, rows in by_shape.items():
            statement = (table.update().where(table.c.id == bindparam("delivery_id"))
                         .values({name: bindparam(name) for name in names}))
            await unit.session.execute(statement, rows)

    def _after(self, delivery: Row, outcome: Outcome, now: datetime) -> dict:
        attempts = delivery.attempts + 1
        values = {"attempts": attempts, "last_status": outcome.status, "last_error": outcome.error}
        if outcome.delivered:
            return values | {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        if outcome.gone:
            return values | {"status": "gone", "next_attempt_at": None}
        return values | {"next_attempt_at": now + timedelta(seconds=self.schedule.delay(attempts))}

    async def _disable(self, unit, hook: Row) -> None:
        log.warning("webhook %s of tenant %s failed for a day: disabled", hook.webhook_id, hook.tenant_id)
        await unit.session.execute(update(Webhook).where(Webhook.id == hook.webhook_id).values(enabled=False))
        await unit.session.execute(update(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.webhook_id,
                                                                 WebhookDelivery.status == "pending")
                                   .values(status="failed", next_attempt_at=None))
        await self.events.emit("webhook.disabled", hook.tenant_id, {"webhook_id": hook.webhook_id, "url": hook.url},
                               unit=unit)
