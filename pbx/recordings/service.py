"""Recordings as the API sees them: scoped to the principal's tenant, every read
and destruction written to the access log in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.calls.listing import number_condition
from pbx.calls.query import NumberFilter, encode_cursor, parse_number
from pbx.db.models import Call, Recording, RecordingDestruction
from pbx.db.unit import Database, Unit
from pbx.domain.errors import Invalid, NotFound
from pbx.domain.plans import PLANS
from pbx.recordings import access_log, retention
from pbx.recordings.store import ArchiveStore
from pbx.services.tenants import scoped_get, visible_history, visible_tenant
from pbx.services.tokens import Principal


@dataclass(frozen=True)
class ListQuery:
    start: datetime | None = None
    end: datetime | None = None
    parties: frozenset[str] = frozenset()  # caller or callee is one of these (number_variants)
    after: tuple[datetime, int] | None = None  # the cursor: (started_at, id) of the previous page's last
    limit: int = 100
    own_extension: str | None = None  # an agent's: only recordings of calls it took part in


def actor(principal: Principal) -> str:
    if principal.user_id is not None:  # a panel user (pbx/users/), named by id
        return f"user:{principal.user_id}"
    who = "operator" if principal.is_operator else "token"
    return f"{who}:{principal.token_id}" if principal.token_id is not None else who


def number_variants(raw: str) -> set[str]:
    """How a number may appear as a recording's caller or callee: an extension as
    it is; a public number in E.164, without '+', national with and without 0."""
    number = parse_number(raw.strip() if isinstance(raw, str) else "")
    if number.is_extension:
        return {number.value}
    digits = number.value[1:]
    variants = {number.value, digits}
    if digits.startswith("90"):
        variants |= {"0" + digits[2:], digits[2:]}
    return variants


class RecordingService:
    def __init__(self, database: Database, store: ArchiveStore):
        self.database = database
        self.store = store

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int,
                   query: ListQuery) -> tuple[list[dict], str | None]:
        """Newest first, as the call list: each with the id of the call record that names
        its file id (dialplans/pbx.conf sets CDR(pbx_recording) to it), if there is one yet."""
        await visible_tenant(session, principal, tenant_id)
        names_it = (Call.tenant_id == Recording.tenant_id) & (Call.recording_file_id == Recording.file_id)
        stmt = select(Recording, Call.id).outerjoin(Call, names_it).where(Recording.tenant_id == tenant_id)
        if query.own_extension:  # the call list's own rule (pbx/calls/listing.py): what it shows, plays
            stmt = stmt.where(number_condition(NumberFilter(query.own_extension, True)))
        if query.start is not None:
            stmt = stmt.where(Recording.started_at >= query.start)
        if query.end is not None:
            stmt = stmt.where(Recording.started_at < query.end)
        if query.parties:
            stmt = stmt.where(or_(Recording.caller.in_(query.parties), Recording.callee.in_(query.parties)))
        if query.after is not None:
            at, last_id = query.after
            stmt = stmt.where(or_(Recording.started_at < at, and_(Recording.started_at == at, Recording.id < last_id)))
        stmt = stmt.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(query.limit + 1)
        rows = (await session.execute(stmt)).all()
        page = [{"row": row, "call_id": call_id} for row, call_id in rows[:query.limit]]
        last = page[-1]["row"] if len(rows) > query.limit else None
        return page, (encode_cursor(last.started_at, last.id) if last else None)

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, rec_id: int) -> Recording:
        return await scoped_get(session, principal, Recording, tenant_id, rec_id, "recording")

    async def open_audio(self, unit: Unit, principal: Principal, tenant_id: int, rec_id: int,
                         own_extension: str | None = None):
        """Logs the read, then returns (size, plain chunk iterator) for streaming. own_extension
        (an agent's): another extension's recording does not exist (404), like another tenant's."""
        row = await self.get(unit.session, principal, tenant_id, rec_id)
        if own_extension and not await _heard_on(unit.session, row, own_extension):
            raise NotFound("no such recording")
        path = self.store.path(row.tenant_id, row.started_at, row.file_id)
        if not path.exists():
            raise NotFound("the recording's audio is gone")
        await access_log.append(unit.session, [access_log.Entry(
            tenant_id, row.id, row.file_id, "read", actor(principal), datetime.now(timezone.utc))])
        return row.size_bytes, self.store.plain_chunks(path, row.wrapped_key)

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, rec_id: int) -> None:
        row = await self.get(unit.session, principal, tenant_id, rec_id)
        [target] = (await unit.session.execute(retention.select_rows().where(Recording.id == row.id))).all()
        await retention.destroy(unit, self.store, [target], "deleted", actor(principal), datetime.now(timezone.utc))

    async def erase(self, unit: Unit, principal: Principal, tenant_id: int, number: str) -> int:
        """KVKK erasure: every recording of the tenant with this party, in one go."""
        await visible_tenant(unit.session, principal, tenant_id)
        variants = number_variants(number)
        rows = (await unit.session.execute(retention.select_rows().where(
            Recording.tenant_id == tenant_id,
            or_(Recording.caller.in_(variants), Recording.callee.in_(variants))))).all()
        return await retention.destroy(unit, self.store, rows, "erasure", actor(principal),
                                       datetime.now(timezone.utc))

    async def plan_changed(self, unit: Unit, principal: Principal, tenant) -> None:
        """Policy (README): a downgrade shortens every recording's life to the new
        plan's retention (none: now), an upgrade lengthens nothing; what is then
        expired is destroyed right after the change commits."""
        now = datetime.now(timezone.utc)
        await retention.shorten_for_plan(unit.session, tenant.id, PLANS[tenant.plan], now)
        unit.after_commit(lambda: retention.purge_expired(
            self.database, self.store, now, tenant_id=tenant.id, reason="plan_change", actor=actor(principal)))

    async def tenant_deleted(self, unit: Unit, principal: Principal, tenant_id: int) -> None:
        await retention.destroy_tenant(unit, self.store, tenant_id, actor(principal),
                                       datetime.now(timezone.utc))

    async def access_entries(self, session: AsyncSession, principal: Principal, tenant_id: int,
                             rec_id: int) -> list:
        """A recording's log, also after it was destroyed (the log outlives it)."""
        await visible_history(session, principal, tenant_id)
        entries = await access_log.entries_for(session, tenant_id, rec_id)
        if not entries and await session.scalar(select(Recording.id).where(
                Recording.tenant_id == tenant_id, Recording.id == rec_id)) is None:
            raise NotFound("no such recording")
        return entries

    async def destructions(self, session: AsyncSession, principal: Principal, tenant_id: int) -> list:
        """Proof of what was destroyed, newest first; like the log, it outlives the tenant."""
        await visible_history(session, principal, tenant_id)
        return list(await session.scalars(select(RecordingDestruction).where(
            RecordingDestruction.tenant_id == tenant_id).order_by(RecordingDestruction.id.desc()).limit(1000)))

    async def verify(self, session: AsyncSession, principal: Principal, tenant_id: int) -> dict:
        await visible_history(session, principal, tenant_id)
        return await access_log.verify(session, tenant_id)


async def _heard_on(session: AsyncSession, row: Recording, extension: str) -> bool:
    """Whether a call record naming this recording is one the extension took part in."""
    return await session.scalar(select(Call.id).where(
        Call.tenant_id == row.tenant_id, Call.recording_file_id == row.file_id,
        number_condition(NumberFilter(extension, True))).limit(1)) is not None


def parse_party(raw: str | None) -> frozenset[str]:
    """?extension=: an extension, or a public number in any form the API accepts."""
    if raw is None:
        return frozenset()
    if len(raw) > 32:
        raise Invalid("extension: an extension number or a phone number")
    return frozenset(number_variants(raw))
