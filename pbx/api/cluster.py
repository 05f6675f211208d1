"""Cluster membership (operator only): the nodes Kamailio offers calls to, and drain/undrain/
add/remove of one (pbx/cluster/membership.py)."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from pbx.api import responses
from pbx.api.context import CLUSTER, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import Body
from pbx.services.tenants import require_operator

# sip:<host or address>:<port>, nothing else: it goes to kamcmd as one argument.
NodeUri = Annotated[str, StringConstraints(pattern=r"^sip:[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$", max_length=264)]


class NodeBody(Body):
    uri: NodeUri


async def list_nodes(request: web.Request) -> web.Response:
    require_operator(principal(request))
    return json_response({"items": await request.app[CLUSTER].nodes()})


async def _uri(request: web.Request) -> str:
    require_operator(principal(request))
    return NodeBody.model_validate(await json_body(request)).uri


async def add_node(request: web.Request) -> web.Response:
    return json_response(await request.app[CLUSTER].add(await _uri(request)), status=201)


async def drain_node(request: web.Request) -> web.Response:
    return json_response(await request.app[CLUSTER].set_state(await _uri(request), drained=True))


async def undrain_node(request: web.Request) -> web.Response:
    return json_response(await request.app[CLUSTER].set_state(await _uri(request), drained=False))


async def remove_node(request: web.Request) -> web.Response:
    await request.app[CLUSTER].remove(await _uri(request))
    return web.Response(status=204)


_NOT_A_CLUSTER = (("404", "not_found: not part of a cluster, or no such node"),
                  ("503", "proxy_unavailable: Kamailio does not answer on its control socket"))
ROUTES = [
    Route("GET", "/cluster/nodes", list_nodes, "The cluster's nodes as Kamailio's dispatcher sees them",
          operator_only=True, response=responses.CLUSTER_NODES, errors=_NOT_A_CLUSTER),
    Route("POST", "/cluster/nodes", add_node, "Offer calls to a node (once its probes answer)", body=NodeBody,
          status=201, operator_only=True, response=responses.CLUSTER_NODE,
          errors=(*_NOT_A_CLUSTER, ("409", "conflict: the node is already a member"))),
    Route("POST", "/cluster/nodes/drain", drain_node, "No new calls or registrations to a node", body=NodeBody,
          operator_only=True, response=responses.CLUSTER_NODE, errors=_NOT_A_CLUSTER),
    Route("POST", "/cluster/nodes/undrain", undrain_node, "A drained node takes new calls again", body=NodeBody,
          operator_only=True, response=responses.CLUSTER_NODE, errors=_NOT_A_CLUSTER),
    Route("POST", "/cluster/nodes/remove", remove_node, "Take a node out of the cluster", body=NodeBody,
          status=204, operator_only=True, errors=_NOT_A_CLUSTER),
]
