"""A tenant's call records: filtered by time and number, newest first, by cursor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.calls.query import NumberFilter, encode_cursor
from pbx.db.models import Call, Recording


def number_condition(number: NumberFilter):
    own = Call.extension if number.is_extension else Call.number
    return or_(own == number.value, Call.caller == number.value, Call.callee == number.value)


def period_conditions(tenant_id: int, start: datetime | None, end: datetime | None) -> list:
    """Scoped to the tenant first: calls of nobody (tenant NULL) never match."""
    conditions = [Call.tenant_id == tenant_id]
    if start:
        conditions.append(Call.started_at >= start)
    if end:
        conditions.append(Call.started_at < end)
    return conditions


async def list_calls(session: AsyncSession, tenant_id: int, start: datetime | None, end: datetime | None,
                     number: NumberFilter | None, cursor: tuple[datetime, int] | None,
                     limit: int, extension: str | None = None) -> tuple[list[tuple[Call, int | None]], str | None]:
    """extension: only calls it took part in (an agent's view), whatever else is asked."""
    conditions = period_conditions(tenant_id, start, end)
    if number:
        conditions.append(number_condition(number))
    if extension:
        conditions.append(number_condition(NumberFilter(extension, True)))
    if cursor:
        at, call_id = cursor
        conditions.append(or_(Call.started_at < at, and_(Call.started_at == at, Call.id < call_id)))
    recording = (Recording.file_id == Call.recording_file_id) & (Recording.tenant_id == Call.tenant_id)
    query = (select(Call, Recording.id).outerjoin(Recording, recording).where(*conditions)
             .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1))
    rows = [(row[0], row[1]) for row in (await session.execute(query)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1][0].started_at, rows[-1][0].id) if more else None
