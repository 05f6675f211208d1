"""Bearer tokens: operator (platform staff) or tenant."""
from __future__ import annotations

from aiohttp import web

from pbx.api.context import DATABASE, PRINCIPAL
from pbx.domain.errors import Unauthorized
from pbx.services.tokens import authenticate

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/health"})
QUERY_TOKEN_SUFFIX = "/events/stream"


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme and request.path.endswith(QUERY_TOKEN_SUFFIX) and request.query.get("token"):
        # Browsers cannot set headers on a WebSocket; the event stream takes ?token= too.
        scheme, token = "bearer", request.query["token"]
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    async with request.app[DATABASE].read() as session:
        principal = await authenticate(session, token.strip())
    if principal is None:
        raise Unauthorized("unknown token")
    request[PRINCIPAL] = principal
    return await handler(request)
