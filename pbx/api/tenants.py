from __future__ import annotations

import asyncio

from aiohttp import web

from pbx.api import present
from pbx.api.context import DATABASE, EXTENSIONS, PROMPTS, RECORDINGS, VOICEMAIL, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import TenantCreate, TenantPatch, changes
from pbx.services import tenants
from pbx.services.tokens import create_token


async def list_tenants(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await tenants.list_tenants(session, principal(request))
    return json_response({"items": [present.tenant(r) for r in rows]})


async def create_tenant(request: web.Request) -> web.Response:
    body = TenantCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await tenants.create_tenant(unit, principal(request), body.model_dump())
    return json_response(present.tenant(row), status=201)


async def get_tenant(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await tenants.visible_tenant(session, principal(request), path_id(request, "tenant_id"))
    return json_response(present.tenant(row))


async def patch_tenant(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = TenantPatch.model_validate(await json_body(request))
    fields = changes(body)
    recordings = request.app[RECORDINGS]
    async with request.app[DATABASE].unit() as unit:
        row = await tenants.update_tenant(unit, principal(request), tenant_id, fields)
        if "plan" in fields:
            await recordings.plan_changed(unit, principal(request), row)
    return json_response(present.tenant(row))


async def delete_tenant(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    store, recordings, who = request.app[PROMPTS].store, request.app[RECORDINGS], principal(request)
    also = (lambda unit, tid: recordings.tenant_deleted(unit, who, tid), request.app[VOICEMAIL].forget_tenant)
    async with request.app[DATABASE].unit() as unit:
        await tenants.delete_tenant(unit, who, tenant_id, request.app[EXTENSIONS].remove, also)
        unit.after_commit(lambda: asyncio.to_thread(store.remove_tenant, tenant_id))
    return web.Response(status=204)


async def create_tenant_token(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].unit() as unit:
        await tenants.visible_tenant(unit.session, principal(request), tenant_id)
        tenants.require_operator(principal(request))
        token = await create_token(unit.session, tenant_id)
    return json_response({"token": token}, status=201)


ROUTES = [
    Route("GET", "/tenants", list_tenants, "List tenants (a tenant token sees only its own)"),
    Route("POST", "/tenants", create_tenant, "Create a tenant", body=TenantCreate, status=201, operator_only=True),
    Route("GET", "/tenants/{tenant_id}", get_tenant, "Get a tenant"),
    Route("PATCH", "/tenants/{tenant_id}", patch_tenant, "Change a tenant; a plan change applies at once",
          body=TenantPatch, operator_only=True),
    Route("DELETE", "/tenants/{tenant_id}", delete_tenant, "Delete a tenant and its extensions", status=204,
          operator_only=True),
    Route("POST", "/tenants/{tenant_id}/tokens", create_tenant_token, "Create a tenant token", status=201,
          operator_only=True),
]
