"""Extensions: plan quota, SIP identity, and their Asterisk realtime rows."""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk import endpoints
from pbx.asterisk.ami import Ami
from pbx.db.models import Extension, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, NotFound, PbxError
from pbx.domain.plans import PLANS, Plan, check_extension_quota, require_feature
from pbx.services import destination_checks
from pbx.services.ring_groups import group_with_member
from pbx.services.tenants import extension_count, lock_tenant, visible_tenant
from pbx.services.tokens import Principal
from pbx.services.voicemail import VoicemailService

_PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 20
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _random_text(alphabet: str, length: int) -> str:
    """Uniform over the alphabet: bytes at or above the largest multiple of its size are
    dropped (no modulo bias), and one urandom call serves a whole string, not one per
    character (a 10,000-row import makes 20,000 of these)."""
    limit = 256 - 256 % len(alphabet)
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(alphabet[b % len(alphabet)] for b in secrets.token_bytes(2 * length) if b < limit)
    return "".join(chars[:length])


def new_password() -> str:
    return _random_text(_PASSWORD_ALPHABET, PASSWORD_LENGTH)


def new_sip_id(number: str) -> str:
    """Unique across tenants without revealing anything: number + 8 random characters."""
    return f"{number}-{_random_text(_ID_ALPHABET, 8)}"


