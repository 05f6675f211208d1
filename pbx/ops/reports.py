"""Service performance (seed 001): per tenant or for the platform, over the 12 months ending
with the given one: faults and mean resolution time per month, fault sources, the worst
trunks, complaints by reason (pbx/ops/complaints.py) and their most frequent titles, and availability against the package's promise. And the RFO of
one fault. Plain data; pbx/ops/documents.py renders it as PDF and xlsx."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone

from sqlalchemy import select

from pbx.db.models import Tenant, Trunk
from pbx.db.ops_tables import Fault, FaultTenant
from pbx.ops import complaints
from pbx.ops.deadlines import SUPPORT_ZONE

# seed 003: uptime promises per package; the top one is Enterprise on the circuit tariff.
PROMISE = {"girisimci": 99.9, "kobi": 99.95, "enterprise": 99.97, "enterprise_circuit": 99.99}


def months_back(month: str, count: int = 12) -> list[str]:
    year, number = map(int, month.split("-"))
    result = []
    for _ in range(count):
        result.append(f"{year:04d}-{number:02d}")
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    return result[::-1]


def _bounds(month: str) -> tuple[datetime, datetime]:
    year, number = map(int, month.split("-"))
    start = datetime(year, number, 1, tzinfo=SUPPORT_ZONE)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=SUPPORT_ZONE)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _month_of(value: datetime) -> str:
    return value.astimezone(SUPPORT_ZONE).strftime("%Y-%m")


async def service_performance(session, month: str, tenant_id: int | None = None) -> dict:
    months = months_back(month)
    start, _ = _bounds(months[0])
    _, end = _bounds(month)
    query = select(Fault).where(Fault.opened_at >= start, Fault.opened_at < end).order_by(Fault.id)
    if tenant_id is not None:
        query = query.join(FaultTenant, FaultTenant.fault_id == Fault.id).where(FaultTenant.tenant_id == tenant_id)
    faults = list(await session.scalars(query))
    trunk_names = dict(list(await session.execute(select(Trunk.id, Trunk.name))))
    report = {"month": month, "tenant_id": tenant_id, "months": [_month_row(m, faults) for m in months],
              "sources": dict(Counter(f.source for f in faults)),
              "worst_trunks": [{"trunk_id": t, "name": trunk_names.get(t), "faults": n} for t, n in
                               Counter(f.trunk_id for f in faults if f.trunk_id).most_common(5)],
              "complaint_reasons": complaints.count([f.reason for f in faults if f.source == "complaint"]),
              "complaint_titles": [{"title": t, "faults": n} for t, n in
                                   Counter(f.title for f in faults if f.source == "complaint").most_common(5)]}
    if tenant_id is not None:
        report["availability"] = await availability(session, tenant_id, month, faults)
    return report


def _month_row(month: str, faults: list[Fault]) -> dict:
    mine = [f for f in faults if _month_of(f.opened_at) == month]
    hours = [(f.resolved_at - f.opened_at).total_seconds() / 3600 for f in mine if f.resolved_at]
    return {"month": month, "faults": len(mine),
            "mean_resolution_hours": round(sum(hours) / len(hours), 2) if hours else None}


async def availability(session, tenant_id: int, month: str, faults: list[Fault]) -> dict:
    """Outage time is the span of the Kritik faults concerning the tenant within the month."""
    start, end = _bounds(month)
    down = sum(((min(f.resolved_at or end, end) - max(f.opened_at, start)).total_seconds()
                for f in faults if f.priority == "kritik" and f.opened_at < end), 0.0)
    tenant = await session.get(Tenant, tenant_id)
    package = "enterprise_circuit" if getattr(tenant, "circuit_pricing", False) else tenant.plan
    percent = round(100 * (1 - down / (end - start).total_seconds()), 4)
    promise = PROMISE.get(package, PROMISE["girisimci"])
    return {"percent": percent, "promise": promise, "met": percent >= promise, "downtime_minutes": round(down / 60, 1)}


def rfo(fault: Fault, trunk_name: str | None) -> dict:
    return {"fault_id": fault.id, "title": fault.title, "priority": fault.priority, "trunk": trunk_name,
            "start": fault.opened_at.isoformat(), "end": fault.resolved_at.isoformat() if fault.resolved_at else None,
            "cause": fault.cause, "fix": fault.fix, "prevention": fault.prevention,
            "due_at": fault.rfo_due_at.isoformat() if fault.rfo_due_at else None,
            "complete": fault.rfo_completed_at is not None}


def valid_month(text: str | None, today: date | None = None) -> str:
    today = today or datetime.now(SUPPORT_ZONE).date()
    if text is None:
        return today.strftime("%Y-%m")
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise ValueError("month is YYYY-MM")
    return text
