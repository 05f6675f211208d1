"""Users and sessions as logic: e-mail keys, CSRF tokens, sign-in throttling on a fake
clock, argon2id hashes, and session expiry on a temporary SQLite database."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from pbx.api.throttle import AuthThrottle, SignInThrottle
from pbx.db.unit import Database
from pbx.db.user_tables import User, WebSession
from pbx.users.passwords import Passwords
from pbx.users.service import email_key
from pbx.users.sessions import SESSIONS_PER_USER, SessionPolicy, Sessions, csrf_matches, csrf_token
from tests.support.database import run_on_fresh_database

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # argon2id still, cheap for tests


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_email_keys_fold_ascii_case_only():
    assert email_key(" Ayse.Yilmaz@Ornek.COM.tr ") == "ayse.yilmaz@ornek.com.tr"
    assert email_key("İlker@ornek.com") == "İlker@ornek.com"  # not 'i' + a combining dot nobody typed


def test_csrf_token_is_the_sessions_own_and_compared_safely():
    token = "abc"
    assert csrf_matches(token, csrf_token(token))
    assert csrf_token(token) != csrf_token("abd") and token not in csrf_token(token)
    for sent in (None, "", csrf_token("abd"), "ş" * 64, "\ud800"):
        assert not csrf_matches(token, sent)


def test_sign_in_throttle_counts_per_account_and_per_address():
    clock = Clock()
    throttle = SignInThrottle(AuthThrottle(4, 60, clock), AuthThrottle(2, 300, clock))
    throttle.failed("10.0.0.1", "a@x")
    assert throttle.retry_after("10.0.0.9", "a@x") is None
    throttle.failed("10.0.0.2", "a@x")
    assert throttle.retry_after("10.0.0.9", "a@x") == 300  # spread over addresses, the account still waits
    assert throttle.retry_after("10.0.0.1", "b@x") is None
    for account in ("c@x", "d@x", "e@x"):
        throttle.failed("10.0.0.1", account)
    assert throttle.retry_after("10.0.0.1", "f@x") == 60  # one address guessing many accounts waits too
    clock.now += 300
    assert throttle.retry_after("10.0.0.1", "a@x") is None


def test_passwords_are_argon2id_and_checked_without_raising():
    async def main():
        passwords = Passwords(FAST)
        stored = await passwords.hash("Şifre-güçlü-2026")
        assert stored.startswith("$argon2id$") and "Şifre" not in stored
        assert await passwords.verify(stored, "Şifre-güçlü-2026")
        assert not await passwords.verify(stored, "sifre-guclu-2026")
        assert not await passwords.verify(None, "anything")  # no such user: a dummy hash is checked
        assert not await passwords.verify("not a hash", "anything")
        assert Passwords().needs_rehash(stored) and not passwords.needs_rehash(stored)

    asyncio.run(main())


async def _sessions_of_operators(database: Database, *emails: str) -> Sessions:
    """Sessions (12 h lifetime, 30 min idle) over operators with these e-mails, all signing
    in with "doğru-parola"."""
    passwords = Passwords(FAST)
    async with database.unit() as unit:
        for email in emails:
            unit.session.add(User(email=email, name="Op", role="operator",
                                  password_hash=await passwords.hash("doğru-parola")))
    return Sessions(database, passwords, SessionPolicy(timedelta(hours=12), timedelta(minutes=30)))


def test_sessions_end_when_idle_at_their_lifetime_and_when_replaced(tmp_path):
    async def main(database: Database):
        sessions = await _sessions_of_operators(database, "op@x.com")
        assert await sessions.sign_in("OP@x.com", "yanlış") is None
        first = await sessions.sign_in("OP@x.com", "doğru-parola")
        async with database.read() as session:
            found = await sessions.authenticate(session, first.token)
        assert found.principal.is_operator and found.principal.user_id == first.user.id
        assert found.principal.session_id == first.session.id
        await _age(database, first.session.id, last_seen_at=timedelta(minutes=31))
        assert await _principal(database, sessions, first.token) is None  # idle too long
        second = await sessions.sign_in("op@x.com", "doğru-parola")
        assert await _count(database) == 1  # the idle one went at this sign-in
        await _age(database, second.session.id, expires_at=timedelta(seconds=1))
        assert await _principal(database, sessions, second.token) is None  # past its lifetime
        third = await sessions.sign_in("op@x.com", "doğru-parola")
        fourth = await sessions.sign_in("op@x.com", "doğru-parola", replacing=third.token)
        assert await _principal(database, sessions, third.token) is None
        assert await _principal(database, sessions, fourth.token) is not None
        assert await _count(database) == 1
        signed = [await sessions.sign_in("op@x.com", "doğru-parola") for _ in range(SESSIONS_PER_USER + 2)]
        assert await _count(database) == SESSIONS_PER_USER  # the oldest went
        assert await _principal(database, sessions, signed[0].token) is None
        assert await _principal(database, sessions, signed[-1].token) is not None

    run_on_fresh_database(tmp_path, main)


def test_a_sign_in_clears_only_its_own_users_ended_sessions(tmp_path):
    """The sign-in path never scans every user's sessions: each DELETE it issues on
    web_sessions is narrowed to the user (or to the replaced cookie's token), and another
    user's ended session stays, opening nothing, until that user signs in again."""
    deletes: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("DELETE FROM WEB_SESSIONS"):
            deletes.append(statement)

    async def main(database: Database):
        sessions = await _sessions_of_operators(database, "a@x.com", "b@x.com")
        idle_b = await sessions.sign_in("b@x.com", "doğru-parola")
        lapsed_b = await sessions.sign_in("b@x.com", "doğru-parola")
        await _age(database, idle_b.session.id, last_seen_at=timedelta(minutes=31))
        await _age(database, lapsed_b.session.id, expires_at=timedelta(seconds=1))
        idle_a = await sessions.sign_in("a@x.com", "doğru-parola")
        await _age(database, idle_a.session.id, last_seen_at=timedelta(minutes=31))
        event.listen(Engine, "before_cursor_execute", seen)
        try:
            await sessions.sign_in("a@x.com", "doğru-parola", replacing=idle_a.token)
        finally:
            event.remove(Engine, "before_cursor_execute", seen)
        assert deletes and all("user_id = ?" in s or "token_hash = ?" in s for s in deletes), deletes
        assert await _count(database) == 3  # a's idle one went, b's two ended ones stay
        assert await _principal(database, sessions, idle_b.token) is None
        assert await _principal(database, sessions, lapsed_b.token) is None
        await sessions.sign_in("b@x.com", "doğru-parola")
        assert await _count(database) == 2  # b's went at b's sign-in

    run_on_fresh_database(tmp_path, main)


async def _age(database: Database, session_id: int, **ago: timedelta) -> None:
    now = datetime.now(timezone.utc)
    async with database.unit() as unit:
        await unit.session.execute(update(WebSession).where(WebSession.id == session_id)
                                   .values({name: now - delta for name, delta in ago.items()}))


async def _principal(database: Database, sessions: Sessions, token: str):
    async with database.read() as session:
        return await sessions.authenticate(session, token)


async def _count(database: Database) -> int:
    from sqlalchemy import func, select

    async with database.read() as session:
        return await session.scalar(select(func.count(WebSession.id)))


def test_every_route_open_to_agents_exists_and_says_how_it_is_narrowed():
    """A renamed route must not silently close (or a typo open) what agents reach."""
    from pbx.api.agents import AGENT_ROUTES, ANY, OWN_EXTENSION, SELF
    from pbx.api.app import all_routes

    served = {(route.method, "/api/v1" + route.path) for route in all_routes()}
    assert set(AGENT_ROUTES) <= served
    assert set(AGENT_ROUTES.values()) <= {ANY, OWN_EXTENSION, SELF}
    assert not [key for key, rule in AGENT_ROUTES.items() if key[0] != "GET" and rule == ANY
                and key != ("DELETE", "/api/v1/session")]  # no write an agent may make anywhere


def test_the_recordings_access_log_names_a_panel_user_by_id():
    from pbx.recordings.service import actor
    from pbx.services.tokens import Principal

    assert actor(Principal(3, user_id=9, role="tenant_admin", session_id=4)) == "user:9"
    assert actor(Principal(3, token_id=5)) == "token:5" and actor(Principal(None, token_id=1)) == "operator:1"


def test_an_agent_reaches_only_the_listed_routes_and_another_tenants_paths_are_404():
    """Deny by default, through the middleware itself: every served route an agent is not
    listed for is 403 (404 under another tenant), each listed one reaches its handler, and
    for its own extension and user only."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from pbx.api.agents import AGENT_ROUTES, OWN_EXTENSION, SELF, agent_scope_middleware
    from pbx.api.app import all_routes
    from pbx.api.context import PRINCIPAL
    from pbx.api.errors import error_middleware
    from pbx.services.tokens import Principal

    agent = Principal(3, user_id=9, role="agent", extension="101", extension_id=7, session_id=4)

    @web.middleware
    async def as_agent(request, handler):
        request[PRINCIPAL] = agent
        return await handler(request)

    async def reached(_request):
        return web.json_response({"reached": True})

    def path(route, tenant_id=3, **ids) -> str:
        values = {"tenant_id": tenant_id, "extension_id": 7, "user_id": 9, **ids}
        return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), route.path)

    async def statuses():
        app = web.Application(middlewares=[error_middleware, as_agent, agent_scope_middleware])
        for route in all_routes():
            app.router.add_route(route.method, "/api/v1" + route.path, reached)
        async with TestClient(TestServer(app)) as client:
            async def status(method, url):
                async with client.request(method, url, json={}) as response:
                    return response.status
            own = {(r.method, r.path): await status(r.method, path(r)) for r in all_routes()}
            other_tenant = {(r.method, r.path): await status(r.method, path(r, tenant_id=4))
                            for r in all_routes() if "{tenant_id}" in r.path}
            other_ids = {(r.method, r.path): await status(r.method, path(r, extension_id=8, user_id=10))
                         for r in all_routes() if ("/api/v1" + r.path) in {k[1] for k in AGENT_ROUTES}}
        return own, other_tenant, other_ids

    own, other_tenant, other_ids = asyncio.run(statuses())
    listed = {(method, path.removeprefix("/api/v1")) for method, path in AGENT_ROUTES}
    assert {key for key, code in own.items() if code == 200} == listed, own
    assert {code for key, code in own.items() if key not in listed} == {403}, own
    assert set(other_tenant.values()) == {404}, other_tenant
    narrowed = {(m, p.removeprefix("/api/v1")) for (m, p), rule in AGENT_ROUTES.items()
                if (rule == OWN_EXTENSION and "{extension_id}" in p) or rule == SELF}
    assert narrowed and {key for key, code in other_ids.items() if code == 404} == narrowed, other_ids