@dataclass
class ExtensionService:
    ami: Ami
    realm: str
    voicemail: VoicemailService  # an extension's messages go with it
    behind_proxy: bool = False  # a cluster's: phones reach the nodes through Kamailio (pbx/cluster/)
    contacts_of: Callable[[str], Awaitable[list[dict]]] | None = None  # a cluster's: every node's (status)
    # Called in a deleted extension's transaction (extension.unregistered: pbx/app.py).
    removal_listeners: list[Callable[..., Awaitable[None]]] = field(default_factory=list)
    # Told a SIP id whose registration the control plane itself dropped (a password reset).
    dropped_listeners: list[Callable[[str], None]] = field(default_factory=list)

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
        (outcome,) = await self.create_many(unit, principal, tenant_id, [fields])
        if isinstance(outcome, PbxError):
            raise outcome
        return outcome

    async def create_many(self, unit: Unit, principal: Principal, tenant_id: int,
                          rows: list[dict]) -> list[tuple[Extension, str] | PbxError]:
        """The bulk path (provisioning jobs) and the single one alike: one tenant lock, one
        count and one lookup of taken numbers for all rows, then each row is admitted by the
        same rules in order (a row past the quota fails, the rows before it do not) and
        inserted. Returns, per row, (extension, SIP password) or the error that refused it."""
        session = unit.session
        admission = await self._admission(session, principal, tenant_id, rows, lock=True)
        outcomes: list[tuple[Extension, str] | PbxError] = [None] * len(rows)
        admitted: list[tuple[int, dict]] = []
        for index, fields in enumerate(rows):
            try:
                admitted.append((index, admission.admit(fields)))
            except PbxError as refused:
                outcomes[index] = refused
        try:
            created = await self._insert(session, tenant_id, [fields for _, fields in admitted])
        except IntegrityError as exc:
            raise Conflict("that extension conflicts with an existing one") from exc
        for (index, _), extension_and_password in zip(admitted, created):
            outcomes[index] = extension_and_password
        return outcomes

    async def check_many(self, session: AsyncSession, principal: Principal, tenant_id: int,
                         rows: list[dict]) -> list[PbxError | None]:
        """What create_many would refuse, without writing (an atomic import validates first)."""
        admission = await self._admission(session, principal, tenant_id, rows, lock=False)
        return [_refusal(admission, fields) for fields in rows]

    @staticmethod
    def check_for_new_tenant(tenant: Tenant, rows: list[dict]) -> list[PbxError | None]:
        """check_many for a tenant not yet stored (an operator's tenant import checks first)."""
        admission = _Admission(tenant, PLANS[tenant.plan], set(), 0)
        return [_refusal(admission, fields) for fields in rows]

    async def _admission(self, session: AsyncSession, principal: Principal, tenant_id: int, rows: list[dict],
                         *, lock: bool) -> "_Admission":
        tenant = await visible_tenant(session, principal, tenant_id)
        if lock:
            await lock_tenant(session, tenant_id)
        taken = await _taken_numbers(session, tenant_id, [fields["number"] for fields in rows])
        return _Admission(tenant, PLANS[tenant.plan], taken, await extension_count(session, tenant_id))

    async def _insert(self, session: AsyncSession, tenant_id: int, admitted: list[dict]) -> list[tuple[Extension, str]]:
        if not admitted:
            return []
        values = [{**fields, "tenant_id": tenant_id, "sip_username": new_sip_id(fields["number"])}
                  for fields in admitted]
        # ORM rows, not an insert() statement: the unit of work then knows which extensions it
        # wrote, so the routing snapshot reads back these rows only (SQLAlchemy still sends one
        # multi-row INSERT ... RETURNING per batch).
        extensions = [Extension(**v) for v in values]
        session.add_all(extensions)
        await session.flush()
        passwords = [new_password() for _ in extensions]
        await endpoints.add_rows(session, self.realm, [
            endpoints.Account(e.sip_username, p, e.name, e.number) for e, p in zip(extensions, passwords)],
            behind_proxy=self.behind_proxy)
        return list(zip(extensions, passwords))

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
        unit.after_commit(lambda: self._drop(extension.sip_username, contacts))
        return extension, password

    async def _drop(self, sip_id: str, contacts: list[str]) -> None:
        await self.ami.drop_endpoint(sip_id, contacts)
        for listener in self.dropped_listeners:
            listener(sip_id)

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, ext_id: int) -> None:
        extension = await self.get(unit.session, principal, tenant_id, ext_id)
        await _check_unused(unit.session, extension)
        # While its messages are still there to list (their rows cascade with the extension).
        await self.voicemail.forget_extension(unit, tenant_id, extension.id)
        for listener in self.removal_listeners:
            await listener(unit, extension)
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
        contacts = await (self.contacts_of or self.ami.contacts)(extension.sip_username)
        registered = any(c["status"] not in ("Unavailable", "Removed") for c in contacts)
        return {"registered": registered, "contacts": contacts}

    @staticmethod
    async def _check_number_free(session: AsyncSession, tenant_id: int, number: str) -> None:
        if await _taken_numbers(session, tenant_id, [number]):
            raise Conflict(f"extension {number} already exists")

    @staticmethod
    async def _flush(session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            raise Conflict("that extension conflicts with an existing one") from exc


@dataclass
class _Admission:
    """The rules a new extension passes, over one snapshot of its tenant taken under the
    tenant lock: the recording feature, a free number, the plan's quota."""

    tenant: Tenant
    plan: Plan
    taken: set[str]
    count: int

    def admit(self, fields: dict) -> dict:
        """The row's fields as they will be stored; raises what refuses the row."""
        if fields.get("record_calls") is None:
            fields = {**fields, "record_calls": self.tenant.record_calls and self.plan.recording}
        if fields["record_calls"]:
            require_feature(self.plan, "recording")
        if fields["number"] in self.taken:
            raise Conflict(f"extension {fields['number']} already exists")
        check_extension_quota(self.plan, self.tenant.extra_extensions, self.count)
        self.taken.add(fields["number"])
        self.count += 1
        return fields


def _refusal(admission: _Admission, fields: dict) -> PbxError | None:
    try:
        admission.admit(fields)
    except PbxError as refused:
        return refused
    return None


_IN_CHUNK = 500  # bound parameters per query stay well under SQLite's limit


async def _taken_numbers(session: AsyncSession, tenant_id: int, numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    unique = sorted(set(numbers))
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start:start + _IN_CHUNK]
        taken.update(await session.scalars(
            select(Extension.number).where(Extension.tenant_id == tenant_id, Extension.number.in_(chunk))))
    return taken


async def _check_unused(session: AsyncSession, extension: Extension) -> None:
    used_by = await destination_checks.user_of(session, extension.tenant_id, "extensions", extension.number) or \
        await group_with_member(session, extension.tenant_id, extension.number)
    if used_by:
        raise Conflict(f"extension {extension.number} is still used by {used_by}")


async def _check_box_unused(session: AsyncSession, extension: Extension) -> None:
    """A voicemail destination must keep a box to record into."""
    if used_by := await destination_checks.user_of(session, extension.tenant_id, "voicemail", extension.number):
        raise Conflict(f"the voicemail of {extension.number} is still used by {used_by}")
