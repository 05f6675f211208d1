"""Event fan-out: calls/s through the real Asterisk with no event consumers, then with 200
WebSocket subscribers and 20 webhooks (target: >= 0.95x the rate with none).

    PYTHONPATH=. .venv/bin/python bench/fanout.py [--concurrency 20] [--seconds 8] [--rounds 2]

The stack and carrier of bench/cps.py (the real Asterisk and control plane; a carrier
Asterisk originating calls over AMI to a number routed by FastAGI to a 0.5 s announcement;
a call is complete when the PBX's Hangup shows it ended in pbx-apply/announce). Every
call raises call.ended (its call record), written to the outbox in the record's
transaction. Two conditions, measured in turn each round (drift on a shared VM hits both):
  none    no WebSocket subscriber; the tenant's 20 webhooks disabled (nothing owed)
  fanout  200 WebSocket subscribers of the tenant's stream (in another process, counting
          frames) and the 20 webhooks enabled (`*`), delivering to a receiver in another
          process answering 200
  ws, hooks  (with --conditions) each half of fanout alone, to see which costs what
The consumers stand in for agents' browsers and integrators' servers, which run on other
machines: by default (--consumers idle) their processes run at SCHED_IDLE, on CPU the PBX
leaves idle, and after each measured window the bench waits for them to drain and checks
that every subscriber stayed connected and got every event (no gap, none twice) and that
every webhook delivery owed was received (--consumers normal: the method before
2026-12-01 16:00, consumers competing with the PBX for the 2 cores).
Prints calls/s, the control plane's CPU per call and those counts; asserts nothing about
time. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.common import (  # noqa: E402
    PORT_OFFSET, bench_parser, bench_run, clock, control_and_worker_cpu, cpu_seconds, machine, machine_cpu, populate,
    print_machine, start_stack,
)
from bench.cps_asterisks import CARRIER, DIDS, PBX_WATCHER, PBX_WATCHER_CONF, PORTS, start_carrier  # noqa: E402
from bench.cps_calls import VariantResult, offer, watched_calls  # noqa: E402

RECEIVER_PORT = 40070 + PORT_OFFSET  # the 40000 + offset range is this suite's own


def _lowest_priority(idle: bool) -> None:
    if idle:  # runs only when no other process of the machine wants the CPU
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _receiver(port: int, counter, ready, idle: bool) -> None:
    _lowest_priority(idle)

    async def hook(_request):
        with counter.get_lock():
            counter.value += 1
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def _subscribers(url: str, stats: dict, ready, stop, idle: bool) -> None:
    """stats: per subscriber, the first and last seq received, how many, the close code."""
    _lowest_priority(idle)

    async def one(http, i: int) -> None:
        async with http.ws_connect(url) as ws:  # no client pings, as a browser: the server pings
            ready.release()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    seq = json.loads(message.data)["seq"]
                    stats["first"][i] = stats["first"][i] or seq
                    stats["last"][i], stats["got"][i] = seq, stats["got"][i] + 1
            stats["closed"][i] = ws.close_code or -1

    async def main() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            tasks = [asyncio.create_task(one(http, i)) for i in range(len(stats["got"]))]
            while not stop.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


class Consumers:
    """The subscribers' process, started and stopped around each ws / fanout measurement."""

    def __init__(self, url: str, count: int, idle: bool, receiver_pid: int):
        self.url, self.count, self.idle, self.receiver_pid = url, count, idle, receiver_pid

    def start(self) -> None:
        self.stats = {name: multiprocessing.Array("q", self.count, lock=False)
                      for name in ("first", "last", "got", "closed")}
        self.stop_flag, ready = multiprocessing.Event(), multiprocessing.Semaphore(0)
        self.process = multiprocessing.Process(target=_subscribers,
                                               args=(self.url, self.stats, ready, self.stop_flag, self.idle))
        self.process.start()
        for _ in range(self.count):
            if not ready.acquire(timeout=60):
                raise RuntimeError("the WebSocket subscribers did not all connect")

    def cpu(self) -> float:
        """CPU seconds of the consumers so far: the receiver's, and the subscribers' while they run."""
        running = [self.process.pid] if getattr(self, "process", None) and self.process.is_alive() else []
        return sum(cpu_seconds(pid) for pid in [self.receiver_pid, *running])

    def frames(self) -> int:
        return sum(self.stats["got"]) if hasattr(self, "stats") else 0

    async def drain(self, last_seq: int, timeout: float = 120.0) -> float:
        """Seconds until every subscriber still connected has the tenant's last event."""
        started = clock()
        while clock() - started < timeout and any(
                last < last_seq and not closed for last, closed in zip(self.stats["last"], self.stats["closed"])):
            await asyncio.sleep(0.2)
        return clock() - started

    def check(self, last_seq: int) -> dict:
        """complete: stayed connected and got every event from the first any got to the last, each once."""
        rows = list(zip(*(self.stats[n] for n in ("first", "last", "got", "closed"))))
        first = min((r[0] for r in rows if r[0]), default=0)
        codes = Counter(r[3] for r in rows if r[3])
        return {"subscribers": self.count, "cut off": sum(codes.values()), "close codes": dict(codes),
                "complete": sum(1 for r in rows if r == (first, last_seq, last_seq - first + 1, 0)),
                "late first": sum(1 for r in rows if r[0] != first), "short of last": sum(1 for r in rows if r[1] < last_seq),
                "gaps or twice": sum(1 for r in rows if r[0] and r[2] != r[1] - r[0] + 1),
                "events": last_seq - first + 1 if first else 0}

    def stop(self) -> None:
        self.stop_flag.set()
        self.process.join(10)


