"""Fault records: opening (system, operator, a tenant's complaint), resolving, listing,
each status change in the history. What an opening or a resolution causes (notices, events)
is the listeners' business, registered in the composition root."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from pbx.db.base import utcnow
from pbx.db.models import Call, Number, Tenant, Trunk
from pbx.db.ops_tables import CallTrunk, Fault, FaultCall, FaultHistory, FaultTenant
from pbx.db.unit import Database, Unit
from pbx.domain.errors import Conflict, Invalid, NotFound
from pbx.ops import deadlines
from pbx.services.tenants import require_operator, visible_tenant
from pbx.services.tokens import Principal

UNREACHABLE, FAILURE_RATE = "trunk_unreachable", "failure_rate"
SYSTEM_FAULTS = {UNREACHABLE: ("Hat erişilemiyor", "kritik"),
                 FAILURE_RATE: ("Hatta çağrı kurulum hataları arttı", "yuksek")}
Listener = Callable[[Unit, Fault, str], Awaitable[None]]  # (unit, fault, "opened" | "resolved")
MAX_LINKED_CALLS = 200


class FaultService:
    def __init__(self, database: Database):
        self.database = database
        self.listeners: list[Listener] = []

    async def open(self, unit: Unit, fields: dict, *, source: str, by: str, tenant_id: int | None = None,
                   at: datetime | None = None) -> Fault:
        at = at or utcnow()
        fault = Fault(title=fields["title"], priority=fields["priority"], source=source, status="open",
                      reason=fields.get("reason"), tenant_id=tenant_id, trunk_id=fields.get("trunk_id"),
                      number=fields.get("number"), period_from=fields.get("from"), period_to=fields.get("to"),
                      opened_at=at, respond_by=deadlines.respond_by(fields["priority"], at),
                      resolve_by=deadlines.resolve_by(fields["priority"], at), breaches=[])
        if fault.trunk_id is not None and await unit.session.get(Trunk, fault.trunk_id) is None:
            raise Invalid("no such trunk")
        unit.session.add(fault)
        await unit.session.flush()
        unit.session.add(FaultHistory(fault_id=fault.id, at=at, status="open", by=by, note=source))
        for affected in await self._affected_tenants(unit, fault):
            unit.session.add(FaultTenant(fault_id=fault.id, tenant_id=affected))
        if tenant_id is not None:
            await self._link_calls(unit, fault)
        for listener in self.listeners:
            await listener(unit, fault, "opened")
        return fault

    async def resolve(self, unit: Unit, fault: Fault, fields: dict, *, by: str, at: datetime | None = None) -> Fault:
        if fault.status == "resolved":
            raise Conflict("the fault is already resolved")
        if not (fields.get("cause") or "").strip():
            raise Invalid("resolving a fault needs its cause")
        fault.status, fault.resolved_at = "resolved", at or utcnow()
        fault.cause, fault.fix, fault.prevention = fields["cause"], fields.get("fix"), fields.get("prevention")
        fault.rfo_due_at = deadlines.rfo_due(fault.resolved_at)
        if fault.cause and fault.fix and fault.prevention:
            fault.rfo_completed_at = fault.resolved_at
        unit.session.add(FaultHistory(fault_id=fault.id, at=fault.resolved_at, status="resolved", by=by,
                                      note=fault.cause[:200]))
        for listener in self.listeners:
            await listener(unit, fault, "resolved")
        return fault

    async def change(self, unit: Unit, fault: Fault, fields: dict, *, by: str) -> None:
        """PATCH: resolve (needs a cause), acknowledge an open fault (its response), or
        complete a resolved fault's RFO fields."""
        if fields.get("status") == "resolved":
            await self.resolve(unit, fault, fields, by=by)
        elif fault.status == "resolved":
            if fields.get("status") == "open":
                raise Conflict("a resolved fault is not reopened: open a new one")
            await self.complete_rfo(unit, fault, fields, by=by)
        elif fault.responded_at is None:
            fault.responded_at = utcnow()
            unit.session.add(FaultHistory(fault_id=fault.id, at=fault.responded_at, status="open", by=by,
                                          note="acknowledged"))

    async def complete_rfo(self, unit: Unit, fault: Fault, fields: dict, *, by: str) -> None:
        """Later edits of a resolved fault's RFO fields; complete once all three are there."""
        for name in ("cause", "fix", "prevention"):
            if fields.get(name):
                setattr(fault, name, fields[name])
        if fault.cause and fault.fix and fault.prevention and fault.rfo_completed_at is None:
            fault.rfo_completed_at = utcnow()
            unit.session.add(FaultHistory(fault_id=fault.id, status="resolved", by=by, note="rfo completed"))

    async def open_system_fault(self, unit: Unit, trunk_id: int, reason: str = UNREACHABLE) -> Fault | None:
        """One record per incident: a trunk with an open system fault of that kind gets no second
        (nor a failure-rate one beside an unreachable one: the same incident). The unique index
        on the open system faults (migration 0025) makes that hold between two control planes
        too: the one that loses the race opens nothing."""
        if await self.open_trunk_fault(unit, trunk_id, None if reason == FAILURE_RATE else reason) is not None:
            return None
        trunk = await unit.session.get(Trunk, trunk_id)
        title, priority = SYSTEM_FAULTS[reason]
        try:
            async with unit.session.begin_nested():
                return await self.open(unit, {"title": f"{title}: {trunk.name}", "priority": priority,
                                              "trunk_id": trunk_id, "reason": reason}, source="system", by="system")
        except IntegrityError:  # another node opened it meanwhile
            return None

    async def open_trunk_fault(self, unit: Unit, trunk_id: int, reason: str | None = UNREACHABLE) -> Fault | None:
        """The trunk's open system fault of that kind (reason None: of any kind)."""
        query = select(Fault).where(Fault.trunk_id == trunk_id, Fault.source == "system", Fault.status == "open")
        if reason is not None:
            query = query.where(Fault.reason == reason)
        return await unit.session.scalar(query.limit(1))

    async def _affected_tenants(self, unit: Unit, fault: Fault) -> set[int]:
        """A complaint: its tenant. A number: whoever holds it. A trunk: every tenant if it
        carries outbound calls (all of them use it), else those whose calls came through it."""
        session = unit.session
        tenants = {fault.tenant_id} if fault.tenant_id is not None else set()
        if fault.number:
            tenants |= set(await session.scalars(select(Number.tenant_id).where(Number.number == fault.number)))
        if fault.trunk_id is not None and fault.tenant_id is None:
            trunk = await session.get(Trunk, fault.trunk_id)
            if trunk.default_outbound:
                tenants |= set(await session.scalars(select(Tenant.id)))
            else:
                tenants |= await _tenants_through(session, fault.trunk_id)
        return tenants

    async def _link_calls(self, unit: Unit, fault: Fault) -> None:
        query = select(Call.id).where(Call.tenant_id == fault.tenant_id)
        if fault.period_from:
            query = query.where(Call.started_at >= fault.period_from)
        if fault.period_to:
            query = query.where(Call.started_at <= fault.period_to)
        if fault.number:
            query = query.where(or_(Call.caller == fault.number, Call.callee == fault.number,
                                    Call.number == fault.number))
        for call_id in await unit.session.scalars(query.order_by(Call.id.desc()).limit(MAX_LINKED_CALLS)):
            unit.session.add(FaultCall(fault_id=fault.id, call_id=call_id))


