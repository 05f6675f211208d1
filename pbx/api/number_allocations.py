"""Which public numbers a tenant may route: given by an operator."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Body
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
    Route("GET", BASE, list_allocations, "Numbers allocated to the tenant (it may route only these)",
          response=responses.items(responses.ALLOCATION)),
    Route("POST", BASE, create_allocation, "Allocate a free number to the tenant", body=AllocationCreate,
          status=201, operator_only=True, response=responses.ALLOCATION),
    Route("DELETE", BASE + "/{allocation_id}", delete_allocation,
          "Take a number back (once the tenant no longer routes it)", status=204, operator_only=True),
]
