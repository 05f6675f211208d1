"""The operator's pool of 0850 and geographic numbers (free to allocate, product.md): the
operator stocks it; a tenant lists what is free and picks one, which allocates it
(pbx/services/number_allocations.py) so the tenant may route it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import NumberAllocation
from pbx.db.number_tables import PoolNumber
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, Invalid
from pbx.domain.numbers import to_e164
from pbx.services.tenants import require_operator, visible_tenant
from pbx.services.tokens import Principal

GEOGRAPHIC_FIRST_DIGITS = "234"  # area codes 02xx, 03xx, 04xx; 05xx are mobile
MAX_PER_REQUEST = 1000


def area_of(e164: str) -> str:
    """+908501234567 -> "0850"; +902121234567 -> "0212"; anything else is not a pool number."""
    national = e164.removeprefix("+90")
    if len(e164) != 13 or not e164.startswith("+90"):
        raise Invalid(f"{e164}: only Turkish numbers are pooled")
    if national.startswith("850") or national[0] in GEOGRAPHIC_FIRST_DIGITS:
        return "0" + national[:3]
    raise Invalid(f"{e164}: neither an 0850 nor a geographic number")


async def stock(unit: Unit, principal: Principal, numbers: list[str]) -> int:
    """Adds numbers (any spelling); those already pooled are left as they are."""
    require_operator(principal)
    if not numbers or len(numbers) > MAX_PER_REQUEST:
        raise Invalid(f"give 1 to {MAX_PER_REQUEST} numbers")
    wanted = {to_e164(n) for n in numbers}
    areas = {n: area_of(n) for n in wanted}
    known = set(await unit.session.scalars(select(PoolNumber.number).where(PoolNumber.number.in_(wanted))))
    unit.session.add_all(PoolNumber(number=n, area=areas[n]) for n in sorted(wanted - known))
    return len(wanted - known)


async def free(session: AsyncSession, area: str | None, limit: int = 100) -> list[PoolNumber]:
    query = (select(PoolNumber).outerjoin(NumberAllocation, NumberAllocation.number == PoolNumber.number)
             .where(NumberAllocation.id.is_(None)).order_by(PoolNumber.number).limit(limit))
    if area:
        query = query.where(PoolNumber.area == area)
    return list(await session.scalars(query))


async def pick(unit: Unit, principal: Principal, tenant_id: int, number: str) -> NumberAllocation:
    await visible_tenant(unit.session, principal, tenant_id)
    e164 = to_e164(number)
    if await unit.session.scalar(select(PoolNumber.id).where(PoolNumber.number == e164)) is None:
        raise Conflict(f"{e164} is not in the pool")
    row = NumberAllocation(tenant_id=tenant_id, number=e164)
    unit.session.add(row)
    try:
        async with unit.session.begin_nested():
            await unit.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{e164} is taken") from exc
    return row
