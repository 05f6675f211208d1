"""Which public numbers a tenant may route: given by an operator."""
from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Body
from pbx.calls.query import parse_limit
from pbx.domain.errors import Invalid
from pbx.services import number_allocations

BASE = "/tenants/{tenant_id}/number-allocations"


class AllocationCreate(Body):
    number: Annotated[str, StringConstraints(min_length=1, max_length=32)]  # any form; stored in E.164


def present(row) -> dict:
    return {"id": row.id, "number": row.number, "created_at": timestamp(row.created_at)}


async def list_allocations(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await number_allocations.list_allocations(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


_E164 = re.compile(r"\+[1-9][0-9]{5,14}")


def _after(raw: str | None) -> str | None:
    """The cursor is the previous page's last number, E.164 as listed."""
    if raw is not None and not _E164.fullmatch(raw):
        raise Invalid("after: the last number of the previous page, in E.164")
    return raw


async def list_platform(request: web.Request) -> web.Response:
    after, limit = _after(request.query.get("after")), parse_limit(request.query.get("limit"), default=200)
    async with request.app[DATABASE].read() as session:
        rows = await number_allocations.list_platform(session, principal(request), after, limit + 1)
    items = [{**present(row), "tenant_id": row.tenant_id, "tenant_name": name, "routed": routed}
             for row, name, routed in rows[:limit]]
    return json_response({"items": items, "next": items[-1]["number"] if len(rows) > limit else None})


async def create_allocation(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = AllocationCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:  # routing reads numbers, not allocations
        row = await number_allocations.allocate(unit, principal(request), tenant_id, body.number)
    return json_response(present(row), status=201)


async def delete_allocation(request: web.Request) -> web.Response:
    ids = path_id(request, "tenant_id"), path_id(request, "allocation_id")
    async with request.app[DATABASE].unit() as unit:
        await number_allocations.release(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", "/number-allocations", list_platform,
          "Every allocated number with its holder, by number (a reseller: its customers'; ?after= pages on)",
          operator_only=True, query=("after", "limit"), response=responses.items(responses.HELD_NUMBER, True)),
    Route("GET", BASE, list_allocations, "Numbers allocated to the tenant (it may route only these)",
          response=responses.items(responses.ALLOCATION)),
    Route("POST", BASE, create_allocation, "Allocate a free number to the tenant", body=AllocationCreate,
          status=201, operator_only=True, response=responses.ALLOCATION),
    Route("DELETE", BASE + "/{allocation_id}", delete_allocation,
          "Take a number back (once the tenant no longer routes it)", status=204, operator_only=True),
]
