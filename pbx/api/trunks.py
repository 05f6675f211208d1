from __future__ import annotations

import ipaddress
from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import Name, changes
from pbx.ops.trunk_calls import NO_CALLS, WINDOW, trunk_figures
from pbx.services import trunks


def _address(value: str) -> str:
    """An IP address or CIDR, normalised; never free text that could reach pjsip."""
    return str(ipaddress.ip_network(value, strict=False))


Host = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[?[0-9A-Fa-f:.]+\]?$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Match = Annotated[list[Annotated[str, StringConstraints(max_length=64), AfterValidator(_address)]],
                  Field(min_length=1, max_length=32)]


class TrunkCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name
    host: Host
    port: Port = 5060
    match: Match
    default_outbound: bool = False


class TrunkPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name = None
    host: Host = None
    port: Port = None
    match: Match = None
    default_outbound: bool = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "host": row.host, "port": row.port, "match": row.match,
            "default_outbound": row.default_outbound}


async def list_trunks(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await trunks.list_trunks(session, principal(request))
    return json_response({"items": [present(r) for r in rows]})


async def create_trunk(request: web.Request) -> web.Response:
    body = TrunkCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await trunks.create_trunk(unit, principal(request), body.model_dump())
    return json_response(present(row), status=201)


async def get_trunk(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await trunks.get_trunk(session, principal(request), path_id(request, "trunk_id"))
    return json_response(present(row))


async def patch_trunk(request: web.Request) -> web.Response:
    trunk_id = path_id(request, "trunk_id")
    body = TrunkPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await trunks.update_trunk(unit, principal(request), trunk_id, changes(body))
    return json_response(present(row))


async def delete_trunk(request: web.Request) -> web.Response:
    trunk_id = path_id(request, "trunk_id")
    async with request.app[DATABASE].unit() as unit:
        await trunks.delete_trunk(unit, principal(request), trunk_id)
    return web.Response(status=204)


async def get_trunk_figures(request: web.Request) -> web.Response:
    """What /metrics exposes per trunk, as JSON for the panel (the last hour's calls)."""
    trunk_id = path_id(request, "trunk_id")
    async with request.app[DATABASE].read() as session:
        await trunks.get_trunk(session, principal(request), trunk_id)
        figures = (await trunk_figures(session, trunk_id=trunk_id)).get(trunk_id, NO_CALLS)
    return json_response({"window_s": int(WINDOW.total_seconds()), **figures})


ROUTES = [
    Route("GET", "/trunks", list_trunks, "List trunks", operator_only=True,
          response=responses.items(responses.TRUNK)),
    Route("POST", "/trunks", create_trunk, "Define a carrier; live at once", body=TrunkCreate, status=201,
          operator_only=True, response=responses.TRUNK),
    Route("GET", "/trunks/{trunk_id}", get_trunk, "Get a trunk", operator_only=True, response=responses.TRUNK),
    Route("PATCH", "/trunks/{trunk_id}", patch_trunk, "Change a trunk", body=TrunkPatch, operator_only=True,
          response=responses.TRUNK),
    Route("DELETE", "/trunks/{trunk_id}", delete_trunk, "Remove a trunk", status=204, operator_only=True),
    Route("GET", "/trunks/{trunk_id}/figures", get_trunk_figures,
          "The trunk's calls over the last hour: count, answered share, setup failures, mean jitter and loss",
          operator_only=True, response=responses.TRUNK_FIGURES),
]
