"""extension.registered / extension.unregistered (what is reliable and why:
pbx/eventing/registration_state.py).

The AMI callback only queues; one task handles reports in Asterisk's order. A report of a
new or removed contact is checked against Asterisk (one PJSIPShowEndpoint) and compared with
what was last raised (extension_registrations), and only a change of state raises an event,
written with the row in one transaction: an AMI replay, a refresh or a phone's second contact
raise nothing. A refresh only moves the AOR's expiry in memory; an AOR whose expiry passes
(Asterisk may drop an expired contact without a report) is checked again. After every AMI
(re)login the whole registrar family is read once and compared with the table, so what
changed while the control plane or AMI was away is raised then, once; an Asterisk restart
keeps its contacts (astdb) and so raises nothing. The same comparison also runs every
PBX_REGISTRATION_RESYNC_SECONDS (`sweep`, a safety net for a report that was lost: an AMI
buffer overflow, an Asterisk built without the test framework); a difference it sees is raised
only if the comparison still finds it CONFIRM_S later, so a report already on its way (a
password reset's dropped contact, a registration in flight) is settled first, by its check,
with its own reason, and the sweep then finds nothing: one event either way.

In a cluster each node's control plane hears its own Asterisk: a row names the node (its AMI
address) that holds the contact, and a node settles only its own rows and new registrations
(a login's comparison takes over a row whose phone has a contact here, a sweep does not)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from pbx.db.event_tables import ExtensionRegistration
from pbx.db.models import Extension
from pbx.domain.errors import AsteriskUnavailable
from pbx.eventing import registration_state as state
from pbx.eventing.outbox import NewEvent
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

EXPIRY_GRACE = timedelta(seconds=2)
TICK_S = 2.0
BATCH_MAX = 200
CONFIRM_S = 2.0
# The whole registrar family in one answer: ~1 s per 10,000 contacts on the bench VM
# (bench/registration_sweep.py), so AMI's usual 5 s would fail it, unseen, from some 50,000.
FAMILY_TIMEOUT_S = 60.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RegistrationEvents:
    def __init__(self, database, events, ami, node: str):
        self.database, self.events, self.ami, self.node = database, events, ami, node
        self.queue: asyncio.Queue = asyncio.Queue(50_000)
        self.expiry: dict[str, datetime] = {}  # AOR -> when its newest contact runs out
        self._held = None  # an item taken from the queue while batching, not yet handled
        self._confirm = None  # the sweep's pending second look (an asyncio.TimerHandle)
        self._tasks = OwnedTasks()

    def on_test_event(self, _manager, message) -> None:
        """AMI callback for TestEvent (manager.conf lets only the registrar's through)."""
        report = state.report_of(message)
        if report is None:
            return
        if report.state == state.REFRESHED and report.aor in self.expiry and report.expiration_s:
            self.expiry[report.aor] = _now() + timedelta(seconds=report.expiration_s)
            return
        self._put(("check", report.aor, "unregistered" if report.state == state.REMOVED else None))

    def contact_dropped(self, sip_id: str) -> None:
        """The control plane dropped the extension's contact itself (a password reset): no
        report comes, so it is looked at now."""
        self._put(("check", sip_id, "removed"))

    def on_login(self) -> None:
        self._put(("resync", None, None))

    async def sweep(self) -> None:
        """The periodic safety net (a WakeableLoop's work, pbx/app.py): queued, so it runs in
        order with the reports, never beside them."""
        self._put(("sweep", None, None))

    def _put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:  # the next login's resync settles it
            log.warning("registration reports queue full: %s not looked at", item)

    def start(self) -> None:
        self._tasks.spawn(self._work(), "registration-events")

    async def stop(self) -> None:
        if self._confirm is not None:
            self._confirm.cancel()
        await self._tasks.cancel()

    async def _work(self) -> None:
        while True:
            item, self._held = self._held, None
            try:
                if item is None:
                    async with asyncio.timeout(TICK_S):
                        item = await self.queue.get()
            except TimeoutError:
                item = ("expired", None, None)
            try:
                await self._handle(*item)
            except AsteriskUnavailable as exc:  # AMI is away: its next login resyncs
                if item[0] in ("sweep", "confirm"):
                    log.warning("registration sweep skipped: %s", exc)
            except Exception:
                log.exception("registration %s of %s could not be settled", item[0], item[1])

    async def _handle(self, kind: str, aor: str | None, hint: str | None) -> None:
        if kind == "resync":
            await self._resync()
        elif kind == "sweep":
            await self._sweep()
        elif kind == "confirm":
            await self._second_look(aor)
        elif kind == "check":
            await self._check(self._with_queued_checks({aor: hint}))
        else:
            due = _now() - EXPIRY_GRACE
            await self._check({a: "expired" for a, at in self.expiry.items() if at < due})

    def _with_queued_checks(self, hints: dict[str, str | None]) -> dict[str, str | None]:
        """The checks queued behind this one, up to a resync, in one transaction: a burst of
        registrations (phones back after an outage) is not one commit per phone."""
        while len(hints) < BATCH_MAX and not self.queue.empty():
            kind, aor, hint = item = self.queue.get_nowait()
            if kind != "check":
                self._held = item  # handled next, in order
                break
            hints[aor] = hints.get(aor) or hint  # REMOVED's reason outlives an ADDED
        return hints

    async def _check(self, hints: dict[str, str | None]) -> None:
        # PJSIPShowEndpoint: astdb's DBGetTree reads only whole subtrees, and a contact's key
        # ends in a hash of its URI; an extension's endpoint and AOR share their id.
        if hints:
            await self._settle({aor: state.contacts_from_ami(await self.ami.contacts(aor), _now())
                                for aor in hints}, hints)

    async def _resync(self) -> None:
        """A login's: raise every difference between Asterisk's contacts and the table."""
        await self._settle_all(*await self._compare())

    async def _sweep(self) -> None:
        """The same comparison, its differences raised only if they are still there CONFIRM_S on
        (one second look at a time: the next pass sees what this one left)."""
        live, differ = await self._compare()
        differ = await self._not_elsewhere(differ, live)
        if differ and self._confirm is None:
            log.info("registration sweep: %d AOR(s) differ from the table, a second look in %s s",
                     len(differ), CONFIRM_S)
            self._confirm = asyncio.get_running_loop().call_later(CONFIRM_S, self._confirm_now, frozenset(differ))

    async def _second_look(self, suspects: frozenset[str]) -> None:
        live, differ = await self._compare()
        still = await self._not_elsewhere([aor for aor in differ if aor in suspects], live)
        raised = await self._settle_all(live, still)
        if raised:  # a report was lost: worth an operator's look
            log.warning("registration sweep raised %d change(s) no report told of", raised)

    async def _settle_all(self, live: dict[str, list[state.Contact]], differ: list[str]) -> int:
        raised = 0
        for start in range(0, len(differ), BATCH_MAX):  # the first start beside 100,000 phones, too
            raised += await self._settle({aor: live.get(aor, []) for aor in differ[start:start + BATCH_MAX]}, {})
        return raised

    def _confirm_now(self, suspects: frozenset[str]) -> None:
        self._confirm = None
        self._put(("confirm", suspects, None))

    async def _not_elsewhere(self, differ: list[str], live: dict) -> list[str]:
        """Without the AORs registered here whose row is another node's: a phone that moved
        there leaves a contact here until it expires, and a pass taking the row back (as a login
        does) would have the nodes' passes toss it to and fro, and the unregistration on the
        node that really holds the phone come only when this stale contact expires."""
        mine = [aor for aor in differ if aor in live]
        if not mine:
            return differ
        async with self.database.read() as session:
            elsewhere = set(await session.scalars(select(ExtensionRegistration.sip_id).where(
                ExtensionRegistration.sip_id.in_(mine), ExtensionRegistration.node != self.node)))
        return [aor for aor in differ if aor not in elsewhere]

    async def _compare(self) -> tuple[dict[str, list[state.Contact]], list[str]]:
        """One astdb read (the whole registrar family) and one query: each AOR's live contacts,
        and the AORs where they and this node's rows disagree. Resets the expiry timers too
        (a lost REFRESHED report leaves one behind)."""
        live = state.contacts_by_aor(await self.ami.family("registrar", FAMILY_TIMEOUT_S), _now())
        async with self.database.read() as session:
            known = set(await session.scalars(select(ExtensionRegistration.sip_id).where(
                ExtensionRegistration.node == self.node)))
        self.expiry = {aor: state.newest(contacts).expires_at for aor, contacts in live.items()
                       if state.newest(contacts).expires_at}
        return live, state.differing(live, known)

    async def _settle(self, live: dict[str, list[state.Contact]], hints: dict[str, str | None]) -> int:
        """Raise what changed for these AORs, each with its row, in one transaction; how many."""
        now = _now()
        async with self.database.unit() as unit:
            extensions = {e.sip_username: e for e in await unit.session.scalars(
                select(Extension).where(Extension.sip_username.in_(sorted(live))))}
            raised = []
            for aor, contacts in live.items():
                self._remember(aor, contacts)
                if aor in extensions:
                    raised += await self._settle_one(unit, extensions[aor], contacts, hints.get(aor), now)
            await self.events.emit_many(raised, unit=unit)  # a few statements per tenant, not per event
        return len(raised)

    def _remember(self, aor: str, contacts: list[state.Contact]) -> None:
        newest = state.newest(contacts).expires_at if contacts else None
        if newest is None:
            self.expiry.pop(aor, None)
        else:
            self.expiry[aor] = newest

    async def _settle_one(self, unit, extension: Extension, contacts: list[state.Contact], hint,
                          now) -> list[NewEvent]:
        row = await unit.session.get(ExtensionRegistration, extension.id)
        if row is not None and row.node != self.node:
            if contacts:  # the phone moved to this node: still registered, now held here
                row.node = self.node
            return []  # else another node's contact: that node settles it
        event = state.change(row is not None, contacts)
        if event == "extension.registered":
            contact = state.newest(contacts)
            unit.session.add(ExtensionRegistration(extension_id=extension.id, tenant_id=extension.tenant_id,
                                                   sip_id=extension.sip_username, contact=contact.uri[:512],
                                                   node=self.node, expires_at=contact.expires_at, since=now))
            data = state.registered_data(extension.number, extension.id, contact)
        elif event == "extension.unregistered":
            data = {"extension": extension.number, "extension_id": extension.id, "contact": row.contact,
                    "reason": state.unregistered_reason(hint, row.expires_at, now)}
            await unit.session.delete(row)
        else:
            return []
        return [NewEvent(event, extension.tenant_id, data, now)]

    async def extension_removed(self, unit, extension: Extension) -> None:
        """An extension being deleted (in its transaction): its phone is dropped by the control
        plane, not by the registrar, so no report comes; a registered one is unregistered now."""
        row = await unit.session.get(ExtensionRegistration, extension.id)
        self.expiry.pop(extension.sip_username, None)
        if row is None:
            return
        await self.events.emit("extension.unregistered", extension.tenant_id, {
            "extension": extension.number, "extension_id": extension.id, "contact": row.contact,
            "reason": "removed"}, unit=unit)
        # Now, by statement: the extension's own delete would cascade to the row.
        await unit.session.execute(delete(ExtensionRegistration).where(
            ExtensionRegistration.extension_id == extension.id))
