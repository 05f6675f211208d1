"""The one place that calls a tenant's CRM connector: what call.ringing's `contact` and
`GET /crm/lookup` come from, and where finished calls are logged back.

A lookup never takes longer than `timeout_s` (then: no contact) and never raises. The
same number is looked up once per `cache_ttl_s` (a ring group's several DialBegins, a
caller who rings again), and looked up once at a time (callers of one number in flight
share the answer). Each tenant's CRM has a circuit breaker: after a few failures in a
row it is not asked for a while, so a dead CRM costs no one a wait. Refreshed OAuth
credentials (connector.credentials_changed) are sealed and stored again."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import aiohttp
from sqlalchemy import select

from pbx.crm.base import CallLog, Contact
from pbx.crm.client import guarded_session
from pbx.crm.errors import CrmError
from pbx.crm.protection import AnswerCache, CircuitBreaker
from pbx.crm.providers import plan_allows
from pbx.db.crm_tables import CrmConnection
from pbx.db.models import Tenant
from pbx.domain.errors import Invalid
from pbx.domain.numbers import to_e164
from pbx.eventing.ssrf import Network
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)
SUCCESS_NOTE_S = 60  # a working CRM's last_success_at is written at most this often
_NONE = object()  # a tenant known to have no CRM


@dataclass
class Connection:
    """A tenant's connection as the lookups use it: credentials opened."""
    provider: str
    base_url: str
    credentials: dict
    last_success_at: datetime | None
    failing: bool


def credentials_context(tenant_id: int) -> str:
    """Bound into the seal: a tenant's sealed credentials cannot be moved to another tenant."""
    return f"crm-credentials:{tenant_id}"


@dataclass(frozen=True)
class LookupSettings:
    timeout_s: float = 1.5
    cache_ttl_s: float = 60.0
    log_timeout_s: float = 10.0
    breaker_failures: int = 3
    breaker_open_s: float = 30.0


