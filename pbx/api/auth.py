"""Bearer tokens: operator (platform staff) or tenant."""
from __future__ import annotations

from aiohttp import web

from pbx.api.context import DATABASE, PRINCIPAL
from pbx.domain.errors import Unauthorized
from pbx.services.tokens import authenticate

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/health"})


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    async with request.app[DATABASE].read() as session:
        principal = await authenticate(session, token.strip())
    if principal is None:
        raise Unauthorized("unknown token")
    request[PRINCIPAL] = principal
    return await handler(request)
