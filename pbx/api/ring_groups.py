from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import ExtensionNumber, Name, changes
from pbx.services import ring_groups

BASE = "/tenants/{tenant_id}/ring_groups"
Members = Annotated[list[ExtensionNumber], Field(min_length=1, max_length=30)]
RingSeconds = Annotated[int, Field(ge=5, le=300)]


class RingGroupCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name
    extensions: Members
    strategy: Literal["all", "sequential"] = "all"
    ring_seconds: RingSeconds = 20
    next_destination: dict[str, Any] | None = None


class RingGroupPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name = None
    extensions: Members = None
    strategy: Literal["all", "sequential"] = None
    ring_seconds: RingSeconds = None
    next_destination: dict[str, Any] | None = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "extensions": row.extensions, "strategy": row.strategy,
            "ring_seconds": row.ring_seconds, "next_destination": row.next_destination,
            "created_at": timestamp(row.created_at)}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "ring_group_id")


async def list_groups(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await ring_groups.list_groups(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


async def create_group(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = RingGroupCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await ring_groups.create_group(unit, principal(request), tenant_id, body.model_dump())
    return json_response(present(row), status=201)


async def get_group(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await ring_groups.get_group(session, principal(request), *_ids(request))
    return json_response(present(row))


async def patch_group(request: web.Request) -> web.Response:
    ids = _ids(request)
    body = RingGroupPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await ring_groups.update_group(unit, principal(request), *ids, changes(body))
    return json_response(present(row))


async def delete_group(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await ring_groups.delete_group(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_groups, "List a tenant's ring groups"),
    Route("POST", BASE, create_group, "Create a ring group (ring_seconds: per phone when sequential)",
          body=RingGroupCreate, status=201),
    Route("GET", BASE + "/{ring_group_id}", get_group, "Get a ring group"),
    Route("PATCH", BASE + "/{ring_group_id}", patch_group, "Change only the fields sent", body=RingGroupPatch),
    Route("DELETE", BASE + "/{ring_group_id}", delete_group, "Delete a ring group nothing routes to", status=204),
]
