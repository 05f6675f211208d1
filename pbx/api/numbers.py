from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.services import numbers

BASE = "/tenants/{tenant_id}/numbers"


class NumberCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    destination: dict[str, Any]


class NumberPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    destination: dict[str, Any]


def present(row) -> dict:
    return {"id": row.id, "number": row.number, "destination": row.destination}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "number_id")


async def list_numbers(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await numbers.list_numbers(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


async def create_number(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = NumberCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await numbers.create_number(unit, principal(request), tenant_id, body.number, body.destination)
    return json_response(present(row), status=201)


async def get_number(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await numbers.get_number(session, principal(request), *_ids(request))
    return json_response(present(row))


async def patch_number(request: web.Request) -> web.Response:
    ids = _ids(request)
    body = NumberPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await numbers.update_number(unit, principal(request), *ids, body.destination)
    return json_response(present(row))


async def delete_number(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await numbers.delete_number(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_numbers, "List a tenant's numbers"),
    Route("POST", BASE, create_number, "Allocate a number (E.164 stored) with its destination",
          body=NumberCreate, status=201),
    Route("GET", BASE + "/{number_id}", get_number, "Get a number"),
    Route("PATCH", BASE + "/{number_id}", patch_number, "Change a number's destination", body=NumberPatch),
    Route("DELETE", BASE + "/{number_id}", delete_number, "Release a number", status=204),
]
