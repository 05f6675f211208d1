"""SIP brute-force bans (operator only): see and lift bans, and the never-banned networks."""
from __future__ import annotations

import ipaddress
from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, Field, StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, SIP_BANS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import Body
from pbx.api.present import timestamp
from pbx.services.tenants import require_operator


def _network(value: str) -> str:
    """A CIDR or a single address, normalised (host bits cleared)."""
    return str(ipaddress.ip_network(value, strict=False))


Network = Annotated[str, StringConstraints(min_length=1, max_length=49), AfterValidator(_network)]


class Allowlist(Body):
    networks: Annotated[list[Network], Field(max_length=1000)]


def present(row) -> dict:
    return {"id": row.id, "address": row.address, "failures": row.failures,
            "banned_at": timestamp(row.banned_at), "expires_at": timestamp(row.expires_at)}


async def list_bans(request: web.Request) -> web.Response:
    require_operator(principal(request))
    bans = request.app[SIP_BANS]
    async with request.app[DATABASE].read() as session:
        rows = await bans.active(session)
    return json_response({"items": [present(r) for r in rows], "enforced": bans.enforcer.enforced})


async def lift_ban(request: web.Request) -> web.Response:
    require_operator(principal(request))
    async with request.app[DATABASE].unit() as unit:  # routing reads no bans
        await request.app[SIP_BANS].lift(unit, path_id(request, "ban_id"))
    return web.Response(status=204)


async def get_allowlist(request: web.Request) -> web.Response:
    require_operator(principal(request))
    return json_response({"networks": request.app[SIP_BANS].allowlist})


async def put_allowlist(request: web.Request) -> web.Response:
    require_operator(principal(request))
    body = Allowlist.model_validate(await json_body(request))
    networks = sorted(set(body.networks))
    async with request.app[DATABASE].unit() as unit:
        await request.app[SIP_BANS].replace_allowlist(unit, networks)
    return json_response({"networks": networks})


ROUTES = [
    Route("GET", "/sip-bans", list_bans, "Addresses banned for failed SIP authentication, now", operator_only=True,
          response=responses.SIP_BANS),
    Route("DELETE", "/sip-bans/{ban_id}", lift_ban, "Lift a SIP ban at once", status=204, operator_only=True),
    Route("GET", "/sip-bans/allowlist", get_allowlist, "Networks never banned", operator_only=True,
          response=responses.ALLOWLIST),
    Route("PUT", "/sip-bans/allowlist", put_allowlist, "Replace the networks never banned; bans inside are lifted",
          body=Allowlist, operator_only=True, response=responses.ALLOWLIST),
]
