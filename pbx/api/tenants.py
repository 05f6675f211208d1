from __future__ import annotations

from aiohttp import web

from pbx.api import present, responses
from pbx.api.context import BILLING, DATABASE, TENANTS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import TenantCreate, TenantPatch, TokenCreate, changes
from pbx.services import tenants, tokens


async def list_tenants(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await tenants.list_tenants(session, principal(request))
    return json_response({"items": [present.tenant(r) for r in rows]})


async def create_tenant(request: web.Request) -> web.Response:
    body = TenantCreate.model_validate(await json_body(request))
    fields = body.model_dump()
    terms = {"trial": fields.pop("trial"), "circuit_pricing": fields.pop("circuit_pricing")}
    async with request.app[DATABASE].unit() as unit:
        row = await tenants.create_tenant(unit, principal(request), fields)
        await request.app[BILLING].open_account(unit, row, **terms, reseller_id=principal(request).reseller_id)
    return json_response(present.tenant(row), status=201)


async def get_tenant(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await tenants.visible_tenant(session, principal(request), path_id(request, "tenant_id"))
    return json_response(present.tenant(row))


async def patch_tenant(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = TenantPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[TENANTS].update(unit, principal(request), tenant_id, changes(body))
    return json_response(present.tenant(row))


async def delete_tenant(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].unit() as unit:
        await request.app[TENANTS].delete(unit, principal(request), tenant_id)
    return web.Response(status=204)


async def create_tenant_token(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = TokenCreate.model_validate(await json_body(request) if request.body_exists else {})
    async with request.app[DATABASE].unit() as unit:
        await tenants.visible_tenant(unit.session, principal(request), tenant_id)
        tenants.require_manager(principal(request))
        token, row = await tokens.create_token(unit.session, tenant_id, body.expires_at)
    return json_response({"token": token, **present.token(row)}, status=201)


async def list_tenant_tokens(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        await tenants.visible_tenant(session, principal(request), tenant_id)
        rows = await tokens.tenant_tokens(session, tenant_id)
    return json_response({"items": [present.token(r) for r in rows]})


async def revoke_tenant_token(request: web.Request) -> web.Response:
    """A tenant may revoke its own tokens (a leaked one at once); the operator any."""
    tenant_id, token_id = path_id(request, "tenant_id"), path_id(request, "token_id")
    async with request.app[DATABASE].unit() as unit:
        await tenants.visible_tenant(unit.session, principal(request), tenant_id)
        await tokens.revoke(unit.session, tenant_id, token_id)
    return web.Response(status=204)


ROUTES = [
    Route("GET", "/tenants", list_tenants, "List tenants (a tenant token sees only its own)",
          response=responses.items(responses.TENANT)),
    Route("POST", "/tenants", create_tenant, "Create a tenant", body=TenantCreate, status=201, operator_only=True,
          response=responses.TENANT),
    Route("GET", "/tenants/{tenant_id}", get_tenant, "Get a tenant", response=responses.TENANT),
    Route("PATCH", "/tenants/{tenant_id}", patch_tenant, "Change a tenant; a plan change applies at once",
          body=TenantPatch, operator_only=True, response=responses.TENANT),
    Route("DELETE", "/tenants/{tenant_id}", delete_tenant, "Delete a tenant and its extensions", status=204,
          operator_only=True),
    Route("POST", "/tenants/{tenant_id}/tokens", create_tenant_token,
          "Create a tenant token (shown only now), optionally expiring", body=TokenCreate, optional_body=True,
          status=201, operator_only=True, response=responses.NEW_TOKEN),
    Route("GET", "/tenants/{tenant_id}/tokens", list_tenant_tokens, "A tenant's tokens with their last use",
          response=responses.items(responses.TOKEN)),
    Route("DELETE", "/tenants/{tenant_id}/tokens/{token_id}", revoke_tenant_token, "Revoke a token at once",
          status=204),
]
