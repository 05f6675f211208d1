"""Events: what call events cost the control plane per call, and webhook deliveries/s.

    PYTHONPATH=. .venv/bin/python bench/events.py [--copies 100] [--deliveries 5000]

1. AMI per-call cost. Replays bench/fixtures/ami-calls.txt (a real AMI stream of the live
   call tests) through the service's own path, twice: as the control plane saw it before
   events (only `Cdr` let through by manager.conf's filter: parse, CallRecorder's batched
   writes) and as it sees it now (`Cdr`, `DialBegin`, `DialEnd`, each carrying the
   `channelvars` PBX_TENANT/PBX_ROUTE/PBX_DIALLED, added to the fixture's events here;
   CallEvents' batched outbox writes of call.ringing/answered, call.ended with the records).
   CPU per call = process CPU / calls (one process, one thread).
2. Webhook deliveries/s: --deliveries events owed to --webhooks webhooks (one tenant each),
   delivered by the WebhookDispatcher (signing, SSRF-guarded resolver, aiohttp client, the
   deliveries table updated) to a local aiohttp receiver in another process answering 200.
Prints figures; asserts nothing about time. See bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import machine, print_machine  # noqa: E402
from bench.ingest import FIXTURE, copies, feed, parser  # noqa: E402
from pbx.calls.recorder import CallRecorder  # noqa: E402
from pbx.db.engine import make_engine, make_sessionmaker  # noqa: E402
from pbx.db.event_tables import EventRow, Webhook, WebhookDelivery  # noqa: E402
from pbx.db.migrate import upgrade  # noqa: E402
from pbx.db.models import Tenant  # noqa: E402
from pbx.db.unit import Database  # noqa: E402
from pbx.eventing.calls import CallEvents  # noqa: E402
from pbx.eventing.dispatcher import WebhookDispatcher  # noqa: E402
from pbx.eventing.retry import RetrySchedule  # noqa: E402
from pbx.eventing.sender import Sender  # noqa: E402
from pbx.eventing.ssrf import allowed_networks  # noqa: E402
from pbx.events import EventBus  # noqa: E402

_PASSED = ("Cdr", "DialBegin", "DialEnd")
_VARS = b"ChanVariable: PBX_TENANT=1\r\nChanVariable: PBX_ROUTE=route\r\nChanVariable: PBX_DIALLED=102\r\n"


def filtered(stream: bytes, names: tuple[str, ...]) -> bytes:
    """What manager.conf's eventfilter lets through, with the channelvars Asterisk adds."""
    head, body = stream.split(b"\r\n\r\n", 1)
    kept = []
    for event in body.split(b"\r\n\r\n"):
        name = re.match(rb"Event: (\w+)", event)
        if name and name.group(1).decode() in names:
            kept.append(event + b"\r\n" + _VARS.rstrip(b"\r\n") if len(names) > 1 else event)
    return head + b"\r\n\r\n" + b"\r\n\r\n".join(kept) + b"\r\n\r\n"


async def replay(data: list[bytes], database: Database, with_events: bool) -> dict:
    bus = EventBus(database)
    call_events = CallEvents(database, bus)
    recorder = CallRecorder(database, cdr_file=None, queue_max=0,
                            on_calls=call_events.calls_stored if with_events else None)
    protocol = parser(recorder)
    if with_events:
        for name in ("DialBegin", "DialEnd"):
            protocol.factory.register_event(name, call_events.on_dial)
    cpu = time.process_time()
    for chunk in data:
        feed(protocol, chunk)
        if recorder.queue.qsize() >= recorder.batch_max:
            await recorder._write(recorder._take(recorder.batch_max))
        if call_events.queue.qsize() >= call_events.batch_max:
            await call_events._write([call_events.queue.get_nowait() for _ in range(call_events.queue.qsize())])
    while not recorder.queue.empty():
        await recorder._write(recorder._take(recorder.batch_max))
    if not call_events.queue.empty():
        await call_events._write([call_events.queue.get_nowait() for _ in range(call_events.queue.qsize())])
    cpu = time.process_time() - cpu
    async with database.read() as session:
        events = await session.scalar(select(func.count()).select_from(EventRow))
    return {"cpu_s": cpu, "events": events}


