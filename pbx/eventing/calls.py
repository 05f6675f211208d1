"""Call events from what Asterisk reports: call.ringing (DialBegin to an extension),
call.answered (DialEnd ANSWER), call.ended (the call record, once stored).

AMI callbacks only parse and queue (the AMI reader never waits on SQL, and the
FastAGI path is not involved at all); one task writes queued events in batches.
Each carries a dedupe key (its type and Asterisk's id), so an AMI replay or a CDR
read back from Asterisk's CSV copy makes no second event.

An inbound call.ringing of a tenant with a CRM waits for the caller's contact
(`contacts`, bounded by its own timeout) before it is queued; the call's later
events wait behind it, so they keep their order. The call itself never waits: it
is the dialplan's and AGI's, and this is neither."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.asterisk.ami import channel_variables
from pbx.db.models import Call, Tenant
from pbx.eventing.outbox import NewEvent
from pbx.routing.outbound import is_outbound
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    type: str
    tenant_id: int
    data: dict
    dedupe_key: str


def extension_of(channel: str) -> str | None:
    """PJSIP/101-k3f9x2ab-0000002a -> 101 (an extension's endpoint is <number>-<8 chars>,
    pbx/services/extensions.py); a trunk's channel -> None."""
    if not channel.startswith("PJSIP/"):
        return None
    number, _, rest = channel[len("PJSIP/"):].partition("-")
    return number if number.isdigit() and rest and not channel.startswith("PJSIP/trunk-") else None


def dial_event(message) -> Pending | None:
    """A DialBegin (ringing) or DialEnd ANSWER (answered) to one of a tenant's extensions.
    Runs for every Dial event: what rejects most (a DialEnd not answered, a dial to a trunk)
    is checked before the channel variables are parsed."""
    type, key = _dial_type(message)
    extension = extension_of(message.get("DestChannel", "")) if type else None
    if extension is None:
        return None
    originated = not message.get("Channel") and not message.get("ChanVariable")  # no calling channel
    found = _click_to_call(message, extension) if originated else _routed(message, extension)
    if found is None:
        return None
    tenant, data = found
    return Pending(type, tenant, data, f"{type}:{key}")


def _dial_type(message) -> tuple[str | None, str]:
    if message.get("Event") == "DialBegin":
        return "call.ringing", message.get("DestUniqueid", "")
    if message.get("DialStatus") == "ANSWER":
        return "call.answered", message.get("Linkedid") or message.get("DestLinkedid", "")
    return None, ""


def _routed(message, extension: str) -> tuple[int, dict] | None:
    """A call the dialplan routed (its variables set by the FastAGI handler)."""
    variables = channel_variables(message)
    tenant = variables.get("PBX_TENANT", "")
    if not tenant.isdigit():
        return None
    inbound = variables.get("PBX_ROUTE") == "inbound"
    return int(tenant), {"call_id": message.get("Linkedid"), "direction": "inbound" if inbound else "internal",
                         "caller": message.get("CallerIDNum") or None, "callee": extension,
                         "number": variables.get("PBX_DIALLED") if inbound else None, "extension": extension}


def _click_to_call(message, extension: str) -> tuple[int, dict] | None:
    """The extension's phone rings (or answers) for a click-to-call: the extension is the
    caller, `to` the callee; the call_id is the id the API answered with (the channel's
    linkedid). Its variables were set by Originate (pbx/services/click_to_call.py)."""
    variables = channel_variables(message, "Dest")
    tenant, dialled = variables.get("PBX_TENANT", ""), variables.get("PBX_DIALLED", "")
    if not tenant.isdigit() or variables.get("PBX_ROUTE") != "c2c":
        return None
    return int(tenant), {"call_id": message.get("DestLinkedid"),
                         "direction": "outbound" if is_outbound(dialled) else "internal",
                         "caller": extension, "callee": dialled or None, "number": None, "extension": extension,
                         "click_to_call": True}


def ended_data(call: Call) -> dict:
    return {"call_id": call.linkedid, "call_record_id": call.id, "direction": call.direction, "caller": call.caller,
            "callee": call.callee, "number": call.number, "extension": call.extension,
            "disposition": call.disposition, "duration_s": call.duration_s, "billsec": call.billsec,
            "recording_id": call.recording_file_id}


