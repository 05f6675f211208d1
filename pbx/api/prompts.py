from __future__ import annotations

from aiohttp import web

from pbx.api import present, responses
from pbx.api.context import DATABASE, PROMPTS, SETTINGS, path_id, principal
from pbx.api.errors import json_response
from pbx.api.routes import Route
from pbx.api.uploads import receive_prompt_upload
from pbx.services.tenants import visible_tenant

BASE = "/tenants/{tenant_id}/prompts"


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "prompt_id")


async def list_prompts(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await request.app[PROMPTS].list(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present.prompt(r) for r in rows]})


async def create_prompt(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    service = request.app[PROMPTS]
    async with request.app[DATABASE].read() as session:  # before any byte is spooled
        await visible_tenant(session, principal(request), tenant_id)
    name, upload = await receive_prompt_upload(
        request, service.store.incoming_dir(), request.app[SETTINGS].prompt_max_bytes
    )
    try:
        row = await service.create(request.app[DATABASE], principal(request), tenant_id, name, upload)
    finally:
        upload.unlink(missing_ok=True)
    return json_response(present.prompt(row), status=201)


async def get_prompt(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await request.app[PROMPTS].get(session, principal(request), *_ids(request))
    return json_response(present.prompt(row))


async def prompt_audio(request: web.Request) -> web.StreamResponse:
    """What callers hear: the 8 kHz file, or with ?rate=16000 the wideband one."""
    async with request.app[DATABASE].read() as session:
        row = await request.app[PROMPTS].get(session, principal(request), *_ids(request))
    path = request.app[PROMPTS].audio_path(row, wideband=request.query.get("rate") == "16000")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def delete_prompt(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await request.app[PROMPTS].delete(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_prompts, "List a tenant's prompts", response=responses.items(responses.PROMPT)),
    Route("POST", BASE, create_prompt, "Upload an MP3 or WAV prompt (multipart: file, name)", status=201,
          form=True, response=responses.PROMPT),
    Route("GET", BASE + "/{prompt_id}", get_prompt, "Get a prompt", response=responses.PROMPT),
    Route("GET", BASE + "/{prompt_id}/audio", prompt_audio, "The prompt as callers hear it (audio/wav)",
          response=responses.AUDIO),
    Route("DELETE", BASE + "/{prompt_id}", delete_prompt, "Delete a prompt that nothing uses", status=204),
]