class CrmLookups:
    def __init__(self, database, sealer, providers: dict, allow: tuple[Network, ...],
                 settings: LookupSettings = LookupSettings(), clock=time.monotonic):
        self.database, self.sealer, self.providers, self.allow = database, sealer, providers, allow
        self.settings, self.clock = settings, clock
        self.cache = AnswerCache(settings.cache_ttl_s)
        self._connections: dict[int, Connection | object] = {}
        self._breakers: dict[tuple, CircuitBreaker] = {}  # per tenant and CRM: a new connection starts closed
        self._in_flight: dict[tuple[int, str], asyncio.Future] = {}
        self._notes: asyncio.Queue[tuple[int, dict]] = asyncio.Queue(1000)
        self._tasks = OwnedTasks()
        self._http: aiohttp.ClientSession | None = None
        self._noting: int | None = None  # the tenant whose status is being stored: already known here

    def start(self) -> None:
        self._tasks.spawn(self._write_notes(), "crm-status")

    async def stop(self) -> None:
        await self._tasks.cancel()
        if self._http is not None:
            await self._http.close()

    TABLES = ("crm_connections", "tenants")  # a connection, or a tenant's plan, changed

    def changed(self, written) -> None:
        """Commit listener of TABLES: the tenants whose connection or plan changed are read again."""
        if written.whole & set(self.TABLES):  # rows unknown (a statement; lock_tenant's no-op UPDATE too)
            self._connections.clear()  # read again at the next lookup: cheap; the answers stay cached
            if "crm_connections" in written.whole:
                self.cache = AnswerCache(self.settings.cache_ttl_s)
            return
        for tenant_id in set(written.rows.get("crm_connections", {}).values()) - {self._noting}:
            self._connections.pop(tenant_id, None)
            self.cache.forget(tenant_id)  # another CRM may know the number otherwise
        for tenant_id in written.rows.get("tenants", {}):
            self._connections.pop(tenant_id, None)

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:  # the SSRF guard again on every request, as for webhooks
            self._http = guarded_session(self.allow)
        return self._http

    async def _connection(self, tenant_id: int) -> Connection | None:
        known = self._connections.get(tenant_id)
        if known is None:
            async with self.database.read() as session:
                found = (await session.execute(select(CrmConnection, Tenant.plan).join(
                    Tenant, Tenant.id == CrmConnection.tenant_id).where(CrmConnection.tenant_id == tenant_id))).first()
            # A tenant moved to a plan without its CRM is not looked up (its connection stays, unused).
            usable = found is not None and found[0].provider in self.providers
            known = self._opened(found[0]) if usable and plan_allows(found[1], found[0].provider) else _NONE
            self._connections[tenant_id] = known
        return None if known is _NONE else known

    def _opened(self, row: CrmConnection) -> Connection:
        credentials = json.loads(self.sealer.open(row.credentials, credentials_context(row.tenant_id)))
        failing = row.last_failure_at is not None and (
            row.last_success_at is None or row.last_failure_at > row.last_success_at)
        return Connection(row.provider, row.base_url, credentials, row.last_success_at, failing)

    async def contact_for(self, tenant_id: int, caller: str | None) -> dict | None:
        """call.ringing's `contact`, or None: no CRM, not a number, nobody, slow or failing CRM."""
        try:
            number = to_e164(caller or "")
        except Invalid:
            return None
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                contact = await self.lookup(tenant_id, number)
        except Exception as exc:  # TimeoutError included: the call goes on without a contact
            log.info("CRM lookup of tenant %s gave no contact: %s", tenant_id, type(exc).__name__)
            return None
        return contact.as_dict() if contact else None

    async def lookup(self, tenant_id: int, number: str) -> Contact | None:
        """The contact for an E.164 number; raises when the CRM fails or its breaker is open.
        Concurrent lookups of one number share one request (shielded: a caller that gives up
        does not cancel it for the others)."""
        key = (tenant_id, number)
        cached = self.cache.get(key, self.clock())
        if cached is not AnswerCache.MISS:
            return cached
        pending = self._in_flight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._ask(tenant_id, number))
            self._in_flight[key] = pending
            pending.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(pending)

    def _finished(self, key: tuple[int, str], done: asyncio.Future) -> None:
        self._in_flight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have given up on it (_call noted the failure)

    async def _ask(self, tenant_id: int, number: str) -> Contact | None:
        connection = await self._connection(tenant_id)
        if connection is None:
            return None
        contact = await self._call(tenant_id, connection, lambda c, http: c.lookup(http, number),
                                   self.settings.timeout_s * 4)
        self.cache.put((tenant_id, number), contact, self.clock())
        return contact

    async def log_call(self, tenant_id: int, call: CallLog) -> bool:
        """Logs the call as an activity; False when the tenant has no CRM (any more). Raises on failure."""
        connection = await self._connection(tenant_id)
        if connection is None:
            return False
        await self._call(tenant_id, connection, lambda c, http: c.log_call(http, call), self.settings.log_timeout_s)
        return True

    async def _call(self, tenant_id: int, connection: Connection, work, timeout_s: float):
        key = (tenant_id, connection.provider, connection.base_url)
        breaker = self._breakers.setdefault(
            key, CircuitBreaker(self.settings.breaker_failures, self.settings.breaker_open_s))
        if not breaker.allow(self.clock()):
            raise CrmError("the CRM failed repeatedly; not asked for a while")
        connector = self.providers[connection.provider].connect(connection.base_url, dict(connection.credentials))
        try:
            async with asyncio.timeout(timeout_s):
                result = await work(connector, self._client())
        except Exception as exc:
            breaker.failed(self.clock())
            self._note(tenant_id, {"last_failure_at": _now(), "last_error": f"{type(exc).__name__}: {exc}"[:200]})
            connection.failing = True
            raise
        breaker.succeeded()
        self._succeeded(tenant_id, connection, connector)
        return result

    def _succeeded(self, tenant_id: int, connection: Connection, connector) -> None:
        note: dict = {}
        if connector.credentials_changed:  # a refreshed OAuth token: used from now on, and stored
            connection.credentials = dict(connector.credentials)
            note["credentials"] = self.sealer.seal(json.dumps(connection.credentials), credentials_context(tenant_id))
        now = _now()
        if connection.failing or connection.last_success_at is None or \
                now - connection.last_success_at > timedelta(seconds=SUCCESS_NOTE_S):
            connection.last_success_at, connection.failing = now, False
            note["last_success_at"] = now
        if note:
            self._note(tenant_id, note)

    def _note(self, tenant_id: int, fields: dict) -> None:
        try:
            self._notes.put_nowait((tenant_id, fields))
        except asyncio.QueueFull:
            log.warning("CRM status of tenant %s not stored: too many waiting", tenant_id)

    async def _write_notes(self) -> None:
        """One writer, off every lookup's path: status and refreshed credentials."""
        while True:
            tenant_id, fields = await self._notes.get()
            try:
                async with self.database.unit() as unit:
                    row = await unit.session.scalar(select(CrmConnection).where(CrmConnection.tenant_id == tenant_id))
                    for name, value in (fields if row is not None else {}).items():
                        setattr(row, name, value)
                    self._noting = tenant_id  # its commit (below) need not drop what is cached
            except Exception:
                log.exception("storing the CRM status of tenant %s failed", tenant_id)
            finally:
                self._noting = None


def _now() -> datetime:
    return datetime.now(timezone.utc)
