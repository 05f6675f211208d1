"""API tokens: random, shown once, stored as SHA-256 digests; listed with their last
use, revoked by id, optionally expiring."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import ApiToken
from pbx.domain.errors import NotFound

# last_used_at is written at most this often per token: a write per request would
# queue every read behind SQLite's single writer.
LAST_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    tenant_id: int | None  # None = operator
    token_id: int | None = None  # which token acted (the recordings access log names it)
    # A panel user's session (pbx/users/sessions.py): who, in which role; an agent also its extension.
    user_id: int | None = None
    role: str | None = None  # operator | tenant_admin | agent; None for a token
    extension: str | None = None  # an agent's extension number (None: it has none, and sees nothing)
    extension_id: int | None = None
    session_id: int | None = None  # the web session that acted (a password change keeps it)

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    @property
    def who(self) -> str:
        """For logs and the recordings access log: the token or user by id, never a secret."""
        return f"user:{self.user_id}" if self.user_id is not None else f"token:{self.token_id}"


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    stale_last_use: bool  # the caller should record this use (touch_last_use)


def digest(token: str) -> str:
    # aiohttp hands undecodable header bytes over as lone surrogates: they must digest (to
    # something no token of ours has), not raise.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_token(session: AsyncSession, tenant_id: int | None,
                       expires_at: datetime | None = None) -> tuple[str, ApiToken]:
    token = "pbx_" + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=digest(token), tenant_id=tenant_id, expires_at=expires_at)
    session.add(row)
    await session.flush()
    return token, row


async def authenticate(session: AsyncSession, token: str, now: datetime | None = None) -> Authenticated | None:
    """The token's principal, or None when it is unknown or has expired."""
    now = now or datetime.now(timezone.utc)
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    stale = row.last_used_at is None or now - row.last_used_at >= LAST_USE_PRECISION
    return Authenticated(Principal(row.tenant_id, row.id), stale)


async def touch_last_use(session: AsyncSession, token_id: int, now: datetime | None = None) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id)
                          .values(last_used_at=now or datetime.now(timezone.utc)))


async def tenant_tokens(session: AsyncSession, tenant_id: int) -> list[ApiToken]:
    return list(await session.scalars(select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.id)))


async def revoke(session: AsyncSession, tenant_id: int, token_id: int) -> None:
    row = await session.scalar(select(ApiToken).where(ApiToken.tenant_id == tenant_id, ApiToken.id == token_id))
    if row is None:
        raise NotFound("no such token")
    await session.delete(row)
