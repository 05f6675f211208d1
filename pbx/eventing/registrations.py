"""extension.registered / extension.unregistered from Asterisk's ContactStatus events
(a contact Created by a REGISTER, Removed by an un-REGISTER or its expiry).

The AMI callback only looks the endpoint up in the routing snapshot (memory, no SQL)
and queues the event on the call events' writer (pbx/eventing/calls.py), which stores
it in batches. A refreshed registration is an update, not a new one: no event."""
from __future__ import annotations

import asyncio
import logging

from pbx.eventing.calls import CallEvents, Pending

log = logging.getLogger(__name__)
TYPES = {"Created": "extension.registered", "Removed": "extension.unregistered"}


def registration_event(message, endpoints) -> Pending | None:
    """endpoints: SIP id -> the extension (Party), the routing snapshot's."""
    type = TYPES.get(str(message.get("ContactStatus", "")))
    party = endpoints.get(str(message.get("EndpointName", "")))
    if type is None or party is None:
        return None  # another status change, a trunk, or an extension deleted meanwhile
    data = {"extension": party.number, "extension_id": party.extension_id,
            "contact": str(message.get("URI", ""))[:500] or None}
    return Pending(type, party.tenant_id, data, None)


class RegistrationEvents:
    def __init__(self, snapshots, writer: CallEvents):
        self.snapshots, self.writer = snapshots, writer
        self._tasks: set[asyncio.Task] = set()

    def on_contact_status(self, _manager, message) -> None:
        """AMI callback for ContactStatus."""
        if not self.snapshots.stale:
            return self._raise(message, self.snapshots.current)
        # A phone registering just after its extension was written: the step that knows it is under way.
        task = asyncio.get_running_loop().create_task(self._after_step(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_step(self, message) -> None:
        self._raise(message, await self.snapshots.get())

    def _raise(self, message, snapshot) -> None:
        pending = registration_event(message, snapshot.endpoints)
        if pending is not None:
            self.writer.enqueue(pending)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
