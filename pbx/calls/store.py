"""Writes a batch of legs and the calls they belong to, in the caller's transaction.

Legs are inserted keyed by Asterisk's identity (uniqueid, sequence): a record seen
twice (live and again from Asterisk's CSV copy) is stored once. Every call a new
leg touches is folded again from all its legs and upserted by linkedid, so the row
is the same whatever order and however often the legs arrived.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.calls.fold import CallRecord, fold, seconds_between
from pbx.calls.legs import Leg, Quality
from pbx.db.models import Call, CallLeg, Number, Tenant

_LEG_COLUMNS = ("uniqueid", "sequence", "linkedid", "start", "answer", "end", "disposition", "tenant_id", "route",
                "action", "dialled", "caller", "callee", "outcome", "recording")
_CHUNK = 400  # rows per statement: well under SQLite's bound-parameter limit


async def store_legs(session: AsyncSession, legs: Iterable[Leg]) -> set[str]:
    """Stores the legs and refreshes their calls; returns the linkedids of the calls
    that new legs touched (call.ended is raised for them, pbx/eventing/calls.py)."""
    unique = {leg.key: leg for leg in legs}
    if not unique:
        return set()
    rows = [_leg_row(leg) for leg in unique.values()]
    statement = (_upsert(session)(CallLeg.__table__).on_conflict_do_nothing(index_elements=["uniqueid", "sequence"])
                 .returning(CallLeg.linkedid))
    touched: set[str] = set()
    for start in range(0, len(rows), _CHUNK):
        # Only legs not stored before come back: a replay (the CSV copy after the live
        # feed) touches no call and folds nothing again.
        touched.update((await session.execute(statement, rows[start:start + _CHUNK])).scalars())
    if not touched:
        return touched
    records = [fold(group) for group in (await _legs_of(session, sorted(touched))).values()]
    await _upsert_calls(session, await _with_tenants(session, records))
    return touched


def _leg_row(leg: Leg) -> dict:
    return {name: getattr(leg, name) for name in _LEG_COLUMNS} | _quality_columns(leg.quality)


def _quality_columns(quality: Quality | None) -> dict:
    return {"jitter_ms": quality and quality.jitter_ms, "loss_percent": quality and quality.loss_percent,
            "rtt_ms": quality and quality.rtt_ms}


async def _legs_of(session: AsyncSession, linkedids: list[str]) -> dict[str, list[Leg]]:
    # Core rows, not ORM objects: this runs for every batch of the live feed.
    grouped: dict[str, list[Leg]] = defaultdict(list)
    columns = [getattr(CallLeg, name) for name in _LEG_COLUMNS + ("jitter_ms", "loss_percent", "rtt_ms")]
    for start in range(0, len(linkedids), _CHUNK):
        chunk = linkedids[start:start + _CHUNK]
        for row in await session.execute(select(*columns).where(CallLeg.linkedid.in_(chunk))):
            grouped[row.linkedid].append(_leg_of(row))
    return grouped


def _leg_of(row) -> Leg:
    quality = Quality(row.jitter_ms, row.loss_percent, row.rtt_ms) if row.jitter_ms is not None else None
    return Leg(**{name: getattr(row, name) for name in _LEG_COLUMNS}, quality=quality)


async def _with_tenants(session: AsyncSession, records: list[CallRecord]) -> list[CallRecord]:
    """A call routed without the control plane (its fallback) carries no tenant tag;
    an inbound one still belongs to whoever holds the number. Tags naming a tenant
    that no longer exists are dropped."""
    numbers = {r.number for r in records if r.tenant_id is None and r.direction == "inbound" and r.number}
    owners = dict((await session.execute(select(Number.number, Number.tenant_id)
                                         .where(Number.number.in_(numbers)))).all()) if numbers else {}
    tagged = {r.tenant_id for r in records if r.tenant_id is not None}
    existing = set(await session.scalars(select(Tenant.id).where(Tenant.id.in_(tagged)))) if tagged else set()
    return [_owned(r, owners, existing) for r in records]


def _owned(record: CallRecord, owners: dict, existing: set) -> CallRecord:
    if record.tenant_id is None:
        return replace(record, tenant_id=owners.get(record.number))
    return record if record.tenant_id in existing else replace(record, tenant_id=None)


async def _upsert_calls(session: AsyncSession, records: list[CallRecord]) -> None:
    """One upsert keyed by linkedid: new calls inserted, known ones refreshed."""
    rows = [{"linkedid": r.linkedid, **call_values(r)} for r in records]
    statement = _upsert(session)(Call.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["linkedid"], set_={name: statement.excluded[name] for name in rows[0] if name != "linkedid"})
    for start in range(0, len(rows), _CHUNK):
        await session.execute(statement, rows[start:start + _CHUNK])


def _upsert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def call_values(record: CallRecord) -> dict:
    wait_s = seconds_between(record.started_at, record.answered_at) if record.answered_at else None
    return {
        "tenant_id": record.tenant_id, "started_at": record.started_at, "answered_at": record.answered_at,
        "ended_at": record.ended_at, "direction": record.direction, "caller": record.caller,
        "callee": record.callee, "number": record.number, "extension": record.extension,
        "disposition": record.disposition, "duration_s": record.duration_s, "billsec": record.billsec,
        "wait_s": wait_s, "recording_file_id": record.recording_file_id, **_quality_columns(record.quality),
    }
