"""Users (contract: "People and sign-in"): an operator manages all; a tenant admin (or the
tenant's token) its own tenant's admins and agents; another tenant's user is 404."""
from __future__ import annotations

from aiohttp import web

from pbx.api import user_present
from pbx.api.context import DATABASE, USERS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.responses import items
from pbx.api.routes import Route
from pbx.api.schemas import changes
from pbx.api.user_schemas import UserCreate, UserPatch
from pbx.db.base import MAX_ID
from pbx.domain.errors import Invalid


def _tenant_filter(request: web.Request) -> int | None:
    raw = request.query.get("tenant_id")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID):
        raise Invalid("tenant_id: a tenant's id, a positive integer")
    return int(raw)


async def create_user(request: web.Request) -> web.Response:
    users = request.app[USERS]
    fields = await users.hashed(UserCreate.model_validate(await json_body(request)).model_dump())
    async with request.app[DATABASE].unit() as unit:
        row, extension = await users.create(unit, principal(request), fields)
    return json_response(user_present.user(row, extension), status=201)


async def list_users(request: web.Request) -> web.Response:
    tenant_id = _tenant_filter(request)
    async with request.app[DATABASE].read() as session:
        rows = await request.app[USERS].list(session, principal(request), tenant_id)
    return json_response({"items": [user_present.user(*row) for row in rows]})


async def get_user(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await request.app[USERS].get(session, principal(request), path_id(request, "user_id"))
    return json_response(user_present.user(*row))


async def patch_user(request: web.Request) -> web.Response:
    users, user_id = request.app[USERS], path_id(request, "user_id")
    fields = await users.hashed(changes(UserPatch.model_validate(await json_body(request))))
    async with request.app[DATABASE].unit() as unit:
        row = await users.update(unit, principal(request), user_id, fields)
    return json_response(user_present.user(*row))


async def delete_user(request: web.Request) -> web.Response:
    user_id = path_id(request, "user_id")
    async with request.app[DATABASE].unit() as unit:
        await request.app[USERS].delete(unit, principal(request), user_id)
    return web.Response(status=204)


ONE = "/users/{user_id}"
ROUTES = [
    Route("POST", "/users", create_user, "Create a user (an operator: anyone; a tenant: its admins and agents, "
          "an agent tied to one of its extensions)", body=UserCreate, status=201, response=user_present.USER,
          errors=(("404", "not_found: no such tenant_id, or another tenant's"),)),
    Route("GET", "/users", list_users, "List users (a tenant sees its own; an operator all, or ?tenant_id=)",
          query=("tenant_id",), response=items(user_present.USER),
          errors=(("404", "not_found: no such tenant_id, or another tenant's"),)),
    Route("GET", ONE, get_user, "Get a user", response=user_present.USER),
    Route("PATCH", ONE, patch_user, "Change a user; a new password ends the user's other sessions "
          "(another tenant admin's password: operators only)", body=UserPatch, response=user_present.USER),
    Route("DELETE", ONE, delete_user, "Delete a user; its sessions end at once", status=204),
]