@dataclass
class Held:
    """A call's events waiting for its ringing's contact, in order."""
    pending: list[Pending]
    task: asyncio.Task | None = None


class CallEvents:
    def __init__(self, database, events, *, contacts=None, queue_max: int = 50_000, batch_max: int = 500):
        """contacts: async (tenant_id, caller) -> contact dict | None, never raising, bounded in time."""
        self.database, self.events, self.batch_max, self.contacts = database, events, batch_max, contacts
        self.queue: asyncio.Queue[Pending] = asyncio.Queue(queue_max)
        self._tasks = OwnedTasks()
        self._held: dict[str, Held] = {}

    def on_dial(self, _manager, message) -> None:
        """AMI callback for DialBegin and DialEnd."""
        pending = dial_event(message)
        if pending is None:
            return
        call_id = pending.data["call_id"]
        if call_id in self._held:
            self._held[call_id].pending.append(pending)
        elif self.contacts is not None and pending.type == "call.ringing" and pending.data["direction"] == "inbound":
            held = self._held[call_id] = Held([pending])
            held.task = asyncio.create_task(self._with_contact(call_id, held), name=f"call-contact-{call_id}")
        else:
            self._queue(pending)

    async def _with_contact(self, call_id: str, held: Held) -> None:
        first = held.pending[0]
        try:
            contact = await self.contacts(first.tenant_id, first.data["caller"])
        finally:
            if self._held.get(call_id) is held:
                del self._held[call_id]
        for pending in held.pending:
            if contact is not None and pending.type == "call.ringing":
                pending = Pending(pending.type, pending.tenant_id, {**pending.data, "contact": contact},
                                  pending.dedupe_key)
            self._queue(pending)

    def _queue(self, pending: Pending) -> None:
        try:
            self.queue.put_nowait(pending)
        except asyncio.QueueFull:
            log.warning("call events queue full: %s of tenant %s not raised", pending.type, pending.tenant_id)

    async def calls_stored(self, unit, linkedids: set[str]) -> None:
        """After call records were stored (in their transaction): call.ended for each."""
        calls = await unit.session.scalars(select(Call).where(Call.linkedid.in_(sorted(linkedids)),
                                                              Call.tenant_id.is_not(None)))
        now = datetime.now(timezone.utc)
        # A call that ended while its contact was still being looked up: its events first, without it.
        early = [p for linkedid in linkedids for p in self._release(linkedid)]
        new = [NewEvent(p.type, p.tenant_id, p.data, now, p.dedupe_key) for p in early]
        new += [NewEvent("call.ended", call.tenant_id, ended_data(call), now, f"call.ended:{call.linkedid}")
                for call in calls]
        try:  # in a savepoint: events that fail to be written never cost the call records
            async with unit.session.begin_nested():
                await self.events.emit_many(new, unit=unit)
        except Exception:
            log.exception("call.ended of %d calls not raised", len(new))

    def _release(self, call_id: str) -> list[Pending]:
        held = self._held.pop(call_id, None)
        if held is None:
            return []
        held.task.cancel()
        return held.pending

    def start(self) -> None:
        self._tasks.spawn(self._drain(), "call-events")

    async def stop(self) -> None:
        await self._tasks.cancel()
        looking_up = [held.task for held in self._held.values()]
        for call_id in list(self._held):
            self._release(call_id)
        await asyncio.gather(*looking_up, return_exceptions=True)  # none outlives its owner

    async def _drain(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.batch_max and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._write(batch)
            except Exception:
                log.exception("writing %d call events failed", len(batch))

    async def _write(self, batch: list[Pending]) -> None:
        async with self.database.unit() as unit:
            tenants = set(await unit.session.scalars(select(Tenant.id).where(
                Tenant.id.in_({p.tenant_id for p in batch}))))
            now = datetime.now(timezone.utc)
            # A tenant deleted mid-call has no events any more.
            await self.events.emit_many([NewEvent(p.type, p.tenant_id, p.data, now, p.dedupe_key)
                                         for p in batch if p.tenant_id in tenants], unit=unit)
