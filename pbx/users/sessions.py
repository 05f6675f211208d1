"""Server-side web sessions. The cookie carries a random token; the table keeps only its
SHA-256 digest, so neither a database copy nor a log line can sign anyone in. A session
ends at its absolute lifetime, after its idle time, at sign-out, or when its row goes
(a password reset, the user's or tenant's deletion). Every request rebuilds the principal
from the user's row, so a role or extension change applies to the next request."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension
from pbx.db.unit import Database
from pbx.db.user_tables import User, WebSession
from pbx.services.tokens import Principal, digest
from pbx.users.passwords import Passwords
from pbx.users.service import email_key

LAST_SEEN_PRECISION = timedelta(minutes=1)  # as tokens' last use: not a write per request
SESSIONS_PER_USER = 20  # browsers and devices at once; signing in again and again never grows the table


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle: timedelta


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes into the cookie, and nowhere else
    session: WebSession
    user: User
    extension: str | None


@dataclass(frozen=True)
class Found:
    principal: Principal
    session: WebSession
    user: User
    stale_last_seen: bool


def principal_of(user: User, extension: str | None, web_session: WebSession) -> Principal:
    """Who acts with this session: rebuilt from the user's row (and its extension's number)."""
    return Principal(user.tenant_id, user_id=user.id, role=user.role, extension=extension,
                     extension_id=user.extension_id if extension else None, session_id=web_session.id)


def csrf_token(token: str) -> str:
    """The CSRF token of a session, derived from its cookie token: a page of ours reads it
    from the sign-in answer (or GET /session), a cross-site page can read neither."""
    return hashlib.sha256(b"pbx-csrf\0" + token.encode()).hexdigest()


def csrf_matches(token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(token).encode(), sent.encode("utf-8", "replace"))


class Sessions:
    def __init__(self, database: Database, passwords: Passwords, policy: SessionPolicy):
        self.database = database
        self.passwords = passwords
        self.policy = policy

    async def sign_in(self, email: str, password: str, replacing: str | None = None) -> SignedIn | None:
        """A new session for the right password, or None. `replacing`: the cookie the browser
        still sent; its session ends, so a sign-in never keeps a token someone planted."""
        async with self.database.read() as session:
            user = await session.scalar(select(User).where(User.email == email_key(email)))
        if not await self.passwords.verify(user.password_hash if user else None, password) or user is None:
            return None
        rehashed = await self.passwords.hash(password) if self.passwords.needs_rehash(user.password_hash) else None
        token, now = secrets.token_urlsafe(32), datetime.now(timezone.utc)
        async with self.database.unit() as unit:
            current = await unit.session.get(User, user.id)
            if current is None or current.password_hash != user.password_hash:
                return None  # deleted or reset meanwhile: the password checked is no longer theirs
            await self._forget_replaced(unit.session, replacing)
            if rehashed:
                current.password_hash = rehashed
            row = WebSession(token_hash=digest(token), user_id=user.id, created_at=now,
                             expires_at=now + self.policy.lifetime, last_seen_at=now)
            unit.session.add(row)
            await unit.session.flush()
            await self._forget_ended(unit.session, user.id, now)
            await _keep_newest(unit.session, user.id)
            extension = await unit.session.get(Extension, current.extension_id) if current.extension_id else None
        return SignedIn(token, row, current, extension.number if extension else None)

    async def authenticate(self, session: AsyncSession, token: str) -> Found | None:
        now = datetime.now(timezone.utc)
        found = (await session.execute(
            select(WebSession, User, Extension.number).join(User, User.id == WebSession.user_id)
            .outerjoin(Extension, Extension.id == User.extension_id)
            .where(WebSession.token_hash == digest(token)))).first()
        if found is None or not self._alive(found[0], now):
            return None
        row, user, number = found
        if (user.role == "operator") != (user.tenant_id is None):
            return None  # never a tenant user acting as an operator, whatever a row says
        return Found(principal_of(user, number, row), row, user, self.stale(row))

    async def still_open(self, session: AsyncSession, session_id: int) -> WebSession | None:
        row = await session.get(WebSession, session_id)
        return row if row is not None and self._alive(row, datetime.now(timezone.utc)) else None

    def stale(self, row: WebSession) -> bool:
        return datetime.now(timezone.utc) - row.last_seen_at >= LAST_SEEN_PRECISION

    async def touch(self, session: AsyncSession, session_id: int) -> None:
        await session.execute(update(WebSession).where(WebSession.id == session_id)
                              .values(last_seen_at=datetime.now(timezone.utc)))

    async def sign_out(self, session: AsyncSession, session_id: int) -> None:
        await session.execute(delete(WebSession).where(WebSession.id == session_id))

    def _alive(self, row: WebSession, now: datetime) -> bool:
        return row.expires_at > now and row.last_seen_at + self.policy.idle > now

    async def _forget_replaced(self, session: AsyncSession, replacing: str | None) -> None:
        if replacing:  # whoever's it was: the browser is done with it
            await session.execute(delete(WebSession).where(WebSession.token_hash == digest(replacing)))

    async def _forget_ended(self, session: AsyncSession, user_id: int, now: datetime) -> None:
        """The user's own ended sessions go at their sign-in: a look-up by user_id over at most
        SESSIONS_PER_USER rows, not a scan of every user's sessions on the sign-in path. Another
        user's ended rows wait for their next sign-in (or deletion); they open nothing meanwhile
        (authenticate checks both ends) and are at most SESSIONS_PER_USER per user, so no sweeper."""
        ended = or_(WebSession.expires_at <= now, WebSession.last_seen_at <= now - self.policy.idle)
        await session.execute(delete(WebSession).where(WebSession.user_id == user_id, ended))


async def _keep_newest(session: AsyncSession, user_id: int) -> None:
    newest = (select(WebSession.id).where(WebSession.user_id == user_id)
              .order_by(WebSession.id.desc()).limit(SESSIONS_PER_USER))
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id, WebSession.id.not_in(newest)))