async def _tenants_through(session, trunk_id: int) -> set[int]:
    rows = await session.scalars(select(Call.tenant_id).distinct().join(CallTrunk, and_(
        CallTrunk.linkedid == Call.linkedid, CallTrunk.trunk_id == trunk_id)).where(Call.tenant_id.is_not(None)))
    return set(rows)


async def get_fault(session, principal: Principal, fault_id: int) -> Fault:
    fault = await session.get(Fault, fault_id)
    if fault is None or not (principal.is_operator or await _concerns(session, fault_id, principal.tenant_id)):
        raise NotFound("no such fault")
    return fault


async def tenant_fault(session, principal: Principal, tenant_id: int, fault_id: int) -> Fault:
    await visible_tenant(session, principal, tenant_id)
    fault = await session.get(Fault, fault_id)
    if fault is None or not await _concerns(session, fault_id, tenant_id):
        raise NotFound("no such fault")
    return fault


async def _concerns(session, fault_id: int, tenant_id: int) -> bool:
    return await session.get(FaultTenant, (fault_id, tenant_id)) is not None


async def list_faults(session, principal: Principal, tenant_id: int | None = None) -> list[Fault]:
    if tenant_id is None:
        require_operator(principal)
        return list(await session.scalars(select(Fault).order_by(Fault.id.desc()).limit(1000)))
    await visible_tenant(session, principal, tenant_id)
    return list(await session.scalars(select(Fault).join(FaultTenant, FaultTenant.fault_id == Fault.id)
                                      .where(FaultTenant.tenant_id == tenant_id).order_by(Fault.id.desc()).limit(1000)))


async def history(session, fault_id: int) -> list[FaultHistory]:
    return list(await session.scalars(select(FaultHistory).where(FaultHistory.fault_id == fault_id)
                                      .order_by(FaultHistory.id)))


async def linked_calls(session, fault_id: int) -> list[Call]:
    return list(await session.scalars(select(Call).join(FaultCall, FaultCall.call_id == Call.id)
                                      .where(FaultCall.fault_id == fault_id).order_by(Call.started_at)))
