"""The outbox: events written in the transaction of the state they describe.

A tenant's seq comes from its counter row, incremented by an upsert: on PostgreSQL
that takes the row's write lock until commit, so concurrent transactions of one
tenant queue there and seqs are handed out in commit order; SQLite has one writer."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.event_tables import EventCounter, EventRow, Webhook, WebhookDelivery
from pbx.eventing.types import matches

REPLAY_PAGE = 500


def _insert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def next_seq(session: AsyncSession, tenant_id: int) -> int:
    statement = _insert(session)(EventCounter.__table__).values(tenant_id=tenant_id, last_seq=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id"], set_={"last_seq": EventCounter.__table__.c.last_seq + 1},
    ).returning(EventCounter.__table__.c.last_seq)
    return (await session.execute(statement)).scalar_one()


async def write_event(session: AsyncSession, type: str, tenant_id: int, data: dict, at: datetime,
                      dedupe_key: str | None = None) -> dict | None:
    """The event as it is published, or None when one with this dedupe_key was written
    before (an AMI replay)."""
    if dedupe_key is not None and await session.scalar(
            select(EventRow.id).where(EventRow.tenant_id == tenant_id, EventRow.dedupe_key == dedupe_key)):
        return None
    event = {"id": str(uuid.uuid4()), "seq": await next_seq(session, tenant_id), "type": type,
             "tenant_id": tenant_id, "at": at.isoformat().replace("+00:00", "Z"), "data": data}
    session.add(EventRow(id=event["id"], tenant_id=tenant_id, seq=event["seq"], type=type, at=at, data=data,
                         dedupe_key=dedupe_key))
    await _owe_to_webhooks(session, event, at)
    return event


async def _owe_to_webhooks(session: AsyncSession, event: dict, at: datetime) -> None:
    hooks = await session.scalars(select(Webhook).where(Webhook.tenant_id == event["tenant_id"],
                                                        Webhook.enabled.is_(True)))
    for hook in hooks:
        if matches(hook.events, event["type"]):
            session.add(WebhookDelivery(webhook_id=hook.id, tenant_id=hook.tenant_id, event_id=event["id"],
                                        seq=event["seq"], status="pending", attempts=0, next_attempt_at=at,
                                        created_at=at))


def as_published(row: EventRow) -> dict:
    return {"id": row.id, "seq": row.seq, "type": row.type, "tenant_id": row.tenant_id,
            "at": row.at.isoformat().replace("+00:00", "Z"), "data": row.data}


async def events_after(session: AsyncSession, tenant_id: int, after: int, limit: int = REPLAY_PAGE) -> list[dict]:
    rows = await session.scalars(select(EventRow).where(EventRow.tenant_id == tenant_id, EventRow.seq > after)
                                 .order_by(EventRow.seq).limit(limit))
    return [as_published(row) for row in rows]
