"""Bearer tokens (operator or tenant) or the panel's session cookie (pbx/api/session_auth.py);
failed attempts throttled per source address; one access-log line per request naming the
token or user by id."""
from __future__ import annotations

import logging
import time

from aiohttp import web

from pbx.api.context import DATABASE, PRINCIPAL, THROTTLE
from pbx.api.errors import error_response
from pbx.api.session_auth import COOKIE, clear_session_cookie, cookie_principal
from pbx.domain.errors import Unauthorized
from pbx.billing import resellers
from pbx.services.tokens import authenticate, touch_last_use

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/health", "/"})  # "/": the panel's page
PANEL_FILES = "/panel/"  # the panel's own files (pbx/panel) are public; its data is not
SIGN_IN = ("POST", "/api/v1/session")  # checks its own password and throttles (pbx/api/session.py)
QUERY_TOKEN_SUFFIX = "/events/stream"

access_log = logging.getLogger("pbx.access")


@web.middleware
async def access_log_middleware(request: web.Request, handler):
    """method, path (never the query: a token may travel there), status, who, time.
    Outermost, so it sees the status the error middleware chose."""
    started, status = time.monotonic(), 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        principal = request.get(PRINCIPAL)
        who = "-" if principal is None else f"{principal.who} " + (
            "operator" if principal.is_operator else f"reseller:{principal.reseller_id}" if principal.reseller_id
            else f"tenant:{principal.tenant_id}")
        access_log.info("%s %s %s %s %s %.1fms", request.remote, request.method, request.path, status, who,
                        (time.monotonic() - started) * 1000)


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path in PUBLIC_PATHS or request.path.startswith(PANEL_FILES) or (request.method, request.path) == SIGN_IN:
        return await handler(request)
    throttle, address = request.app[THROTTLE], request.remote or "-"
    if (wait := throttle.retry_after(address)) is not None:
        response = error_response(429, "too_many_requests", "too many failed authentications; retry later")
        response.headers["Retry-After"] = str(wait)
        return response
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme and request.path.endswith(QUERY_TOKEN_SUFFIX) and request.query.get("token"):
        # Browsers cannot set headers on a WebSocket; the event stream takes ?token= too.
        scheme, token = "bearer", request.query["token"]
    if not scheme and COOKIE in request.cookies:  # a token, when one is sent, is what acts
        return await _with_cookie(request, handler, request.cookies[COOKIE])
    if scheme.lower() != "bearer" or not token.strip():
        throttle.failed(address)
        raise Unauthorized("send Authorization: Bearer <token>")
    async with request.app[DATABASE].read() as session:
        found = await authenticate(session, token.strip()) or await resellers.authenticate(session, token.strip())
    if found is None:
        throttle.failed(address)
        raise Unauthorized("unknown or expired token")
    if found.stale_last_use:
        async with request.app[DATABASE].unit() as unit:
            await touch_last_use(unit.session, found.principal.token_id)
    request[PRINCIPAL] = found.principal
    return await handler(request)


async def _with_cookie(request: web.Request, handler, token: str):
    found = await cookie_principal(request, token)
    if found is None:
        request.app[THROTTLE].failed(request.remote or "-")
        response = error_response(401, "unauthorized", "the session has ended; sign in again")
        clear_session_cookie(request, response)  # the browser stops sending what names nothing
        return response
    request[PRINCIPAL] = found
    return await handler(request)
