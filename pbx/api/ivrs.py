from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Name, changes
from pbx.services import ivrs

BASE = "/tenants/{tenant_id}/ivrs"
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Options = Annotated[dict[Key, dict[str, Any]], Field(max_length=12)]


class IvrCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name
    greeting_prompt_id: Annotated[int, Field(ge=1, le=2**53)]
    options: Options
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    timeout_destination: dict[str, Any] | None = None


class IvrPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name = None
    greeting_prompt_id: Annotated[int, Field(ge=1, le=2**53)] = None
    options: Options = None
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = None
    max_attempts: Annotated[int, Field(ge=1, le=10)] = None
    timeout_destination: dict[str, Any] | None = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "greeting_prompt_id": row.greeting_prompt_id, "options": row.options,
            "timeout_seconds": row.timeout_seconds, "max_attempts": row.max_attempts,
            "timeout_destination": row.timeout_destination, "created_at": timestamp(row.created_at)}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "ivr_id")


async def list_ivrs(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await ivrs.list_ivrs(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


async def create_ivr(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = IvrCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await ivrs.create_ivr(unit, principal(request), tenant_id, body.model_dump())
    return json_response(present(row), status=201)


async def get_ivr(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await ivrs.get_ivr(session, principal(request), *_ids(request))
    return json_response(present(row))


async def patch_ivr(request: web.Request) -> web.Response:
    ids = _ids(request)
    body = IvrPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await ivrs.update_ivr(unit, principal(request), *ids, changes(body))
    return json_response(present(row))


async def delete_ivr(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await ivrs.delete_ivr(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_ivrs, "List a tenant's IVR menus"),
    Route("POST", BASE, create_ivr, "Create an IVR menu", body=IvrCreate, status=201),
    Route("GET", BASE + "/{ivr_id}", get_ivr, "Get an IVR menu"),
    Route("PATCH", BASE + "/{ivr_id}", patch_ivr, "Change only the fields sent", body=IvrPatch),
    Route("DELETE", BASE + "/{ivr_id}", delete_ivr, "Delete an IVR menu nothing routes to", status=204),
]
