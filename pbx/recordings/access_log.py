"""The KVKK access log: every read, deletion and destruction of a recording, who
did it and when. Entries are chained per tenant: each holds the SHA-256 of the
previous entry's hash and its own canonical content, so changing, removing or
reordering any entry breaks every hash after it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import RecordingAccess

_quoted = json.encoder.encode_basestring_ascii  # what json.dumps uses for a str (ensure_ascii)
from pbx.services.tenants import lock_tenant

GENESIS = "0" * 64
_BATCH = 1000


@dataclass(frozen=True)
class Entry:
    tenant_id: int
    recording_id: int
    file_id: str
    action: str
    actor: str
    at: datetime


def canonical(entry: Entry) -> bytes:
    """One serialisation, whatever the database returns: sorted keys, UTC microseconds.
    Byte for byte json.dumps(..., sort_keys=True, separators=(",", ":")) of the entry
    (tests/unit/test_recordings.py checks), spelled out: purges hash thousands a second."""
    at = entry.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (f'{{"action":{_quoted(entry.action)},"actor":{_quoted(entry.actor)},"at":"{at}",'
            f'"file_id":{_quoted(entry.file_id)},"recording_id":{int(entry.recording_id)},'
            f'"tenant_id":{int(entry.tenant_id)}}}').encode()


def canonical_reference(entry: Entry) -> bytes:
    """What canonical() must equal (the chain's definition)."""
    at = entry.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"tenant_id": entry.tenant_id, "recording_id": entry.recording_id,
                       "file_id": entry.file_id, "action": entry.action, "actor": entry.actor, "at": at},
                      sort_keys=True, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, entry: Entry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(entry)).hexdigest()


def chained(prev_hash: str, entries: list[Entry]) -> list[dict]:
    """Rows ready to insert, each linked to the one before."""
    rows = []
    for entry in entries:
        digest = chain_hash(prev_hash, entry)
        rows.append({**entry.__dict__, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    return rows


async def append(session: AsyncSession, entries: list[Entry]) -> None:
    """Appends one tenant's entries. The tenant row lock (PostgreSQL) or the
    single SQLite writer makes read-last-hash-then-insert atomic per tenant."""
    if not entries:
        return
    tenant_id = entries[0].tenant_id
    assert all(e.tenant_id == tenant_id for e in entries)
    await lock_tenant(session, tenant_id)
    last = await session.scalar(select(RecordingAccess.hash).where(RecordingAccess.tenant_id == tenant_id)
                                .order_by(RecordingAccess.id.desc()).limit(1))
    await session.execute(insert(RecordingAccess.__table__), chained(last or GENESIS, entries))


def _entry(row) -> Entry:
    return Entry(row.tenant_id, row.recording_id, row.file_id, row.action, row.actor, row.at)


async def verify(session: AsyncSession, tenant_id: int) -> dict:
    """Walks the tenant's chain in id order, a batch at a time (constant memory)."""
    prev, count, after = GENESIS, 0, 0
    while True:
        rows = (await session.execute(select(RecordingAccess).where(
            RecordingAccess.tenant_id == tenant_id, RecordingAccess.id > after)
            .order_by(RecordingAccess.id).limit(_BATCH))).scalars().all()
        for row in rows:
            if row.prev_hash != prev or row.hash != chain_hash(prev, _entry(row)):
                return {"ok": False, "entries": count, "broken_at": row.id}
            prev, count, after = row.hash, count + 1, row.id
        session.expunge_all()
        if len(rows) < _BATCH:
            return {"ok": True, "entries": count, "broken_at": None}


async def entries_for(session: AsyncSession, tenant_id: int, recording_id: int) -> list[RecordingAccess]:
    return list(await session.scalars(select(RecordingAccess).where(
        RecordingAccess.tenant_id == tenant_id, RecordingAccess.recording_id == recording_id)
        .order_by(RecordingAccess.id)))
