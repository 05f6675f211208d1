"""POST /session signs in (a cookie, and the CSRF token writes need), GET /session says who
is asking, DELETE /session signs out (the row goes: the cookie names nothing any more).
A wrong password is 401; failures count per address and per account (pbx/api/throttle.py)."""
from __future__ import annotations

from aiohttp import web

from pbx.api import user_present
from pbx.api.context import DATABASE, SESSIONS, SIGN_IN_THROTTLE, principal
from pbx.api.errors import error_response, json_body, json_response
from pbx.api.routes import Route
from pbx.api.session_auth import COOKIE, clear_session_cookie, set_session_cookie
from pbx.api.user_schemas import SignIn
from pbx.db.user_tables import User, WebSession
from pbx.domain.errors import UnsupportedMedia
from pbx.users.service import email_key
from pbx.users.sessions import csrf_token, principal_of


def _throttled(request: web.Request, account: str) -> web.Response | None:
    """Checked before the password, so a throttled guess learns nothing, even a right one."""
    wait = request.app[SIGN_IN_THROTTLE].retry_after(request.remote or "-", account)
    if wait is None:
        return None
    response = error_response(429, "too_many_requests", "too many failed sign-ins; retry later")
    response.headers["Retry-After"] = str(wait)
    return response


async def sign_in(request: web.Request) -> web.Response:
    # JSON only: an HTML form on another site cannot send it, so it cannot sign a victim in.
    if request.content_type != "application/json":
        raise UnsupportedMedia("send the sign-in as application/json")
    body = SignIn.model_validate(await json_body(request))
    account = email_key(body.email)
    if (refused := _throttled(request, account)) is not None:
        return refused
    signed = await request.app[SESSIONS].sign_in(body.email, body.password, request.cookies.get(COOKIE))
    if signed is None:
        request.app[SIGN_IN_THROTTLE].failed(request.remote or "-", account)
        return error_response(401, "unauthorized", "wrong e-mail address or password")
    who = principal_of(signed.user, signed.extension, signed.session)
    response = json_response(user_present.session(who, signed.user, signed.session, csrf_token(signed.token)))
    set_session_cookie(request, response, signed.token)
    return response


async def who_am_i(request: web.Request) -> web.Response:
    me = principal(request)
    if me.session_id is None:
        return json_response(user_present.session(me, None, None, None))
    async with request.app[DATABASE].read() as session:
        row, web_session = await session.get(User, me.user_id), await session.get(WebSession, me.session_id)
    return json_response(user_present.session(me, row, web_session, csrf_token(request.cookies[COOKIE])))


async def sign_out(request: web.Request) -> web.Response:
    """With a token there is no session to end: nothing changes."""
    me = principal(request)
    response = web.Response(status=204)
    if me.session_id is not None:
        async with request.app[DATABASE].unit() as unit:
            await request.app[SESSIONS].sign_out(unit.session, me.session_id)
        clear_session_cookie(request, response)
    return response


ROUTES = [
    Route("POST", "/session", sign_in, "Sign in: sets the HttpOnly session cookie; answers the CSRF token "
          "that every write made with the cookie must send as X-CSRF-Token", body=SignIn, public=True,
          response=user_present.SESSION,
          errors=(("401", "unauthorized: wrong e-mail address or password"),
                  ("415", "unsupported_media: the body is not application/json"),
                  ("429", "too_many_requests: too many failed sign-ins from this address or for this account"))),
    Route("GET", "/session", who_am_i, "Who is asking: user, role, tenant, extension (and the CSRF token)",
          response=user_present.SESSION),
    Route("DELETE", "/session", sign_out, "Sign out: the session ends on the server at once", status=204),
]
