"""Ring-to-screen-pop latency: from Asterisk's DialBegin reaching the control plane to
call.ringing, with the caller's contact, reaching an agent's live-stream subscriber,
while the CRM answers each request in --delay-ms (HubSpot: a contact search and a
deals search, so two round trips per lookup).

    PYTHONPATH=. .venv/bin/python bench/crm_pop.py [--calls 200] [--delay-ms 50] [--in-flight 1]

The control plane's own path, in one process: CallEvents.on_dial (as the AMI reader
calls it) -> CrmLookups (SSRF-guarded aiohttp client, breaker, cache) -> the outbox
write (SQLite) -> EventBus -> Hub (what the WebSocket handler reads). The CRM is the
tests' HubSpot server (tests/support/crm_hubspot.py, requests checked) in another
process. Every call has a new caller number, so every lookup misses the cache; a
second pass repeats numbers (cache hits), a third has no CRM (the outbox alone).
Prints figures; asserts nothing about time. See bench/README.md."""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

from wsproto.frame_protocol import FrameProtocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, pct, print_machine  # noqa: E402
from pbx.crm.lookup import CrmLookups, LookupSettings, credentials_context  # noqa: E402
from pbx.crm.providers import registry  # noqa: E402
from pbx.db.crm_tables import CrmConnection  # noqa: E402
from pbx.db.engine import make_engine, make_sessionmaker  # noqa: E402
from pbx.db.migrate import upgrade  # noqa: E402
from pbx.db.models import Tenant  # noqa: E402
from pbx.db.unit import Database  # noqa: E402
from pbx.eventing.calls import CallEvents  # noqa: E402
from pbx.eventing.hub import Hub  # noqa: E402
from pbx.eventing.ssrf import allowed_networks  # noqa: E402
from pbx.events import EventBus  # noqa: E402
from pbx.jobs.sealing import Sealer  # noqa: E402

PORT = 40069 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
CONTACT = {"name": "Ayşe Yılmaz", "company": "Çağrı Ltd", "phone": "*",
           "order": {"id": "D-1", "date": "2026-11-20", "total": "1250.5", "status": "closedwon"}}


def _crm(delay_s: float, ready) -> None:
    from tests.support.crm_hubspot import HubSpotServer

    server = HubSpotServer(CONTACT, stall_s=delay_s, port=PORT)
    ready.set()
    server.thread.join()


def dial_begin(call: int, tenant_id: int, caller: str) -> dict:
    return {"Event": "DialBegin", "DestChannel": f"PJSIP/101-abcdefgh-{call:08x}", "Linkedid": f"bench.{call}",
            "DestUniqueid": f"bench.{call}.1", "CallerIDNum": caller,
            "ChanVariable": [f"PBX_TENANT={tenant_id}", "PBX_ROUTE=inbound", "PBX_DIALLED=+908505550000"]}


async def setup(database: Database, sealer: Sealer) -> None:
    from tests.support.crm_hubspot import TOKEN

    async with database.unit() as unit:
        unit.session.add_all([Tenant(id=1, name="CRM", plan="kobi"), Tenant(id=2, name="No CRM", plan="kobi")])
        await unit.session.flush()
        unit.session.add(CrmConnection(tenant_id=1, provider="hubspot", base_url=f"http://127.0.0.1:{PORT}",
                                       credentials=sealer.seal(json.dumps({"access_token": TOKEN}),
                                                               credentials_context(1))))


class QueueSink:
    """An agent's connection as the hub writes to it (pbx/eventing/hub.py Sink), in this process:
    each WebSocket frame's event into a queue, read back with wsproto's parser."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self._parser = FrameProtocol(client=True, extensions=[])

    def write(self, data: bytes) -> None:
        self._parser.receive_bytes(data)
        for frame in self._parser.received_frames():
            self.queue.put_nowait(json.loads(frame.payload))

    def buffered(self) -> int:
        return 0

    def closing(self) -> bool:
        return False


async def measure(call_events: CallEvents, hub: Hub, tenant_id: int, callers: list[str], in_flight: int,
                  first_call: int) -> tuple[list[float], int]:
    """Latency per call (ms) and how many carried a contact; `in_flight` calls ring at once."""
    sink = QueueSink()
    subscriber = hub.subscribe(tenant_id, "101", sink)
    subscriber.live = True  # no replay: written at once, as to a live stream's connection
    latencies, with_contact = [], 0
    try:
        for start in range(0, len(callers), in_flight):
            group = callers[start:start + in_flight]
            began = time.perf_counter()
            for offset, caller in enumerate(group):
                call_events.on_dial(None, dial_begin(first_call + start + offset, tenant_id, caller))
            for _ in group:
                event = await sink.queue.get()
                latencies.append(1000 * (time.perf_counter() - began))
                with_contact += "contact" in event["data"]
            await asyncio.sleep(0.01)
    finally:
        hub.unsubscribe(subscriber)
    return latencies, with_contact


def report(label: str, latencies: list[float], with_contact: int) -> None:
    print(f"{label:<44} {len(latencies):>5} calls  with contact {with_contact:>5}  "
          f"p50 {pct(latencies, 50):7.1f} ms  p99 {pct(latencies, 99):7.1f} ms  max {max(latencies):7.1f} ms")


async def run(url: str, calls: int, in_flight: int, timeout_s: float) -> None:
    engine = make_engine(url)
    database = Database(make_sessionmaker(engine), serialize_writes=True)
    sealer = Sealer(os.urandom(32))
    await setup(database, sealer)
    bus, hub = EventBus(database), Hub()
    bus.sinks.append(hub.publish)
    lookups = CrmLookups(database, sealer, registry(), allowed_networks("127.0.0.0/8"),
                         LookupSettings(timeout_s=timeout_s))
    call_events = CallEvents(database, bus, contacts=lookups.contact_for)
    lookups.start()
    call_events.start()
    try:
        await measure(call_events, hub, 1, ["05300000000"], 1, 0)  # warm: connection read, HTTP pool
        fresh = [f"0532{n:07d}" for n in range(calls)]
        report("CRM, every number new (cache misses)", *await measure(call_events, hub, 1, fresh, in_flight, 10))
        report("CRM, numbers again (cache hits)", *await measure(call_events, hub, 1, fresh, in_flight, 10 + calls))
        report("no CRM (outbox write and fan-out alone)",
               *await measure(call_events, hub, 2, fresh, in_flight, 10 + 2 * calls))
    finally:
        await call_events.stop()
        await lookups.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="the CRM's answer time per request")
    parser.add_argument("--in-flight", type=int, default=1, help="calls that start ringing at once")
    parser.add_argument("--timeout", type=float, default=1.5, help="PBX_CRM_TIMEOUT")
    args = parser.parse_args()
    print_machine(machine())
    ready = multiprocessing.Event()
    crm = multiprocessing.Process(target=_crm, args=(args.delay_ms / 1000, ready), daemon=True)
    crm.start()
    try:
        ready.wait(30)
        time.sleep(0.3)
        with tempfile.TemporaryDirectory(prefix="crm-pop-") as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
            upgrade(url)
            print(f"CRM answering in {args.delay_ms:.0f} ms per request, {args.in_flight} call(s) ringing at once")
            asyncio.run(run(url, args.calls, args.in_flight, args.timeout))
    finally:
        crm.terminate()
        crm.join(5)


if __name__ == "__main__":
    main()
