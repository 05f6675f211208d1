from __future__ import annotations

from aiohttp import web

from pbx.api import responses
from pbx.api.context import DATABASE, VOICEMAIL, path_id, principal
from pbx.api.errors import json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route

BASE = "/tenants/{tenant_id}/extensions/{extension_id}/voicemail"


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "extension_id")


async def list_messages(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        messages = await request.app[VOICEMAIL].list(session, principal(request), *_ids(request))
    return json_response({"items": [
        {"id": m["row"].id, "caller": m["row"].caller, "created_at": timestamp(m["row"].created_at),
         "duration_ms": m["duration_ms"]} for m in messages]})


async def message_audio(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].read() as session:
        row = await request.app[VOICEMAIL].get(session, principal(request), *_ids(request),
                                               path_id(request, "message_id"))
    return web.FileResponse(request.app[VOICEMAIL].path(row), headers={"Content-Type": "audio/wav"})


async def delete_message(request: web.Request) -> web.Response:
    ids = (*_ids(request), path_id(request, "message_id"))
    async with request.app[DATABASE].unit() as unit:
        await request.app[VOICEMAIL].delete(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_messages, "Voicemail messages left for an extension",
          response=responses.items(responses.VOICEMAIL)),
    Route("GET", BASE + "/{message_id}/audio", message_audio, "A message's audio (audio/wav)",
          response=responses.AUDIO),
    Route("DELETE", BASE + "/{message_id}", delete_message, "Delete a message", status=204),
]
