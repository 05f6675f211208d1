"""Number porting: a request holds the number, its current operator, where it will route
and a document (the subscriber's signed request). Statuses move one way:

    submitted -> approved -> scheduled -> completed, and any open one -> rejected

and each move raises `porting.<status>`. Approval needs the document. Completion allocates
the number to the tenant and routes it to the destination in the same transaction: the
first call after the carrier switches finds it (no gap). Expected date: 3 Turkish business
days after submission (pbx/numbers/business_days.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pbx.db.models import NumberAllocation
from pbx.db.number_tables import PortingRequest
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict
from pbx.domain.numbers import to_e164
from pbx.events import EventBus
from pbx.numbers.business_days import PORTING_BUSINESS_DAYS, add_business_days
from pbx.numbers.pool import area_of
from pbx.services import destination_checks, numbers
from pbx.services.tenants import require_operator, scoped_get, visible_tenant
from pbx.services.tokens import Principal

ISTANBUL = ZoneInfo("Europe/Istanbul")
NEXT = {"submitted": {"approved", "rejected"}, "approved": {"scheduled", "rejected"},
        "scheduled": {"completed", "rejected"}}


class Porting:
    def __init__(self, events: EventBus):
        self.events = events

    async def submit(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict,
                     now: datetime | None = None) -> PortingRequest:
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        e164 = to_e164(fields["number"])
        area_of(e164)  # only 0850 and geographic numbers move in
        destination = await destination_checks.validate(unit.session, tenant, fields["destination"])
        holder = await unit.session.scalar(select(NumberAllocation.tenant_id).where(NumberAllocation.number == e164))
        if holder is not None:
            raise Conflict(f"{e164} is already on this exchange")
        today = (now or datetime.now(timezone.utc)).astimezone(ISTANBUL).date()
        row = PortingRequest(tenant_id=tenant_id, number=e164, current_operator=fields["current_operator"],
                             destination=destination, status="submitted",
                             expected_date=add_business_days(today, PORTING_BUSINESS_DAYS))
        unit.session.add(row)
        await unit.session.flush()
        await self._event(unit, row)
        return row

    async def advance(self, unit: Unit, principal: Principal, tenant_id: int, request_id: int, status: str,
                      reason: str | None = None) -> PortingRequest:
        row = await scoped_get(unit.session, principal, PortingRequest, tenant_id, request_id, "porting request")
        require_operator(principal)
        if status not in NEXT.get(row.status, ()):
            raise Conflict(f"a {row.status} request cannot become {status}")
        if status == "approved" and row.document_sha256 is None:
            raise Conflict("upload the signed request document first")
        if status == "completed":
            await self._allocate(unit, tenant_id, row.number)
            await numbers.create_number(unit, principal, tenant_id, {"number": row.number,
                                                                     "destination": row.destination})
        row.status, row.reason, row.updated_at = status, reason, datetime.now(timezone.utc)
        await self._event(unit, row)
        return row

    async def _allocate(self, unit: Unit, tenant_id: int, e164: str) -> None:
        holder = await unit.session.scalar(select(NumberAllocation.tenant_id).where(NumberAllocation.number == e164))
        if holder is None:
            unit.session.add(NumberAllocation(tenant_id=tenant_id, number=e164))
            await unit.session.flush()
        elif holder != tenant_id:
            raise Conflict(f"{e164} was allocated to another tenant meanwhile")

    async def _event(self, unit: Unit, row: PortingRequest) -> None:
        await self.events.emit(f"porting.{row.status}", row.tenant_id,
                               {"porting_request_id": row.id, "number": row.number, "status": row.status,
                                "expected_date": row.expected_date.isoformat()}, unit=unit)
