"""API tokens: random, shown once, stored as SHA-256 digests."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import ApiToken


@dataclass(frozen=True)
class Principal:
    tenant_id: int | None  # None = operator
    token_id: int | None = None  # which token acted (the recordings access log names it)

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, tenant_id: int | None) -> str:
    token = "pbx_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=digest(token), tenant_id=tenant_id))
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    return Principal(row.tenant_id, row.id) if row else None
