"""Call recordings (contract: Calls and recordings) and the KVKK access log."""
from __future__ import annotations

import asyncio
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from pbx.api import responses
from pbx.api.agents import own_extension
from pbx.api.context import DATABASE, RECORDINGS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.calls.query import decode_cursor, parse_limit, parse_range
from pbx.recordings.service import ListQuery, parse_party

BASE = "/tenants/{tenant_id}/recordings"
ONE = BASE + "/{recording_id}"


class EraseBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    number: Annotated[str, StringConstraints(min_length=1, max_length=32)]


def list_query(params, own: str | None = None) -> ListQuery:
    """The call list's parsing (pbx/calls/query.py): the same errors for the same mistakes.
    own: an agent's extension, which narrows whatever else is asked."""
    start, end = parse_range(params.get("from"), params.get("to"))
    return ListQuery(start, end, parse_party(params.get("extension")), decode_cursor(params.get("cursor")),
                     parse_limit(params.get("limit")), own)


def present(item: dict) -> dict:
    row = item["row"]
    return {"id": row.id, "call_id": item["call_id"], "started_at": timestamp(row.started_at),
            "duration_s": row.duration_s, "caller": row.caller, "callee": row.callee,
            "size_bytes": row.size_bytes, "sha256": row.sha256, "expires_at": timestamp(row.expires_at)}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "recording_id")


async def list_recordings(request: web.Request) -> web.Response:
    query = list_query(request.query, own_extension(principal(request)))
    async with request.app[DATABASE].read() as session:
        items, after = await request.app[RECORDINGS].list(session, principal(request),
                                                          path_id(request, "tenant_id"), query)
    return json_response({"items": [present(i) for i in items], "next": after})


async def recording_audio(request: web.Request) -> web.StreamResponse:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        size, chunks = await request.app[RECORDINGS].open_audio(unit, principal(request), *ids,
                                                                own_extension(principal(request)))
    response = web.StreamResponse(headers={"Content-Type": "audio/wav", "Content-Length": str(size)})
    await response.prepare(request)
    sentinel = object()
    try:
        while (chunk := await asyncio.to_thread(next, chunks, sentinel)) is not sentinel:
            await response.write(chunk)
    finally:
        chunks.close()  # the archive file, also when the client went away mid-stream
    await response.write_eof()
    return response


async def delete_recording(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await request.app[RECORDINGS].delete(unit, principal(request), *ids)
    return web.Response(status=204)


async def recording_access_log(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        entries = await request.app[RECORDINGS].access_entries(session, principal(request), *_ids(request))
    return json_response({"items": [
        {"id": e.id, "action": e.action, "actor": e.actor, "at": timestamp(e.at), "hash": e.hash}
        for e in entries]})


async def list_destructions(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await request.app[RECORDINGS].destructions(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [
        {"id": r.id, "recording_id": r.recording_id or None, "file_id": r.file_id, "sha256": r.sha256,
         "size_bytes": r.size_bytes, "started_at": timestamp(r.started_at), "destroyed_at": timestamp(r.destroyed_at),
         "reason": r.reason, "actor": r.actor} for r in rows]})


async def verify_access_log(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        result = await request.app[RECORDINGS].verify(session, principal(request), path_id(request, "tenant_id"))
    return json_response(result)


async def erase_recordings(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = EraseBody.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        count = await request.app[RECORDINGS].erase(unit, principal(request), tenant_id, body.number)
    return json_response({"erased": count})


ROUTES = [
    Route("GET", BASE, list_recordings, "A tenant's call recordings, newest first (cursor pagination)",
          query=("from", "to", "extension", "cursor", "limit"), response=responses.items(responses.RECORDING, True)),
    Route("GET", BASE + "/access-log/verify", verify_access_log,
          "Check the tenant's recording access log chain (KVKK)", response=responses.CHAIN),
    Route("GET", BASE + "/destructions", list_destructions,
          "Destruction records, newest 1,000 (an operator also sees a deleted tenant's)",
          response=responses.items(responses.DESTRUCTION)),
    Route("POST", BASE + "/erase", erase_recordings,
          "Erase every recording with this party (E.164, national or an extension); logged", body=EraseBody,
          response=responses.ERASED),
    Route("GET", ONE + "/audio", recording_audio, "A recording's audio (audio/wav); the read is logged",
          response=responses.AUDIO),
    Route("DELETE", ONE, delete_recording, "Delete a recording; logged, with a destruction record", status=204),
    Route("GET", ONE + "/access-log", recording_access_log, "Who read or deleted a recording, and when",
          response=responses.items(responses.ACCESS_ENTRY)),
]
