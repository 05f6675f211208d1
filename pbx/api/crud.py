"""The five routes of a tenant-scoped resource (list, create, get, patch, delete),
built from its schemas and service functions, so every resource behaves alike."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from aiohttp import web
from pydantic import BaseModel

from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.responses import items
from pbx.api.routes import Route
from pbx.api.schemas import changes


@dataclass(frozen=True)
class Resource:
    path: str  # e.g. "/tenants/{tenant_id}/ivrs"
    id_name: str  # e.g. "ivr_id"
    slug: str  # operation names: list_<slug>s, create_<slug>, ...
    noun: str  # for summaries
    create_body: type[BaseModel]
    patch_body: type[BaseModel]
    present: Callable
    list: Callable  # (session, principal, tenant_id)
    get: Callable  # (session, principal, tenant_id, id)
    create: Callable  # (unit, principal, tenant_id, fields)
    update: Callable  # (unit, principal, tenant_id, id, fields)
    delete: Callable  # (unit, principal, tenant_id, id)
    schema: dict | None = None  # JSON Schema of one presented object (pbx/api/responses.py)
    # A service built per app (it holds settings): the five callables are then its class's
    # methods, called on request.app[service].
    service: web.AppKey | None = None
    summaries: Mapping[str, str] = field(default_factory=dict)  # by verb, where the default says too little


def routes(r: Resource) -> list[Route]:
    def ids(request: web.Request) -> tuple[int, int]:
        return path_id(request, "tenant_id"), path_id(request, r.id_name)

    def act(request: web.Request, verb: str) -> Callable:
        action = getattr(r, verb)
        return action if r.service is None else partial(action, request.app[r.service])

    async def list_all(request: web.Request) -> web.Response:
        async with request.app[DATABASE].read() as session:
            rows = await act(request, "list")(session, principal(request), path_id(request, "tenant_id"))
        return json_response({"items": [r.present(row) for row in rows]})

    async def create(request: web.Request) -> web.Response:
        tenant_id = path_id(request, "tenant_id")
        body = r.create_body.model_validate(await json_body(request))
        async with request.app[DATABASE].unit() as unit:
            row = await act(request, "create")(unit, principal(request), tenant_id, body.model_dump())
        return json_response(r.present(row), status=201)

    async def get(request: web.Request) -> web.Response:
        async with request.app[DATABASE].read() as session:
            row = await act(request, "get")(session, principal(request), *ids(request))
        return json_response(r.present(row))

    async def patch(request: web.Request) -> web.Response:
        where = ids(request)
        body = r.patch_body.model_validate(await json_body(request))
        async with request.app[DATABASE].unit() as unit:
            row = await act(request, "update")(unit, principal(request), *where, changes(body))
        return json_response(r.present(row))

    async def delete(request: web.Request) -> web.Response:
        where = ids(request)
        async with request.app[DATABASE].unit() as unit:
            await act(request, "delete")(unit, principal(request), *where)
        return web.Response(status=204)

    for handler, verb in ((list_all, "list"), (create, "create"), (get, "get"), (patch, "patch"),
                          (delete, "delete")):
        handler.__name__ = f"{verb}_{r.slug}s" if verb == "list" else f"{verb}_{r.slug}"
    one, summary = f"{r.path}/{{{r.id_name}}}", _summaries(r)
    return [
        Route("GET", r.path, list_all, summary["list"], response=items(r.schema)),
        Route("POST", r.path, create, summary["create"], body=r.create_body, status=201, response=r.schema),
        Route("GET", one, get, summary["get"], response=r.schema),
        Route("PATCH", one, patch, summary["patch"], body=r.patch_body, response=r.schema),
        Route("DELETE", one, delete, summary["delete"], status=204),
    ]


def _summaries(r: Resource) -> dict[str, str]:
    return {"list": f"List a tenant's {r.noun}s", "create": f"Create a {r.noun}", "get": f"Get a {r.noun}",
            "patch": "Change only the fields sent", "delete": f"Delete a {r.noun} that nothing uses", **r.summaries}
