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
from pbx.asterisk.ami import channel_variables
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Europe/Istanbul"


def dialling_tenant(message) -> int | None:
    """The tenant of a DialBegin's calling channel (or, for an Originate, of the channel dialled)."""
    tenant = channel_variables(message).get("PBX_TENANT") or channel_variables(message, "Dest").get("PBX_TENANT", "")
    return int(tenant) if tenant.isdigit() else None


class UsageSampler:
    """Every `interval_s` (and after a write to a tenant or its account, poke): every
    tenant's extra extensions and every circuit-priced tenant's circuits. Soon after a call
    of a circuit-priced tenant starts (on_dial): that tenant's circuits only, so a peak
    between two intervals is seen without a call costing a sample of every tenant."""

    def __init__(self, database: Database, ami: Ami, *, interval_s: float, debounce_s: float = 0.3):
        self.database = database
        self.ami = ami
        self.circuit_zones: dict[int, str] = {}  # circuit-priced tenant -> its billing timezone; from each full sample
        self.dialled: set[int] = set()
        self.loop = WakeableLoop("billing usage", self.sample, interval_s=interval_s, debounce_s=debounce_s,
                                 run_at_start=True)
        self.dial_loop = WakeableLoop("billing circuits", self.sample_dialled, interval_s=interval_s,
                                      debounce_s=debounce_s)

    def poke(self, *_args) -> None:
        self.loop.poke()

    def on_dial(self, _manager, message) -> None:
        """AMI callback for DialBegin: a set lookup, no I/O; tenants not circuit-priced cost nothing."""
        tenant_id = dialling_tenant(message)
        if tenant_id in self.circuit_zones:
            self.dialled.add(tenant_id)
            self.dial_loop.poke()

    def start(self) -> None:
        self.loop.start()
        self.dial_loop.start()

    async def stop(self) -> None:
        await self.dial_loop.stop()
        await self.loop.stop()

    async def sample(self) -> None:
        now = datetime.now(timezone.utc)
        async with self.database.read() as session:
            rows = (await session.execute(
                select(Tenant.id, Tenant.extra_extensions, BillingAccount.timezone, BillingAccount.circuit_pricing)
                .outerjoin(BillingAccount, BillingAccount.tenant_id == Tenant.id))).all()
        self.circuit_zones = {tenant_id: zone or DEFAULT_ZONE for tenant_id, _, zone, priced in rows if priced}
        circuits = {tenant_id: await self.live_circuits(tenant_id) for tenant_id in self.circuit_zones}
        months = {tenant_id: month_of(now, zone or DEFAULT_ZONE) for tenant_id, _, zone, _ in rows}
        await self.raise_maxima(months, circuits, {tenant_id: extra for tenant_id, extra, _, _ in rows})

    async def sample_dialled(self) -> None:
        dialled, self.dialled = self.dialled, set()
        now = datetime.now(timezone.utc)
        months = {tenant_id: month_of(now, self.circuit_zones[tenant_id])
                  for tenant_id in dialled if tenant_id in self.circuit_zones}
        if months:
            await self.raise_maxima(months, {tenant_id: await self.live_circuits(tenant_id) for tenant_id in months})

    async def raise_maxima(self, months: dict[int, str], circuits: dict[int, int | None],
                           extras: dict[int, int] | None = None) -> None:
        """Each tenant's (tenant, month) row raised to what was measured; a row is created if missing.
        With `extras` (a full sample, every tenant) this month's rows are read in one query;
        without (a few dialled tenants) each row is read by its key."""
        async with self.database.unit() as unit:
            if extras is None:
                stored = {key: await unit.session.get(MonthlyUsage, key) for key in months.items()}
            else:
                stored = {(u.tenant_id, u.month): u for u in await unit.session.scalars(
                    select(MonthlyUsage).where(MonthlyUsage.month.in_(set(months.values()))))}
            for tenant_id, month in months.items():
                row = stored.get((tenant_id, month))
                if row is None:
                    row = MonthlyUsage(tenant_id=tenant_id, month=month, max_circuits=0, max_extra_extensions=0)
                    unit.session.add(row)
                # Only rows whose maximum rose are written (the unit flushes changed attributes only).
                row.max_circuits = max(row.max_circuits, circuits.get(tenant_id) or 0)
                if extras is not None:
                    row.max_extra_extensions = max(row.max_extra_extensions, extras[tenant_id])

    async def live_circuits(self, tenant_id: int) -> int | None:
        try:
            reply = await self.ami.action({"Action": "Getvar", "Variable": f"GROUP_COUNT(t{int(tenant_id)}@pbx-calls)"})
        except AsteriskUnavailable:
            return None  # no sample; the stored maximum stands
        value = next((m.get("Value") for m in reply if m.get("Value") is not None), "0")
        return int(value) if str(value).isdigit() else 0
