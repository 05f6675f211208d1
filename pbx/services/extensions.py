"""Extensions: plan quota, SIP identity, and their Asterisk realtime rows."""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk import endpoints
from pbx.asterisk.ami import Ami
from pbx.db.models import Extension
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, NotFound
from pbx.domain.plans import PLANS, check_extension_quota, require_feature
from pbx.services import destination_checks
from pbx.services.ring_groups import group_with_member
from pbx.services.tenants import extension_count, lock_tenant, visible_tenant
from pbx.services.tokens import Principal
from pbx.services.voicemail import VoicemailService

_PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 20
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def new_sip_id(number: str) -> str:
    """Unique across tenants without revealing anything: number + 8 random characters."""
    return f"{number}-{''.join(secrets.choice(_ID_ALPHABET) for _ in range(8))}"


@dataclass
class ExtensionService:
    ami: Ami
    realm: str
    voicemail: VoicemailService  # an extension's messages go with it

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int) -> list[Extension]:
        await visible_tenant(session, principal, tenant_id)
        query = select(Extension).where(Extension.tenant_id == tenant_id).order_by(Extension.number)
        return list(await session.scalars(query))

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int) -> Extension:
        return (await self._scoped(session, principal, tenant_id, ext_id))[1]

    @staticmethod
    async def _scoped(session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int):
        """The tenant and its extension; NotFound unless both are the principal's."""
        tenant = await visible_tenant(session, principal, tenant_id)
        extension = await session.scalar(
            select(Extension).where(Extension.tenant_id == tenant_id, Extension.id == ext_id)
        )
        if extension is None:
            raise NotFound("no such extension")
        return tenant, extension

    async def create(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> tuple[Extension, str]:
        """Returns the extension and its SIP password, which is shown only now."""
        session = unit.session
        tenant = await visible_tenant(session, principal, tenant_id)
        await lock_tenant(session, tenant_id)
        plan = PLANS[tenant.plan]
        if fields.get("record_calls") is None:
            fields = {**fields, "record_calls": tenant.record_calls and plan.recording}
        if fields["record_calls"]:
            require_feature(plan, "recording")
        await self._check_number_free(session, tenant_id, fields["number"])
        check_extension_quota(plan, tenant.extra_extensions, await extension_count(session, tenant_id))
        password = new_password()
        extension = Extension(tenant_id=tenant_id, sip_username=new_sip_id(fields["number"]), **fields)
        session.add(extension)
        endpoints.add_rows(session, extension.sip_username, self.realm, password, extension.name, extension.number)
        await self._flush(session)
        return extension, password

    async def update(self, unit: Unit, principal: Principal, tenant_id: int, ext_id: int, fields: dict) -> Extension:
        session = unit.session
        tenant, extension = await self._scoped(session, principal, tenant_id, ext_id)
        if fields.get("record_calls"):
            require_feature(PLANS[tenant.plan], "recording")
        if fields.get("number", extension.number) != extension.number:
            await self._check_number_free(session, tenant_id, fields["number"])
            await _check_unused(session, extension)
        if fields.get("voicemail") is False and extension.voicemail:
            await _check_box_unused(session, extension)
        for name, value in fields.items():
            setattr(extension, name, value)
        if "name" in fields or "number" in fields:
            await endpoints.set_callerid(session, extension.sip_username, extension.name, extension.number)
        await self._flush(session)
        return extension

    async def reset_password(
        self, unit: Unit, principal: Principal, tenant_id: int, ext_id: int
    ) -> tuple[Extension, str]:
        extension = await self.get(unit.session, principal, tenant_id, ext_id)
        password = new_password()
        contacts = await self.ami.contact_ids(extension.sip_username)
        await endpoints.set_password(unit.session, extension.sip_username, self.realm, password)
        unit.after_commit(lambda: self.ami.drop_endpoint(extension.sip_username, contacts))
        return extension, password

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, ext_id: int) -> None:
        extension = await self.get(unit.session, principal, tenant_id, ext_id)
        await _check_unused(unit.session, extension)
        # While its messages are still there to list (their rows cascade with the extension).
        await self.voicemail.forget_extension(unit, tenant_id, extension.id)
        await self.remove(unit, extension)

    async def remove(self, unit: Unit, extension: Extension) -> None:
        """Rows first; once committed, Asterisk drops the phone's registration and calls."""
        sip_id = extension.sip_username
        contacts = await self.ami.contact_ids(sip_id)
        await endpoints.delete_rows(unit.session, sip_id)
        await unit.session.delete(extension)
        unit.after_commit(lambda: self.ami.drop_endpoint(sip_id, contacts))

    async def status(self, session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int) -> dict:
        extension = await self.get(session, principal, tenant_id, ext_id)
        contacts = await self.ami.contacts(extension.sip_username)
        registered = any(c["status"] not in ("Unavailable", "Removed") for c in contacts)
        return {"registered": registered, "contacts": contacts}

    @staticmethod
    async def _check_number_free(session: AsyncSession, tenant_id: int, number: str) -> None:
        taken = await session.scalar(
            select(Extension.id).where(Extension.tenant_id == tenant_id, Extension.number == number)
        )
        if taken:
            raise Conflict(f"extension {number} already exists")

    @staticmethod
    async def _flush(session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            raise Conflict("that extension conflicts with an existing one") from exc


async def _check_unused(session: AsyncSession, extension: Extension) -> None:
    used_by = await destination_checks.user_of(session, extension.tenant_id, "extensions", extension.number) or \
        await group_with_member(session, extension.tenant_id, extension.number)
    if used_by:
        raise Conflict(f"extension {extension.number} is still used by {used_by}")


async def _check_box_unused(session: AsyncSession, extension: Extension) -> None:
    """A voicemail destination must keep a box to record into."""
    if used_by := await destination_checks.user_of(session, extension.tenant_id, "voicemail", extension.number):
        raise Conflict(f"the voicemail of {extension.number} is still used by {used_by}")
