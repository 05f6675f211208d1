"""Users: an operator manages everyone; a tenant (its admins, or its token) manages its own
tenant's admins and agents; an agent only its own name and password (pbx/api/agents.py lets
nothing else through). Another tenant's user, or an operator seen by a tenant, is 404."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension
from pbx.db.unit import Unit
from pbx.db.user_tables import User, WebSession
from pbx.domain.errors import Conflict, Forbidden, Invalid, NotFound
from pbx.services.tenants import check_owner_visible, require_operator, visible_tenant, visible_tenant_ids
from pbx.services.tokens import Principal
from pbx.users.passwords import Passwords

SELF_SERVICE = {"name", "password"}  # what an agent may change about itself
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def email_key(email: str) -> str:
    """One account per address whatever its case. ASCII letters only: str.lower() would
    turn a Turkish 'İ' into 'i' plus a combining dot, an address nobody typed."""
    return email.strip().translate(_ASCII_UPPER)


class UserService:
    def __init__(self, passwords: Passwords):
        self.passwords = passwords

    async def hashed(self, fields: dict) -> dict:
        """The fields with the password replaced by its hash: done before the transaction,
        so the database's writer never waits for argon2."""
        rest = {k: v for k, v in fields.items() if k != "password"}
        if fields.get("password") is not None:
            rest["password_hash"] = await self.passwords.hash(fields["password"])
        return rest

    async def create(self, unit: Unit, principal: Principal, fields: dict) -> tuple[User, str | None]:
        session, role = unit.session, fields["role"]
        tenant_id, extension = await self._placement(session, principal, role, fields)
        row = User(email=email_key(fields["email"]), name=fields["name"], role=role, tenant_id=tenant_id,
                   extension_id=extension.id if extension else None, password_hash=fields["password_hash"])
        session.add(row)
        await _flush_unique(session)
        return row, extension.number if extension else None

    async def list(self, session: AsyncSession, principal: Principal,
                   tenant_id: int | None) -> list[tuple[User, str | None]]:
        query = _with_extension().order_by(User.id)
        if tenant_id is not None:
            await visible_tenant(session, principal, tenant_id)
            query = query.where(User.tenant_id == tenant_id)
        elif (ids := visible_tenant_ids(principal)) is not None:
            query = query.where(User.tenant_id.in_(ids))
        return [(row[0], row[1]) for row in (await session.execute(query)).all()]

    async def get(self, session: AsyncSession, principal: Principal, user_id: int) -> tuple[User, str | None]:
        """A user whose tenant the principal sees (a reseller: its customers'), or NotFound."""
        found = (await session.execute(_with_extension().where(User.id == user_id))).first()
        if found is None:
            raise NotFound("no such user")
        await check_owner_visible(session, principal, found[0].tenant_id, "user")
        return found[0], found[1]

    async def update(self, unit: Unit, principal: Principal, user_id: int,
                     fields: dict) -> tuple[User, str | None]:
        session = unit.session
        row, number = await self.get(session, principal, user_id)
        _may_change(principal, row, fields)
        if "email" in fields:
            row.email = email_key(fields["email"])
        if "name" in fields:
            row.name = fields["name"]
        if "role" in fields or "extension" in fields:
            number = await self._reassign(session, row, fields)
        if "password_hash" in fields:
            row.password_hash, row.password_changed_at = fields["password_hash"], datetime.now(timezone.utc)
            await end_sessions(session, row.id, keep=principal.session_id)
        await _flush_unique(session)
        return row, number

    async def delete(self, unit: Unit, principal: Principal, user_id: int) -> None:
        row, _ = await self.get(unit.session, principal, user_id)
        await end_sessions(unit.session, row.id)
        await unit.session.delete(row)

    async def _placement(self, session: AsyncSession, principal: Principal, role: str,
                         fields: dict) -> tuple[int | None, Extension | None]:
        """The new user's tenant and extension, checked against who asks."""
        if role == "operator":
            require_operator(principal)
            if fields.get("tenant_id") is not None or fields.get("extension") is not None:
                raise Invalid("an operator belongs to no tenant and has no extension")
            return None, None
        tenant_id = fields.get("tenant_id") or principal.tenant_id
        if tenant_id is None:
            raise Invalid("tenant_id: required for a tenant admin or an agent")
        await visible_tenant(session, principal, tenant_id)
        return tenant_id, await _agent_extension(session, tenant_id, role, fields.get("extension"))

    async def _reassign(self, session: AsyncSession, row: User, fields: dict) -> str | None:
        if row.role == "operator":
            raise Invalid("an operator has no tenant role and no extension")
        row.role = fields.get("role", row.role)
        # The same rule as at creation; becoming (or staying) an agent names its extension again.
        extension = await _agent_extension(session, row.tenant_id, row.role, fields.get("extension"))
        row.extension_id = extension.id if extension else None
        return extension.number if extension else None


def _may_change(principal: Principal, row: User, fields: dict) -> None:
    if principal.is_agent and set(fields) - SELF_SERVICE - {"password_hash"}:
        raise Forbidden("an agent may change only its own name and password")
    resets = "password_hash" in fields and row.id != principal.user_id
    if resets and row.role == "tenant_admin" and not principal.is_operator:
        raise Forbidden("only an operator resets another tenant admin's password")


async def _agent_extension(session: AsyncSession, tenant_id: int, role: str, number: str | None) -> Extension | None:
    if role != "agent":
        if number is not None:
            raise Invalid("extension: only an agent has one")
        return None
    if number is None:
        raise Invalid("extension: an agent needs one")
    extension = await session.scalar(select(Extension).where(Extension.tenant_id == tenant_id,
                                                             Extension.number == number))
    if extension is None:
        raise Invalid(f"extension: no extension {number} in this tenant")
    return extension


def _with_extension():
    return select(User, Extension.number).outerjoin(Extension, Extension.id == User.extension_id)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # the only unique column a client writes is the e-mail address
        raise Conflict("a user with this e-mail address exists") from exc


async def end_sessions(session: AsyncSession, user_id: int, keep: int | None = None) -> None:
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.id != keep)
    await session.execute(query)
