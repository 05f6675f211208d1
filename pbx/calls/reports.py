"""Reports over a tenant's call records, aggregated in SQL (Core, any dialect).

Buckets of the tenant's clock (days, hours of day) are computed in Python
(query.local_buckets) and joined as a small literal table, so grouping needs no
dialect's date functions and is right across clock changes. "Missed" = rang and
nobody took it (no_answer, busy); refused and failed calls count only as calls.
"""
from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.calls.listing import period_conditions
from pbx.calls.query import local_buckets
from pbx.db.base import UTCDateTime
from pbx.db.models import Call

MISSED = ("no_answer", "busy")
MISSED_LIST_MAX = 500
_BUCKETS_PER_QUERY = 400


def _counts() -> list:
    answered = Call.disposition == "answered"
    return [
        func.count(Call.id).label("calls"),
        func.coalesce(func.sum(case((answered, 1), else_=0)), 0).label("answered"),
        func.coalesce(func.sum(case((Call.disposition.in_(MISSED), 1), else_=0)), 0).label("missed"),
        func.coalesce(func.sum(Call.billsec), 0).label("billsec"),
    ]


def _bucket_table(buckets: list[tuple[str, datetime, datetime]]):
    rows = [select(literal(label).label("label"), literal(start, UTCDateTime()).label("b_start"),
                   literal(end, UTCDateTime()).label("b_end"))
            for label, start, end in buckets]
    return union_all(*rows).subquery("buckets") if len(rows) > 1 else rows[0].subquery("buckets")


async def _by_bucket(session: AsyncSession, tenant_id: int, start: datetime, end: datetime, zone: tzinfo,
                     step: str) -> list[dict]:
    totals: dict[str, dict] = {}
    buckets = local_buckets(start, end, zone, step)
    # SQLite allows 500 terms per compound SELECT: the buckets go in slices, and the
    # slices' sums (same label, e.g. the same hour on several days) are added up.
    for first in range(0, len(buckets), _BUCKETS_PER_QUERY):
        table = _bucket_table(buckets[first:first + _BUCKETS_PER_QUERY])
        joined = and_(Call.started_at >= table.c.b_start, Call.started_at < table.c.b_end,
                      *period_conditions(tenant_id, start, end))
        query = select(table.c.label, *_counts()).select_from(table).join(Call, joined).group_by(table.c.label)
        for row in (await session.execute(query)).mappings():
            total = totals.setdefault(row["label"], dict.fromkeys(("calls", "answered", "missed", "billsec"), 0))
            for name in total:
                total[name] += row[name]
    return [_row({"label": label, **totals[label]}, step) for label in sorted(totals)]


def _row(row, key: str) -> dict:
    return {key: row["label"] if key != "hour" else int(row["label"]), "calls": row["calls"],
            "answered": row["answered"], "missed": row["missed"], "minutes": round(row["billsec"] / 60, 1)}


async def basic(session: AsyncSession, tenant_id: int, start: datetime, end: datetime, zone: tzinfo) -> dict:
    return {"days": await _by_bucket(session, tenant_id, start, end, zone, "day")}


async def detailed(session: AsyncSession, tenant_id: int, start: datetime, end: datetime, zone: tzinfo) -> dict:
    where = period_conditions(tenant_id, start, end)
    return {
        "days": await _by_bucket(session, tenant_id, start, end, zone, "day"),
        "per_hour": await _by_bucket(session, tenant_id, start, end, zone, "hour"),
        "per_extension": await _grouped(session, Call.extension, "extension", where),
        "per_number": await _grouped(session, Call.number, "number", where),
        **await _averages(session, where),
        "missed_calls": await _missed(session, where),
    }


async def _grouped(session: AsyncSession, column, key: str, where: list) -> list[dict]:
    query = (select(column.label("label"), *_counts(), *_average_columns()).where(*where, column.is_not(None))
             .group_by(column).order_by(column))
    return [_row(row, key) | _average_values(row) for row in (await session.execute(query)).mappings()]


def _average_columns() -> list:
    answered = Call.disposition == "answered"
    return [func.avg(case((answered, Call.wait_s))).label("wait"), func.avg(case((answered, Call.billsec))).label("talk")]


def _average_values(row) -> dict:
    return {"average_wait_s": _rounded(row["wait"]), "average_talk_s": _rounded(row["talk"])}


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 1)


async def _averages(session: AsyncSession, where: list) -> dict:
    row = (await session.execute(select(*_average_columns()).where(*where))).mappings().one()
    return _average_values(row)


async def _missed(session: AsyncSession, where: list) -> list[Call]:
    query = (select(Call).where(*where, Call.disposition.in_(MISSED))
             .order_by(Call.started_at.desc(), Call.id.desc()).limit(MISSED_LIST_MAX))
    return list(await session.scalars(query))
