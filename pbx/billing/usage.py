"""The month's maxima an invoice is billed on, measured and stored as they happen:
concurrent circuits from Asterisk's own live count (GROUP_COUNT of the tenant's group,
the one the concurrent-call cap uses: every connected call joins it), and the extra
extensions bought. Stored as running maxima per (tenant, month), never lowered, so a
restart loses no peak that was seen."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.asterisk.ami import Ami, AsteriskUnavailable
from pbx.billing.months import month_of
from pbx.db.billing_tables import BillingAccount, MonthlyUsage
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)


class UsageSampler:
    """Samples every `interval_s`, and soon after a call starts (poke)."""

    def __init__(self, database: Database, ami: Ami, *, interval_s: float, debounce_s: float = 0.3):
        self.database = database
        self.ami = ami
        self.loop = WakeableLoop("billing usage", self.sample, interval_s=interval_s, debounce_s=debounce_s,
                                 run_at_start=True)

    def poke(self, *_args) -> None:
        self.loop.poke()

    async def on_dial(self, _manager, _message) -> None:
        self.loop.poke()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def sample(self) -> None:
        now = datetime.now(timezone.utc)
        async with self.database.read() as session:
            rows = (await session.execute(
                select(Tenant.id, Tenant.extra_extensions, BillingAccount.timezone, BillingAccount.circuit_pricing)
                .outerjoin(BillingAccount, BillingAccount.tenant_id == Tenant.id))).all()
        circuits = {}
        for tenant_id, _, _, circuit_pricing in rows:
            if circuit_pricing:
                circuits[tenant_id] = await self.live_circuits(tenant_id)
        months = {tenant_id: month_of(now, zone or "Europe/Istanbul") for tenant_id, _, zone, _ in rows}
        async with self.database.unit() as unit:
            # One read of this month's rows, then only the rows whose maximum rose are written.
            stored = {(u.tenant_id, u.month): u for u in await unit.session.scalars(
                select(MonthlyUsage).where(MonthlyUsage.month.in_(set(months.values()))))}
            for tenant_id, extra, _, _ in rows:
                key = (tenant_id, months[tenant_id])
                row = stored.get(key) or MonthlyUsage(tenant_id=tenant_id, month=key[1], max_circuits=0,
                                                      max_extra_extensions=0)
                if key not in stored:
                    unit.session.add(row)
                row.max_circuits = max(row.max_circuits, circuits.get(tenant_id) or 0)
                row.max_extra_extensions = max(row.max_extra_extensions, extra)

    async def live_circuits(self, tenant_id: int) -> int | None:
        try:
            reply = await self.ami.action({"Action": "Getvar", "Variable": f"GROUP_COUNT(t{int(tenant_id)}@pbx-calls)"})
        except AsteriskUnavailable:
            return None  # no sample; the stored maximum stands
        value = next((m.get("Value") for m in reply if m.get("Value") is not None), "0")
        return int(value) if str(value).isdigit() else 0