async def _sql(stack, statement: str, **params) -> list[tuple]:
    return await asyncio.to_thread(stack.sql, statement, **params)


async def _last_seq(stack, tenant) -> int:
    return (await _sql(stack, "SELECT last_seq FROM event_counters WHERE tenant_id = :t", t=tenant.id))[0][0]


async def drain_deliveries(stack, timeout: float = 300.0) -> float:
    """Seconds until no webhook delivery is pending (the next condition starts clean)."""
    started = clock()
    while clock() - started < timeout:
        if not (await _sql(stack, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"))[0][0]:
            break
        await asyncio.sleep(0.5)
    return clock() - started


async def measure(stack, carrier, args, hooks, consumers, tenant, delivered) -> list[VariantResult]:
    calls, carrier_ami, pbx_ami = await watched_calls(stack, carrier, CARRIER["ami_port"], PBX_WATCHER)
    results = []
    try:
        for round_no in range(1, args.rounds + 1):
            for name in args.conditions.split(","):
                results.append(await one_condition(stack, (carrier_ami, calls), args, hooks, consumers, tenant,
                                                   delivered, name, round_no))
    finally:
        carrier_ami.close()
        pbx_ami.close()
    return results


async def one_condition(stack, carrier, args, hooks, consumers, tenant, delivered, name, round_no) -> VariantResult:
    """One measured window, then after_window."""
    carrier_ami, calls = carrier
    for hook in hooks:
        stack.operator.ok("PATCH", f"/tenants/{tenant.id}/webhooks/{hook}", {"enabled": name in ("fanout", "hooks")})
    if name in ("fanout", "ws"):
        consumers.start()
    await offer(carrier_ami, calls, DIDS["fastagi"], args.warmup, args.concurrency, 0.0)
    await asyncio.sleep(1.0)
    load = os.getloadavg()[0]
    before = (*control_and_worker_cpu(stack.control.process.pid), machine_cpu(), consumers.cpu(), consumers.frames(), delivered.value)
    made, seconds = await offer(carrier_ami, calls, DIDS["fastagi"], args.seconds, args.concurrency, 0.0)
    after = (*control_and_worker_cpu(stack.control.process.pid), machine_cpu(), consumers.cpu(), consumers.frames(), delivered.value)
    await asyncio.sleep(3.0)  # the last records and their events
    checks = {"load": f"{load:.1f}-{os.getloadavg()[0]:.1f}"} | await after_window(stack, consumers, tenant, name)
    result = VariantResult(name, made, seconds, dict(zip(("control plane", "worker", "machine", "consumers", "frames", "deliveries"),
                                                         (b - a for a, b in zip(before, after)))), round_no)
    result.checks = checks
    print(f"  round {round_no} {name:<6}: {len(result.completed())} of {len(made)} calls in "
          f"{seconds:.1f} s = {result.rate:.1f} calls/s; {checks}", flush=True)
    return result


async def after_window(stack, consumers, tenant, name: str) -> dict:
    """Outside the measured window: the consumers drain, and what they got is checked."""
    checks = {}
    if name in ("fanout", "ws"):
        started, last_seq = clock(), None
        while last_seq != (newest := await _last_seq(stack, tenant)):  # a loaded machine's late call records
            last_seq = newest
            await consumers.drain(last_seq)
        checks["drained in s"] = round(clock() - started, 1)
        checks |= consumers.check(last_seq)
        consumers.stop()
    if name in ("fanout", "hooks"):
        checks["deliveries drained in s"] = round(await drain_deliveries(stack), 1)
    return checks


async def webhook_check(stack, delivered) -> str:
    """Every delivery owed (20 per event of a hooks / fanout window) received at least once."""
    await drain_deliveries(stack)
    rows = dict(await _sql(stack, "SELECT status, count(*) FROM webhook_deliveries GROUP BY status"))
    owed = sum(rows.values())
    return (f"webhook deliveries owed {owed}, delivered {rows.get('delivered', 0)}, still pending "
            f"{rows.get('pending', 0)}, other {owed - rows.get('delivered', 0) - rows.get('pending', 0)}; "
            f"POSTs the receiver answered {delivered.value}")


def report(info, args, results, webhooks: str) -> None:
    print("-" * 90)
    print_machine(info)
    print(f"  {args.concurrency} calls in flight; {args.rounds} round(s) of {args.seconds:g} s per condition")
    print(f"  consumers (subscribers, receiver): {args.consumers} priority")
    print(f"  {'round':>5} {'condition':<9} {'completed':>9} {'calls/s':>8} {'control plane ms/call':>22} "
          f"{'worker ms/call':>15} {'PBX ms/call':>12} {'cores busy':>10} {'WS frames':>10} {'deliveries':>10}  "
          "checks after the window")
    for r in results:
        n = max(1, len(r.completed()))
        print(f"  {r.round:>5} {r.name:<9} {n:>9} {r.rate:>8.1f} {r.cpu['control plane'] / n * 1000:>22.2f} "
              f"{r.cpu['worker'] / n * 1000:>15.2f} {_pbx_ms_per_call(r):>12.2f} {r.cpu['machine'] / r.seconds:>10.2f} "
              f"{r.cpu['frames']:>10} {r.cpu['deliveries']:>10}  {r.checks}")
    rate = {name: sum(len(r.completed()) for r in results if r.name == name)
            / max(1e-9, sum(r.seconds for r in results if r.name == name)) for name in args.conditions.split(",")}
    for name in set(rate) - {"none", "fanout"}:
        print(f"  {name} alone: {rate[name]:.1f} calls/s = {rate[name] / max(1e-9, rate.get('none', 0)):.2f}x none")
    pbx = {name: statistics.median(_pbx_ms_per_call(r) for r in results if r.name == name) for name in rate}
    if pbx.get("none") and pbx.get("fanout"):
        print(f"  the machine's CPU per call less the consumers' (PBX ms/call), median: none {pbx['none']:.2f}, "
              f"fanout {pbx['fanout']:.2f}: a saturated PBX would route {pbx['none'] / pbx['fanout']:.2f}x the calls "
              "with the consumers on other machines")
    rounds = sorted(_round_ratios(results))
    if rounds:
        print(f"  fanout / none per round: {', '.join(f'{x:.2f}' for x in rounds)}; "
              f"median {statistics.median(rounds):.2f}x")
    rate.setdefault("fanout", 0.0)
    rate.setdefault("none", 0.0)
    ratio = rate["fanout"] / rate["none"] if rate.get("none") else 0.0
    print(f"  {webhooks}")
    cut = sum(r.checks.get("cut off", 0) for r in results)
    incomplete = sum(r.checks["subscribers"] - r.checks["complete"] for r in results if "subscribers" in r.checks)
    print(f"  subscribers cut off: {cut}; subscribers missing an event: {incomplete}")
    proven = not incomplete and "pending 0, other 0" in webhooks
    verdict = ("MET" if ratio >= 0.95 else "MISSED") if proven else "NOT PROVEN (a consumer missed events)"
    print(f"  target: fanout >= 0.95x none -> {rate['fanout']:.1f} / {rate['none']:.1f} = {ratio:.2f}x: {verdict}; "
          "calls/s on a shared machine move with its load: read the control plane's ms per call beside it")


def _pbx_ms_per_call(r) -> float:
    """Every process of the machine but the consumers (which stand for other machines), per call:
    Asterisk, the carrier Asterisk and this bench's driver included."""
    return (r.cpu["machine"] - r.cpu["consumers"]) / max(1, len(r.completed())) * 1000


def _round_ratios(results) -> list[float]:
    """Each round's fanout rate over its none rate: the two windows of a round are seconds apart,
    so the machine's drift moves both; rounds minutes apart do not compare as well."""
    by_round: dict[int, dict[str, float]] = {}
    for r in results:
        by_round.setdefault(r.round, {})[r.name] = r.rate
    return [x["fanout"] / x["none"] for x in by_round.values() if x.get("none") and "fanout" in x]


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)  # see bench/README.md: starved consumers
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=20)
    parser.add_argument("--conditions", default="none,fanout", help="in turn each round: none,fanout[,ws,hooks]")
    parser.add_argument("--consumers", choices=("idle", "normal"), default="idle",
                        help="the subscribers' and receiver's CPU priority: SCHED_IDLE (default) or as the PBX's")
    args = parser.parse_args()
    with bench_run("pbx-bench-fanout-", args.keep) as tmp:
        stack = start_stack(tmp, PORTS)
        carrier = start_carrier(tmp)
        stack.operator.ok("POST", "/trunks", {"name": "Bench carrier", "host": CARRIER["address"],
                                              "port": CARRIER["sip_port"], "match": [CARRIER["address"]]})
        tenant = asyncio.run(populate(stack.operator.base, stack.operator.token, 1, 1, concurrency=1))[0]
        stack.operator.ok("POST", f"/tenants/{tenant.id}/numbers", {
            "number": DIDS["fastagi"], "destination": {"type": "announcement", "prompt_id": tenant.prompt_id}})
        with open(stack.asterisk.instance / "etc" / "manager.conf", "a") as conf:
            conf.write(PBX_WATCHER_CONF.format(user=PBX_WATCHER, secret=carrier.settings.ami_secret))
        stack.asterisk.cli("manager reload")
        delivered, ready = multiprocessing.Value("q", 0), multiprocessing.Event()
        idle = args.consumers == "idle"
        receiver = multiprocessing.Process(target=_receiver, args=(RECEIVER_PORT, delivered, ready, idle), daemon=True)
        receiver.start()
        ready.wait(10)
        time.sleep(1)
        hooks = [stack.operator.ok("POST", f"/tenants/{tenant.id}/webhooks", {
            "url": f"http://127.0.0.1:{RECEIVER_PORT}/hook", "events": ["*"]})["id"] for _ in range(args.webhooks)]
        ws = stack.operator.base.replace("http://", "ws://")
        consumers = Consumers(f"{ws}/tenants/{tenant.id}/events/stream?token={tenant.token}", args.subscribers, idle,
                              receiver.pid)
        started = clock()
        results = asyncio.run(measure(stack, carrier, args, hooks, consumers, tenant, delivered))
        webhooks = asyncio.run(webhook_check(stack, delivered))
        print(f"measured in {clock() - started:.0f} s", flush=True)
        report(machine(stack.asterisk), args, results, webhooks)
        receiver.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
