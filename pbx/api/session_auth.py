"""The panel's session cookie as a way to authenticate, beside bearer tokens. A write made
with the cookie must also carry the session's CSRF token in X-CSRF-Token (a cross-site page
can make the browser send the cookie, never that header); a WebSocket opened with the cookie
must come from our own origin (browsers send cookies on cross-site WebSocket handshakes)."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from pbx.api.context import DATABASE, SESSIONS, SETTINGS
from pbx.domain.errors import Forbidden
from pbx.services.tokens import Principal
from pbx.users.sessions import csrf_matches

COOKIE = "pbx_session"
CSRF_HEADER = "X-CSRF-Token"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_CHECK_S = 10.0  # how soon a WebSocket learns that its session has ended


async def cookie_principal(request: web.Request, token: str) -> Principal | None:
    """The session's principal, or None when the cookie names no live session. Raises
    Forbidden for a write without the CSRF token or a WebSocket from another origin."""
    sessions = request.app[SESSIONS]
    async with request.app[DATABASE].read() as session:
        found = await sessions.authenticate(session, token)
    if found is None:
        return None
    if request.method in WRITES and not csrf_matches(token, request.headers.get(CSRF_HEADER)):
        raise Forbidden(f"a write signed in by cookie needs the session's {CSRF_HEADER} header")
    if request.headers.get("Upgrade", "").lower() == "websocket" and not same_origin(request):
        raise Forbidden("a WebSocket signed in by cookie must come from this server's own pages")
    if found.stale_last_seen:
        async with request.app[DATABASE].unit() as unit:
            await sessions.touch(unit.session, found.session.id)
    return found.principal


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: it could send any header, the cookie is its own
    hosts = {request.host, request.headers.get("X-Forwarded-Host", request.host)}
    return urlsplit(origin).netloc in hosts


def served_over_https(request: web.Request) -> bool:
    if request.app[SETTINGS].cookie_secure == "always" or request.secure:
        return True
    # Behind a TLS reverse proxy. Trusting a forged header only ever adds Secure.
    return (request.headers.get("X-Forwarded-Proto", "").lower() == "https"
            or "proto=https" in request.headers.get("Forwarded", "").lower())


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    lifetime = int(request.app[SESSIONS].policy.lifetime.total_seconds())
    response.set_cookie(COOKIE, token, max_age=lifetime, path="/", httponly=True, samesite="Lax",
                        secure=served_over_https(request))


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=served_over_https(request))


async def session_ended(request: web.Request, session_id: int) -> None:
    """Returns once the session is over (sign-out, a password reset, the user's deletion, its
    lifetime), so a WebSocket opened with it closes instead of streaming on. An open stream
    is use: it keeps the session from going idle."""
    sessions, database = request.app[SESSIONS], request.app[DATABASE]
    while True:
        await asyncio.sleep(SESSION_CHECK_S)
        async with database.read() as session:
            row = await sessions.still_open(session, session_id)
        if row is None:
            return
        if sessions.stale(row):
            async with database.unit() as unit:
                await sessions.touch(unit.session, session_id)
