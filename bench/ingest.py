"""AMI event ingestion for call records: events per second per core, from a recorded stream.

Replays bench/fixtures/ami-calls.txt (a real AMI stream recorded with
bench/record_ami.py while the live call tests ran: Newchannel, Newstate, Dial*,
Bridge*, Hangup, RTCP*, Cdr, TestEvent, ...) through the service's own path:
panoramisk's AMI protocol parser -> its event dispatch (the `Cdr` filter) ->
CallRecorder.on_cdr (pbx/calls/legs.py parsing, queue) -> either folding the legs
into calls in memory (pbx/calls/fold.py), or CallRecorder's batched write (one
transaction per batch: legs upserted, calls folded and upserted) into SQLite.
Each replay gets fresh Asterisk ids, so every copy is new calls, not a replay.
One process, one thread: events per CPU second = events per second per core.

    cd /work/main && PYTHONPATH=. .venv/bin/python bench/ingest.py [--copies 300] [--db-copies 100]
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from bench.common import machine, print_machine
from pbx.calls.fold import fold
from pbx.calls.recorder import CallRecorder
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.unit import Database

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ami-calls.txt"
_ASTERISK_ID = re.compile(rb"\b(\d{10})\.(\d+)\b")


class NullTransport:
    def write(self, _data) -> None:
        pass


def copies(stream: bytes, count: int) -> list[bytes]:
    """The stream `count` times, each with its own uniqueids and linkedids."""
    body = stream.split(b"\r\n\r\n", 1)[1]  # after the banner and login reply
    return [_ASTERISK_ID.sub(lambda m, i=i: b"%d.%s" % (int(m.group(1)) + i * 100_000, m.group(2)), body)
            for i in range(count)]


def parser(recorder: CallRecorder) -> AMIProtocol:
    manager = Manager(loop=asyncio.get_running_loop())
    manager.register_event("Cdr", recorder.on_cdr)  # what Ami.on_event does
    protocol = AMIProtocol()
    protocol.connection_made(NullTransport())
    protocol.factory, protocol.version = manager, "bench"
    return protocol


def feed(protocol: AMIProtocol, data: bytes) -> None:
    for start in range(0, len(data), 65536):  # as a socket delivers it
        protocol.data_received(data[start:start + 65536])


def fold_in_memory(recorder: CallRecorder) -> int:
    grouped = defaultdict(list)
    for leg in recorder._take(recorder.queue.qsize()):
        grouped[leg.linkedid].append(leg)
    return len([fold(legs) for legs in grouped.values()])


async def run(data: list[bytes], database: Database | None) -> dict:
    recorder = CallRecorder(database, cdr_file=None, queue_max=0)
    protocol = parser(recorder)
    events = sum(chunk.count(b"\r\n\r\n") for chunk in data)
    calls = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for chunk in data:
        feed(protocol, chunk)
        if database is None:
            calls += fold_in_memory(recorder)
        elif recorder.queue.qsize() >= recorder.batch_max:
            await recorder._write(recorder._take(recorder.batch_max))
    if database is not None:
        while not recorder.queue.empty():
            await recorder._write(recorder._take(recorder.batch_max))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"events": events, "calls": calls, "cpu_s": cpu, "wall_s": wall, "per_core": events / cpu}


def migrated_database(folder: Path) -> str:
    url = f"sqlite+aiosqlite:///{folder / 'pbx.sqlite3'}"
    upgrade(url)  # runs its own event loop: before ours
    return url


async def with_database(data: list[bytes], url: str) -> dict:
    engine = make_engine(url)
    try:
        return await run(data, Database(make_sessionmaker(engine), serialize_writes=True))
    finally:
        await engine.dispose()


def report(name: str, figures: dict) -> None:
    print(f"{name:<34} {figures['events']:>9,} events  {figures['cpu_s']:6.2f} s CPU  {figures['wall_s']:6.2f} s wall"
          f"  {figures['per_core']:>10,.0f} events/s per core")


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--copies", type=int, default=300)
    options.add_argument("--db-copies", type=int, default=100)
    args = options.parse_args()
    stream = FIXTURE.read_bytes()
    kinds = Counter(name.decode() for name in re.findall(rb"^Event: (\w+)", stream, re.M))
    print_machine(machine())
    print(f"Fixture: {FIXTURE.name}, {len(stream):,} bytes, {sum(kinds.values())} events: "
          + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    report("parse + filter + fold (no DB)", asyncio.run(run(copies(stream, args.copies), None)))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:  # removed afterwards, errors included
        url = migrated_database(Path(folder))
        report("parse + filter + batched DB writes", asyncio.run(with_database(copies(stream, args.db_copies), url)))


if __name__ == "__main__":
    sys.exit(main())
