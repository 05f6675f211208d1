"""Gathers what a routing decision needs from the database: only what the
destinations name, always scoped to one tenant. No decisions are made here."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk import configgen
from pbx.db.models import Extension, Ivr, Number, Prompt, RingGroup, Schedule
from pbx.domain import destinations, schedules
from pbx.routing import ivr
from pbx.routing.destinations import Group, Resolved, route_destination
from pbx.routing.internal import Decision


async def decide_destination(session: AsyncSession, number: Number) -> Decision:
    dest = destinations.parse(number.destination)
    return route_destination(dest, await resolve(session, number.tenant_id, dest), number.tenant_id)


async def resolve(session: AsyncSession, tenant_id: int, *dests) -> Resolved:
    """Loads only what the destinations name, scoped to the tenant."""
    refs = destinations.References()
    for dest in dests:
        if dest is not None:
            destinations.references(dest, refs)
    menus = await _menus(session, tenant_id, refs.ivrs)
    for menu in menus.values():
        refs.prompts.add(menu.greeting)  # a prompt id until the paths below are known
    prompts = await _prompt_paths(session, tenant_id, refs.prompts)
    menus = {i: replace(m, greeting=prompts.get(m.greeting, "")) for i, m in menus.items()}
    groups = await _groups(session, tenant_id, refs.ring_groups)
    extensions, voicemail, hours = {}, {}, {}
    if refs.schedules:
        rows = await session.scalars(select(Schedule).where(
            Schedule.tenant_id == tenant_id, Schedule.id.in_(refs.schedules)))
        hours = {row.id: schedules.from_stored(row.timezone, row.weekly, row.holidays) for row in rows}
    if refs.extensions:
        rows = await session.execute(select(
            Extension.number, Extension.sip_username, Extension.id, Extension.voicemail).where(
            Extension.tenant_id == tenant_id, Extension.number.in_(refs.extensions)))
        for number, sip_id, ext_id, has_voicemail in rows.all():
            extensions[number] = sip_id
            if has_voicemail:
                voicemail[number] = ext_id
    return Resolved(extensions, prompts, menus, hours, now=datetime.now(timezone.utc), groups=groups,
                    voicemail=voicemail)


async def _groups(session: AsyncSession, tenant_id: int, group_ids: set[int]) -> dict[int, Group]:
    if not group_ids:
        return {}
    rows = list(await session.scalars(select(RingGroup).where(
        RingGroup.tenant_id == tenant_id, RingGroup.id.in_(group_ids))))
    numbers = {n for row in rows for n in row.extensions}
    sip_ids = dict((await session.execute(select(Extension.number, Extension.sip_username).where(
        Extension.tenant_id == tenant_id, Extension.number.in_(numbers)))).all())
    return {row.id: Group(row.id, tuple(sip_ids[n] for n in row.extensions if n in sip_ids),
                          row.strategy == "sequential", row.ring_seconds, row.next_destination is not None)
            for row in rows}


async def _prompt_paths(session: AsyncSession, tenant_id: int, prompt_ids: set[int]) -> dict[int, str]:
    if not prompt_ids:
        return {}
    rows = await session.execute(select(Prompt.id, Prompt.file_id).where(
        Prompt.tenant_id == tenant_id, Prompt.id.in_(prompt_ids)))
    return {pid: f"{configgen.AUDIO}/{tenant_id}/{file_id}" for pid, file_id in rows.all()}


async def _menus(session: AsyncSession, tenant_id: int, ivr_ids: set[int]) -> dict[int, ivr.Menu]:
    if not ivr_ids:
        return {}
    rows = await session.scalars(select(Ivr).where(Ivr.tenant_id == tenant_id, Ivr.id.in_(ivr_ids)))
    return {row.id: menu_of(row) for row in rows}


def menu_of(row: Ivr) -> ivr.Menu:
    """The menu as plain data; greeting holds the prompt id until resolve() maps it to a path."""
    return ivr.Menu(
        ivr_id=row.id, tenant_id=row.tenant_id, greeting=row.greeting_prompt_id,
        timeout_seconds=row.timeout_seconds, max_attempts=row.max_attempts,
        options={key: destinations.parse(dest) for key, dest in row.options.items()},
        timeout_destination=destinations.parse(row.timeout_destination) if row.timeout_destination else None,
    )
