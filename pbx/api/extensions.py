from __future__ import annotations

from aiohttp import web

from pbx.api import present
from pbx.api import responses
from pbx.api.context import DATABASE, EXTENSIONS, SETTINGS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import ExtensionCreate, ExtensionPatch, changes

BASE = "/tenants/{tenant_id}/extensions"


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "extension_id")


def _out(request: web.Request, row, password: str | None = None) -> dict:
    settings = request.app[SETTINGS]
    return present.extension(row, settings.sip_server, password, settings.sip_transports)


async def list_extensions(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await request.app[EXTENSIONS].list(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [_out(request, r) for r in rows]})


async def create_extension(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = ExtensionCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row, password = await request.app[EXTENSIONS].create(unit, principal(request), tenant_id, body.model_dump())
    return json_response(_out(request, row, password), status=201)


async def get_extension(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await request.app[EXTENSIONS].get(session, principal(request), *_ids(request))
    return json_response(_out(request, row))


async def patch_extension(request: web.Request) -> web.Response:
    ids = _ids(request)
    body = ExtensionPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[EXTENSIONS].update(unit, principal(request), *ids, changes(body))
    return json_response(_out(request, row))


async def delete_extension(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await request.app[EXTENSIONS].delete(unit, principal(request), *ids)
    return web.Response(status=204)


async def reset_password(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        row, password = await request.app[EXTENSIONS].reset_password(unit, principal(request), *ids)
    return json_response(_out(request, row, password))


async def extension_status(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        status = await request.app[EXTENSIONS].status(session, principal(request), *_ids(request))
    return json_response(status)


ROUTES = [
    Route("GET", BASE, list_extensions, "List a tenant's extensions",
          response=responses.items(responses.EXTENSION)),
    Route("POST", BASE, create_extension, "Create an extension; SIP-registrable as soon as this returns",
          body=ExtensionCreate, status=201, response=responses.EXTENSION),
    Route("GET", BASE + "/{extension_id}", get_extension, "Get an extension (the SIP password is not shown)",
          response=responses.EXTENSION),
    Route("PATCH", BASE + "/{extension_id}", patch_extension, "Change only the fields sent", body=ExtensionPatch,
          response=responses.EXTENSION),
    Route("DELETE", BASE + "/{extension_id}", delete_extension,
          "Delete an extension; its SIP account stops working at once", status=204),
    Route("POST", BASE + "/{extension_id}/sip-password", reset_password,
          "Issue a new SIP password (shown once); the phone must re-register",
          response=responses.EXTENSION),
    Route("GET", BASE + "/{extension_id}/status", extension_status, "Registration status, as Asterisk sees it now",
          response=responses.EXTENSION_STATUS),
]
