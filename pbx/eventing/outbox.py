"""The outbox: events written in the transaction of the state they describe.

A tenant's seq comes from its counter row, advanced by an upsert: on PostgreSQL that
takes the row's write lock until commit, so concurrent transactions of one tenant
queue there and never share a seq; SQLite has one writer. Events are written in
batches (a few statements per tenant, not per event): call events come by the hundred."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.event_tables import EventCounter, EventRow, Webhook, WebhookDelivery
from pbx.eventing.types import matches

REPLAY_PAGE = 500


@dataclass(frozen=True)
class NewEvent:
    type: str
    tenant_id: int
    data: dict
    at: datetime
    dedupe_key: str | None = None


def _insert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def next_seqs(session: AsyncSession, tenant_id: int, count: int) -> range:
    """`count` new seqs of the tenant, in order."""
    counters = EventCounter.__table__
    statement = _insert(session)(counters).values(tenant_id=tenant_id, last_seq=count)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id"], set_={"last_seq": counters.c.last_seq + count},
    ).returning(counters.c.last_seq)
    last = (await session.execute(statement)).scalar_one()
    return range(last - count + 1, last + 1)


async def write_events(session: AsyncSession, new: list[NewEvent]) -> list[dict]:
    """The events as published, in order; one whose dedupe_key was written before (an AMI
    replay) is left out."""
    by_tenant: dict[int, list[NewEvent]] = defaultdict(list)
    for event in new:
        by_tenant[event.tenant_id].append(event)
    published = []
    for tenant_id, events in by_tenant.items():
        published += await _write_tenant(session, tenant_id, await _not_seen(session, tenant_id, events))
    return published


async def _not_seen(session: AsyncSession, tenant_id: int, events: list[NewEvent]) -> list[NewEvent]:
    keys = {e.dedupe_key for e in events if e.dedupe_key}
    seen = set(await session.scalars(select(EventRow.dedupe_key).where(
        EventRow.tenant_id == tenant_id, EventRow.dedupe_key.in_(keys)))) if keys else set()
    fresh = []
    for event in events:
        if event.dedupe_key not in seen:
            fresh.append(event)
            if event.dedupe_key:
                seen.add(event.dedupe_key)  # twice in one batch is a replay too
    return fresh


async def _write_tenant(session: AsyncSession, tenant_id: int, events: list[NewEvent]) -> list[dict]:
    if not events:
        return []
    rows = [{"id": str(uuid.uuid4()), "tenant_id": tenant_id, "seq": seq, "type": e.type, "at": e.at,
             "data": e.data, "dedupe_key": e.dedupe_key}
            for e, seq in zip(events, await next_seqs(session, tenant_id, len(events)))]
    await session.execute(insert(EventRow), rows)
    await _owe_to_webhooks(session, tenant_id, rows)
    return [_published(row) for row in rows]


async def _owe_to_webhooks(session: AsyncSession, tenant_id: int, rows: list[dict]) -> None:
    hooks = (await session.execute(select(Webhook.id, Webhook.events).where(
        Webhook.tenant_id == tenant_id, Webhook.enabled.is_(True)))).all()
    owed = [{"webhook_id": hook_id, "tenant_id": tenant_id, "event_id": row["id"], "seq": row["seq"],
             "status": "pending", "attempts": 0, "next_attempt_at": row["at"], "created_at": row["at"]}
            for hook_id, names in hooks for row in rows if matches(names, row["type"])]
    if owed:
        await session.execute(insert(WebhookDelivery), owed)


def published(id: str, seq: int, type: str, tenant_id: int, at: datetime, data: dict) -> dict:
    """An event as the stream and webhooks carry it."""
    return {"id": id, "seq": seq, "type": type, "tenant_id": tenant_id, "at": at.isoformat().replace("+00:00", "Z"),
            "data": data}


def _published(row: dict) -> dict:
    return published(row["id"], row["seq"], row["type"], row["tenant_id"], row["at"], row["data"])


def as_published(row: EventRow) -> dict:
    return published(row.id, row.seq, row.type, row.tenant_id, row.at, row.data)


async def events_after(session: AsyncSession, tenant_id: int, after: int, limit: int = REPLAY_PAGE) -> list[dict]:
    rows = await session.scalars(select(EventRow).where(EventRow.tenant_id == tenant_id, EventRow.seq > after)
                                 .order_by(EventRow.seq).limit(limit))
    return [as_published(row) for row in rows]