async def with_database(url: str, run):
    engine = make_engine(url)
    try:
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        return await run(database)
    finally:
        await engine.dispose()


def fresh_database(folder: Path, name: str, tenants: int) -> str:
    url = f"sqlite+aiosqlite:///{folder / name}"
    upgrade(url)

    async def seed(database):
        async with database.unit() as unit:
            unit.session.add_all([Tenant(id=i, name=f"T{i}", plan="kobi") for i in range(1, tenants + 1)])
    asyncio.run(with_database(url, seed))
    return url


def ami_cost(folder: Path, copies_n: int) -> None:
    stream = FIXTURE.read_bytes()
    calls = copies_n * len(set(re.findall(rb"Linkedid: (\S+)", stream)))
    for label, names, with_events in (("before: Cdr only", ("Cdr",), False),
                                      ("now: Cdr + DialBegin + DialEnd, events", _PASSED, True)):
        data = copies(filtered(stream, names), copies_n)
        url = fresh_database(folder, f"ami-{with_events}.sqlite3", 1)
        got = asyncio.run(with_database(url, lambda db, d=data, w=with_events: replay(d, db, w)))
        print(f"{label:<42} {calls:>6} calls  {got['events']:>6} events  {got['cpu_s']:6.2f} s CPU  "
              f"{1000 * got['cpu_s'] / calls:6.3f} ms CPU per call")


def _receiver(port: int, ready) -> None:
    async def hook(request):
        await request.read()
        return web.Response(status=200)
    app = web.Application()
    app.router.add_post("/hook", hook)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def deliver(database: Database, url: str, events: int, webhooks: int) -> dict:
    async with database.unit() as unit:
        unit.session.add_all([Webhook(tenant_id=i, url=url, events=["*"], secret="s" * 32, enabled=True)
                              for i in range(1, webhooks + 1)])
    bus = EventBus(database)
    for start in range(0, events, 500):
        async with database.unit() as unit:
            for n in range(start, min(events, start + 500)):
                await bus.emit("job.finished", 1 + n % webhooks, {"n": n}, unit=unit)
    dispatcher = WebhookDispatcher(database, bus, Sender(allowed_networks("127.0.0.0/8")), RetrySchedule())
    cpu, wall = time.process_time(), time.perf_counter()
    while await dispatcher.dispatch_due():
        await dispatcher.idle()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await dispatcher.sender.close()
    async with database.read() as session:
        done = await session.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))
    return {"delivered": done, "wall_s": wall, "cpu_s": cpu}


def deliveries(folder: Path, events: int, webhooks: int, port: int) -> None:
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(target=_receiver, args=(port, ready), daemon=True)
    receiver.start()
    try:
        ready.wait(10)
        time.sleep(1)
        url = fresh_database(folder, "hooks.sqlite3", webhooks)
        got = asyncio.run(with_database(url, lambda db: deliver(db, f"http://127.0.0.1:{port}/hook", events,
                                                                webhooks)))
        print(f"webhook deliveries: {got['delivered']:,} of {events:,} to {webhooks} webhooks in "
              f"{got['wall_s']:.2f} s = {got['delivered'] / got['wall_s']:,.0f}/s; dispatcher CPU "
              f"{1000 * got['cpu_s'] / max(1, got['delivered']):.3f} ms per delivery")
    finally:
        receiver.terminate()
        receiver.join(5)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--copies", type=int, default=100)
    options.add_argument("--deliveries", type=int, default=5000)
    options.add_argument("--webhooks", type=int, default=20)
    options.add_argument("--port", type=int, default=38090)
    args = options.parse_args()
    print_machine(machine())
    with tempfile.TemporaryDirectory(prefix="bench-events-") as folder:
        ami_cost(Path(folder), args.copies)
        deliveries(Path(folder), args.deliveries, args.webhooks, args.port)


if __name__ == "__main__":
    sys.exit(main())
