"""Carries out the terms (pbx/billing/terms.py) on a timer: trial reminders 7 and 1 days
before the end, suspension of an unconverted trial, the renewal reminder 30 days before
a term ends, and renewal (a noted downgrade takes effect then). Idempotent: a reminder
is recorded as sent only once the mail server accepted it, so a failed send is tried
again at the next pass; suspension and renewal are row changes. A crash between the
server's acceptance and that record sends the reminder once more at restart: its
Message-ID is the reminder's own, so the reader's mail client shows the two as one."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.billing import terms
from pbx.billing.catalogue import Catalogue
from pbx.db.billing_tables import BillingAccount
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.events import EventBus
from pbx.mail import Mailer
from pbx.services.tokens import Principal
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)
SYSTEM = Principal(None)  # the terms act as the operator would


class TermsJob:
    def __init__(self, database: Database, events: EventBus, mailer: Mailer, catalogue: Catalogue, tenants,
                 *, interval_s: float):
        self.database, self.events, self.mailer = database, events, mailer
        self.catalogue, self.tenants = catalogue, tenants  # TenantService: a renewal's plan change
        self.loop = WakeableLoop("billing terms", self.run, interval_s=interval_s, run_at_start=True)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def run(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(timezone.utc)
        async with self.database.read() as session:
            ids = list(await session.scalars(select(BillingAccount.tenant_id).order_by(BillingAccount.tenant_id)))
        done = {"reminders": 0, "suspended": 0, "renewed": 0}
        for tenant_id in ids:
            for key, count in (await self._one(tenant_id, now)).items():
                done[key] += count
        return done

    async def _one(self, tenant_id: int, now: datetime) -> dict[str, int]:
        async with self.database.read() as session:
            account = await session.get(BillingAccount, tenant_id)
            tenant = await session.get(Tenant, tenant_id)
            if account is None or tenant is None:
                return {}
            owed = terms.due(now, trial_ends_at=account.trial_ends_at, converted=account.trial_converted,
                             suspended=tenant.suspended, term_started_at=account.term_started_at,
                             commitment_months=self.catalogue.commitment_months, sent=set(account.reminders_sent))
            letters = [(key, self._letter(tenant, account, key)) for key in owed.reminders if account.billing_email]
        # Mail goes out with no transaction open: a slow mail server holds no database lock.
        sent = [key for key, letter in letters if await self._send(tenant_id, key, letter)]
        if sent or owed.suspend or owed.renew:
            async with self.database.unit() as unit:
                await self._record(unit, tenant_id, owed, sent)
        return {"reminders": len(sent), "suspended": int(owed.suspend), "renewed": int(owed.renew)}

    def _letter(self, tenant: Tenant, account: BillingAccount, key: str):
        ends = account.trial_ends_at if key.startswith("trial-") else terms.term_end(
            account.term_started_at, self.catalogue.commitment_months)
        letter = self.mailer.message(account.billing_email, *terms.reminder_text(key, tenant.name, ends))
        letter["Message-ID"] = f"<billing-{tenant.id}-{key}@pbx>"
        return letter

    async def _send(self, tenant_id: int, key: str, letter) -> bool:
        try:
            await self.mailer.send(letter)
        except Exception as exc:  # noqa: BLE001 - any refusal: still owed, tried again at the next pass
            log.warning("billing reminder %s for tenant %s not sent: %s", key, tenant_id, exc)
            return False
        return True

    async def _record(self, unit, tenant_id: int, owed: terms.Due, sent: list[str]) -> None:
        account = await unit.session.get(BillingAccount, tenant_id)
        tenant = await unit.session.get(Tenant, tenant_id)
        if account is None or tenant is None:
            return
        account.reminders_sent = [*account.reminders_sent, *(k for k in sent if k not in account.reminders_sent)]
        for key in sent:
            await self.events.emit("billing.reminder", tenant_id, {"reminder": key}, unit=unit)
        if owed.suspend and not tenant.suspended:
            tenant.suspended = True  # the routing snapshot reads it: calls are refused from this commit on
            await self.events.emit("billing.suspended", tenant_id, {"reason": "trial_ended"}, unit=unit)
        if owed.renew:
            await self._renew(unit, tenant, account)

    async def _renew(self, unit, tenant: Tenant, account: BillingAccount) -> None:
        ended = terms.term_end(account.term_started_at, self.catalogue.commitment_months)
        plan = account.pending_plan
        if plan and plan != tenant.plan:
            await self.tenants.update(unit, SYSTEM, tenant.id, {"plan": plan})
        account.term_started_at, account.pending_plan = ended, None
        await self.events.emit("billing.renewed", tenant.id, {"plan": tenant.plan, "term_started_at": ended.isoformat()},
                               unit=unit)
