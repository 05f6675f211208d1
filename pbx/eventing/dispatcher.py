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

from sqlalchemy import bindparam, select, update

from pbx.db.event_tables import EventRow, Webhook, WebhookDelivery
from pbx.eventing.outbox import as_published
from pbx.eventing.retry import RetrySchedule
from pbx.eventing.sender import Outcome, Sender
from pbx.tasks import KeyedTasks, WakeableLoop

log = logging.getLogger(__name__)
BATCH = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


class WebhookDispatcher:
    def __init__(self, database, events, sender: Sender, schedule: RetrySchedule, *, per_tenant: int = 4,
                 interval_s: float = 1.0):
        self.database, self.events, self.sender, self.schedule = database, events, sender, schedule
        self.per_tenant = per_tenant
        self._tenant_slots: dict[int, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_tenant))
        self._in_flight = KeyedTasks("webhook", on_end=self._poke)  # per webhook id: its deliveries under way
        # Retries fall due with no poke: looked for every interval (a test's short schedule, sooner).
        self._loop = WakeableLoop("webhook-dispatch", self.dispatch_due, retry_s=1.0, run_at_start=True,
                                  interval_s=min(interval_s, schedule.first_s / 2))

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
            by_hook[row[1].id].append(row)
        for hook_id, rows in by_hook.items():
            # one delivery task per webhook: one started by another round while this one read is left alone
            self._in_flight.start(hook_id, lambda rows=rows: self._deliver_hook(rows))
        return len(due)

    def _poke(self) -> None:
        self._loop.poke()  # a webhook's next deliveries may be due already

    async def idle(self) -> None:
        """Until nothing is in flight (tests, benches)."""
        await self._in_flight.idle()

    async def _due(self, busy: set[int]) -> list[tuple[WebhookDelivery, Webhook, EventRow]]:
        async with self.database.read() as session:
            result = await session.execute(
                select(WebhookDelivery, Webhook, EventRow)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .join(EventRow, EventRow.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= _now(),
                       Webhook.enabled.is_(True), WebhookDelivery.webhook_id.not_in(busy))
                .order_by(WebhookDelivery.webhook_id, WebhookDelivery.seq).limit(BATCH))
            return [tuple(row) for row in result]

    async def _deliver_hook(self, rows: list) -> None:
        hook = rows[0][1]
        results = []
        async with self._tenant_slots[hook.tenant_id]:
            for delivery, _hook, event in rows:
                outcome = await self.sender.send(hook.url, hook.secret, as_published(event))
                results.append((delivery, outcome))
                if not (outcome.delivered or outcome.gone):
                    break  # the later ones wait: order is kept while the receiver is down
        await self._record(hook, results)

    async def _record(self, hook: Webhook, results: list[tuple[WebhookDelivery, Outcome]]) -> None:
        now = _now()
        failed = any(not (o.delivered or o.gone) for _, o in results)
        failing_since = (hook.failing_since or now) if failed else None
        async with self.database.unit() as unit:
            await self._store_outcomes(unit, [(delivery.id, self._after(delivery, outcome, now))
                                              for delivery, outcome in results])
            await unit.session.execute(update(Webhook).where(Webhook.id == hook.id)
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

    def _after(self, delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> dict:
        attempts = delivery.attempts + 1
        values = {"attempts": attempts, "last_status": outcome.status, "last_error": outcome.error}
        if outcome.delivered:
            return values | {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        if outcome.gone:
            return values | {"status": "gone", "next_attempt_at": None}
        return values | {"next_attempt_at": now + timedelta(seconds=self.schedule.delay(attempts))}

    async def _disable(self, unit, hook: Webhook) -> None:
        log.warning("webhook %s of tenant %s failed for a day: disabled", hook.id, hook.tenant_id)
        await unit.session.execute(update(Webhook).where(Webhook.id == hook.id).values(enabled=False))
        await unit.session.execute(update(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id,
                                                                 WebhookDelivery.status == "pending")
                                   .values(status="failed", next_attempt_at=None))
        await self.events.emit("webhook.disabled", hook.tenant_id, {"webhook_id": hook.id, "url": hook.url},
                               unit=unit)
