"""What extension.registered / unregistered cost the control plane: per REGISTER refresh (the
common case: a phone re-registers every few minutes) and per change of state.

    PYTHONPATH=. .venv/bin/python bench/registration_events.py [--phones 2000] [--refreshes 20000]

1. Refresh: --refreshes AOR_CONTACT_REFRESHED TestEvents, as Asterisk sends them on the wire,
   parsed by panoramisk (what Ami.on_event registers) and handed to RegistrationEvents (an
   expiry moved in memory). CPU per refresh = process CPU / refreshes.
2. Change: --phones extensions registered and then unregistered: ADDED and REMOVED reports
   each checked (the PJSIPShowEndpoint answer replaced by an in-memory one: its AMI round trip
   is Asterisk's work and the socket's, not measured here), compared with
   extension_registrations and raised through the EventBus into a migrated SQLite outbox.
   CPU per change = process CPU / (2 x phones). Then a burst: every phone registers again at
   once (after an outage), its reports queued and settled in batches.
A call raises no registrar TestEvent (its authentication's two TestEvents are dropped by
manager.conf's header filter inside Asterisk), so the per-call cost is none by construction.
Prints figures; asserts nothing about time. See bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from panoramisk import Manager  # noqa: E402
from panoramisk.ami_protocol import AMIProtocol  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import machine, print_machine  # noqa: E402
from bench.ingest import NullTransport, feed  # noqa: E402
from pbx.db.engine import make_engine, make_sessionmaker  # noqa: E402
from pbx.db.event_tables import EventRow  # noqa: E402
from pbx.db.migrate import upgrade  # noqa: E402
from pbx.db.models import Extension, Tenant  # noqa: E402
from pbx.db.unit import Database  # noqa: E402
from pbx.eventing.registrations import RegistrationEvents  # noqa: E402
from pbx.events import EventBus  # noqa: E402


class Registrar:
    """Asterisk's answer to PJSIPShowEndpoint, from memory."""

    def __init__(self):
        self.live: dict[str, list[dict]] = {}

    async def contacts(self, endpoint):
        return self.live.get(endpoint, [])


def frame(state: str, aor: str) -> bytes:
    return (f"Event: TestEvent\r\nPrivilege: reporting,all\r\nType: StateChange\r\nState: {state}\r\n"
            f"AppFile: res_pjsip_registrar.c\r\nAppFunction: register_aor_core\r\nAppLine: 1008\r\n"
            f"Contact: sip:{aor}@10.0.0.5:5060\r\nAOR: {aor}\r\nExpiration: 300\r\n"
            f"UserAgent: Yealink SIP-T46U 108.86.0.20\r\n\r\n").encode()


def protocol_for(watcher: RegistrationEvents) -> AMIProtocol:
    manager = Manager(loop=asyncio.get_running_loop())
    manager.register_event("TestEvent", watcher.on_test_event)
    protocol = AMIProtocol()
    protocol.connection_made(NullTransport())
    protocol.factory, protocol.version = manager, "bench"
    return protocol


async def seed(database: Database, phones: int) -> list[str]:
    sips = [f"{100 + i}-bench{i:03d}"[:40] for i in range(phones)]
    async with database.unit() as unit:
        unit.session.add(Tenant(id=1, name="Bench", plan="enterprise"))
        await unit.session.flush()
        await unit.session.execute(insert(Extension), [
            {"id": i + 1, "tenant_id": 1, "number": str(1000 + i), "name": f"E{i}", "sip_username": sip}
            for i, sip in enumerate(sips)])
    return sips


async def changes(watcher: RegistrationEvents, registrar: Registrar, protocol, sips: list[str]) -> float:
    cpu = time.process_time()
    for sip in sips:
        registrar.live[sip] = [{"uri": f"sip:{sip}@10.0.0.5:5060", "expires_at": int(time.time()) + 300,
                                "user_agent": "Yealink", "via": "10.0.0.5:5060"}]
        feed(protocol, frame("AOR_CONTACT_ADDED", sip))
        await watcher._handle(*watcher.queue.get_nowait())
    for sip in sips:
        registrar.live[sip] = []
        feed(protocol, frame("AOR_CONTACT_REMOVED", sip))
        await watcher._handle(*watcher.queue.get_nowait())
    return time.process_time() - cpu


async def burst(watcher: RegistrationEvents, registrar: Registrar, protocol, sips: list[str]) -> float:
    """Every phone back at once (after an outage): the reports queue up and are settled in batches."""
    cpu = time.process_time()
    for sip in sips:
        registrar.live[sip] = [{"uri": f"sip:{sip}@10.0.0.6:5060", "expires_at": int(time.time()) + 300}]
        feed(protocol, frame("AOR_CONTACT_ADDED", sip))
    while not watcher.queue.empty() or watcher._held:
        item, watcher._held = watcher._held or watcher.queue.get_nowait(), None
        await watcher._handle(*item)
    return time.process_time() - cpu


async def refreshes(watcher: RegistrationEvents, protocol, sips: list[str], count: int) -> float:
    for sip in sips:
        watcher.expiry[sip] = watcher.expiry.get(sip) or _soon()
    data = b"".join(frame("AOR_CONTACT_REFRESHED", sips[i % len(sips)]) for i in range(count))
    cpu = time.process_time()
    feed(protocol, data)
    spent = time.process_time() - cpu
    assert watcher.queue.empty(), "a refresh of a known AOR queued work"
    return spent


def _soon():
    from datetime import datetime, timedelta, timezone
    return datetime.now(timezone.utc) + timedelta(seconds=300)


async def run(url: str, phones: int, count: int) -> dict:
    engine = make_engine(url)
    try:
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        sips = await seed(database, phones)
        registrar = Registrar()
        watcher = RegistrationEvents(database, EventBus(database), registrar, node="bench")
        protocol = protocol_for(watcher)
        change_cpu = await changes(watcher, registrar, protocol, sips)
        burst_cpu = await burst(watcher, registrar, protocol, sips)
        refresh_cpu = await refreshes(watcher, protocol, sips, count)
        async with database.read() as session:
            raised = await session.scalar(select(func.count()).select_from(EventRow))
    finally:
        await engine.dispose()
    return {"change_us": change_cpu / (2 * phones) * 1e6, "burst_us": burst_cpu / phones * 1e6, "refresh_us": refresh_cpu / count * 1e6,
            "raised": raised, "phones": phones, "refreshes": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--refreshes", type=int, default=20000)
    args = parser.parse_args()
    print_machine(machine())
    with tempfile.TemporaryDirectory(prefix="bench-regev-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        figures = asyncio.run(run(url, args.phones, args.refreshes))
    print(f"refresh: {figures['refresh_us']:.1f} us CPU each ({figures['refreshes']} TestEvents parsed and handled)")
    print(f"change:  {figures['change_us']:.0f} us CPU each ({2 * figures['phones']} reports -> "
          f"{2 * figures['phones']} events in the outbox, one transaction each)")
    print(f"burst:   {figures['burst_us']:.0f} us CPU each ({figures['phones']} ADDED queued at once, settled in "
          f"batches of up to 200; {figures['raised']} events in all)")


if __name__ == "__main__":
    main()
