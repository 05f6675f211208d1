"""Event fan-out: calls/s through the real Asterisk with no event consumers, then with 200
WebSocket subscribers and 20 webhooks (target: >= 0.95x the rate with none).

    PYTHONPATH=. .venv/bin/python bench/fanout.py [--concurrency 20] [--seconds 20] [--rounds 2]

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
Prints calls/s, the control plane's CPU per call and how many events reached the consumers;
asserts nothing about time. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.common import (  # noqa: E402
    PORT_OFFSET, bench_parser, bench_run, clock, cpu_seconds, machine, machine_cpu, populate, print_machine,
    start_stack,
)
from bench.cps_asterisks import CARRIER, DIDS, PBX_WATCHER, PBX_WATCHER_CONF, PORTS, start_carrier  # noqa: E402
from bench.cps_calls import VariantResult, offer, watched_calls  # noqa: E402

RECEIVER_PORT = 40070 + PORT_OFFSET  # the 40000 + offset range is this suite's own


def _receiver(port: int, counter, ready) -> None:
    async def hook(_request):
        with counter.get_lock():
            counter.value += 1
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def _subscribers(url: str, count: int, counter, ready, stop) -> None:
    async def one(http) -> None:
        async with http.ws_connect(url, heartbeat=20) as ws:
            ready.release()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    with counter.get_lock():
                        counter.value += 1

    async def main() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            tasks = [asyncio.create_task(one(http)) for _ in range(count)]
            while not stop.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


class Consumers:
    """The 200 subscribers' process, started and stopped around each fanout measurement."""

    def __init__(self, url: str, count: int):
        self.url, self.count = url, count
        self.frames = multiprocessing.Value("q", 0)

    def start(self) -> None:
        self.stop_flag, ready = multiprocessing.Event(), multiprocessing.Semaphore(0)
        self.process = multiprocessing.Process(target=_subscribers,
                                               args=(self.url, self.count, self.frames, ready, self.stop_flag))
        self.process.start()
        for _ in range(self.count):
            if not ready.acquire(timeout=60):
                raise RuntimeError("the WebSocket subscribers did not all connect")

    def stop(self) -> None:
        self.stop_flag.set()
        self.process.join(10)


async def measure(stack, carrier, args, hooks, consumers, tenant) -> list[VariantResult]:
    calls, carrier_ami, pbx_ami = await watched_calls(stack, carrier, CARRIER["ami_port"], PBX_WATCHER)
    results = []
    try:
        for round_no in range(1, args.rounds + 1):
            for name in args.conditions.split(","):
                for hook in hooks:
                    stack.operator.ok("PATCH", f"/tenants/{tenant.id}/webhooks/{hook}",
                                      {"enabled": name in ("fanout", "hooks")})
                if name in ("fanout", "ws"):
                    consumers.start()
                await offer(carrier_ami, calls, DIDS["fastagi"], args.warmup, args.concurrency, 0.0)
                await asyncio.sleep(1.0)
                before = (cpu_seconds(stack.control.process.pid), machine_cpu(), consumers.frames.value)
                made, seconds = await offer(carrier_ami, calls, DIDS["fastagi"], args.seconds, args.concurrency, 0.0)
                after = (cpu_seconds(stack.control.process.pid), machine_cpu(), consumers.frames.value)
                await asyncio.sleep(3.0)  # the last records and their events
                if name in ("fanout", "ws"):
                    consumers.stop()
                result = VariantResult(name, made, seconds, {"control plane": after[0] - before[0],
                                                             "machine": after[1] - before[1],
                                                             "frames": after[2] - before[2]}, round_no)
                results.append(result)
                print(f"  round {round_no} {name:<6}: {len(result.completed())} of {len(made)} calls in "
                      f"{seconds:.1f} s = {result.rate:.1f} calls/s", flush=True)
    finally:
        carrier_ami.close()
        pbx_ami.close()
    return results


def report(info, args, results, delivered: int) -> None:
    print("-" * 90)
    print_machine(info)
    print(f"  {args.concurrency} calls in flight; {args.rounds} round(s) of {args.seconds:g} s per condition")
    print(f"  {'round':>5} {'condition':<9} {'completed':>9} {'calls/s':>8} {'control plane ms/call':>22} "
          f"{'WS frames':>10}")
    for r in results:
        n = max(1, len(r.completed()))
        print(f"  {r.round:>5} {r.name:<9} {n:>9} {r.rate:>8.1f} {r.cpu['control plane'] / n * 1000:>22.2f} "
              f"{r.cpu['frames']:>10}")
    rate = {name: sum(len(r.completed()) for r in results if r.name == name)
            / max(1e-9, sum(r.seconds for r in results if r.name == name)) for name in args.conditions.split(",")}
    for name in set(rate) - {"none", "fanout"}:
        print(f"  {name} alone: {rate[name]:.1f} calls/s = {rate[name] / max(1e-9, rate.get('none', 0)):.2f}x none")
    rate.setdefault("fanout", 0.0)
    ratio = rate["fanout"] / rate["none"] if rate.get("none") else 0.0
    print(f"  webhook deliveries received (all fanout rounds): {delivered}")
    print(f"  target: fanout >= 0.95x none -> {rate['fanout']:.1f} / {rate['none']:.1f} = {ratio:.2f}x: "
          f"{'MET' if ratio >= 0.95 else 'MISSED'}")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=20)
    parser.add_argument("--conditions", default="none,fanout", help="in turn each round: none,fanout[,ws,hooks]")
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
        receiver = multiprocessing.Process(target=_receiver, args=(RECEIVER_PORT, delivered, ready), daemon=True)
        receiver.start()
        ready.wait(10)
        time.sleep(1)
        hooks = [stack.operator.ok("POST", f"/tenants/{tenant.id}/webhooks", {
            "url": f"http://127.0.0.1:{RECEIVER_PORT}/hook", "events": ["*"]})["id"] for _ in range(args.webhooks)]
        ws = stack.operator.base.replace("http://", "ws://")
        consumers = Consumers(f"{ws}/tenants/{tenant.id}/events/stream?token={tenant.token}", args.subscribers)
        started = clock()
        results = asyncio.run(measure(stack, carrier, args, hooks, consumers, tenant))
        time.sleep(5)  # webhook deliveries still under way
        print(f"measured in {clock() - started:.0f} s", flush=True)
        report(machine(stack.asterisk), args, results, delivered.value)
        receiver.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
