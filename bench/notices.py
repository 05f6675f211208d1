"""Outage notice fan-out: one fault concerning every tenant, two contacts each (SMS and e-mail).

    PYTHONPATH=. .venv/bin/python bench/notices.py [--tenants 1000] [--profile] [--stand-ins idle|normal]

Starts the real stack (Asterisk + the control plane, SQLite) on its own ports, makes
--tenants tenants through the API with two notice contacts each (sms + email), and a default
outbound trunk. Then an operator opens a fault on that trunk, which concerns every tenant:
2 x tenants SMS (to the local Netgsm stand-in, tests/support/notices.py) and as many e-mails
(to a local aiosmtpd; both in a process of their own) are owed. Measures the time from the
fault's 201 until the servers have accepted all of them (target < 60 s), while FastAGI routing decisions for inbound calls
run in a closed loop (10 in flight) against the same control plane: their rate and latency
before and during the fan-out. --profile: py-spy (if installed in the venv) samples the
control plane during the fan-out and the top frames are printed. Prints figures; asserts
nothing about time. Also prints the cores each process kept busy before and during the fan-out:
the control plane, its outbound worker (which sends the SMS and e-mails, at nice +10), the
stand-ins (at SCHED_IDLE by default, as servers on other machines would take none of the
PBX's CPU; --stand-ins normal: as the PBX's, the method before 2026-12-01 20:00) and this process's routing load. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agi_sessions import CARRIER, PORTS, closed_loop, workloads  # noqa: E402
from bench.common import (bench_parser, bench_run, clock, control_and_worker_cpu, cpu_seconds,  # noqa: E402
                          machine, machine_cpu, pct, populate, print_machine, start_stack, trunk_sip_id)
from tests.support.notices import SmsServer, SmtpServer  # noqa: E402


async def tenants_with_contacts(base: str, token: str, count: int, concurrency: int = 8) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    indexes = iter(range(count))

    async def worker(http):
        for i in indexes:
            async with http.post(f"{base}/tenants", json={"name": f"Bildirim {i}", "plan": "kobi"}, headers=headers) as r:
                tid = (await r.json())["id"]
            contacts = [{"name": f"Kişi {i}-{k}", "phone": f"+9053{i % 100:02d}{i:05d}{k}"[:13],
                         "email": f"k{k}@t{i}.example.com", "channels": ["sms", "email"]} for k in (1, 2)]
            async with http.put(f"{base}/tenants/{tid}/notice-contacts", json={"contacts": contacts},
                                headers=headers) as r:
                assert r.status == 200, await r.text()

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))


def start_profile(pid: int, out: Path) -> subprocess.Popen | None:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        print("  py-spy is not installed in the venv: no profile")
        return None
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                             "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def report_profile(spy: subprocess.Popen | None, raw: Path) -> None:
    """Which of the control plane's own functions (pbx/) the samples were in, and the top leaves."""
    if spy is None:
        return
    spy.send_signal(2)
    spy.wait(30)
    own, leaves, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames, count = stack.split(";"), int(count)
        total += count
        leaves[frames[-1]] += count
        for frame in {f for f in frames if "pbx/" in f and "idle" not in f}:
            own[frame] += count
    print(f"  py-spy: {total} samples of the control plane during the fan-out; in pbx/ functions (inclusive):")
    for frame, n in own.most_common(12):
        print(f"    {n / max(total, 1):6.1%}  {frame}")
    print("  top leaves:")
    for frame, n in leaves.most_common(8):
        print(f"    {n / max(total, 1):6.1%}  {frame}")


class Receivers:
    """The local SMS and SMTP servers in a process of their own, so this one's routing load
    (which runs flat out and would hold the GIL) does not slow their accepting; they count the
    messages about `fault_id` once it is set."""

    def __init__(self, idle: bool):
        context = multiprocessing.get_context("spawn")
        self.fault_id, self.counts, ready = context.Value("i", 0), context.Array("i", 2), context.Event()
        self.process = context.Process(target=_receive, args=(self.fault_id, self.counts, ready, idle), daemon=True)
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError("the SMS and SMTP stand-ins did not start")

    def accepted(self) -> dict[str, int]:
        return {"sms": self.counts[0], "email": self.counts[1]}

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _receive(fault_id, counts, ready, idle: bool) -> None:
    if idle:  # the provider's servers are on other machines: here, only CPU the PBX leaves idle
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    sms, smtp = SmsServer(), SmtpServer()
    ready.set()
    while not fault_id.value:
        time.sleep(0.05)
    # Only this fault's notices count: the bench carrier answers no OPTIONS, so the system may
    # have opened a fault of its own (and told the tenants made before it) meanwhile.
    mark = f"#{fault_id.value}"
    tallies = (Tally(sms.messages, lambda m: mark in m["msg"]), Tally(smtp.messages, lambda m: mark in m["Subject"]))
    while True:
        counts[0], counts[1] = tallies[0](), tallies[1]()
        time.sleep(0.05)


class Tally:
    """How many of a server's messages match, looking at each new one once (the polling shares
    this process with the stand-in servers and the routing load: rescanning all would slow them)."""

    def __init__(self, messages: list, matches):
        self.messages, self.matches, self.seen, self.count = messages, matches, 0, 0

    def __call__(self) -> int:
        new = self.messages[self.seen:]
        self.seen += len(new)
        self.count += sum(1 for m in new if self.matches(m))
        return self.count


def cpu(stack, receivers: Receivers) -> dict[str, float]:
    """CPU seconds so far of the control plane (without its worker), its outbound worker, the
    SMS/SMTP stand-ins, this process (the routing load) and the machine."""
    control, worker = control_and_worker_cpu(stack.control.process.pid)
    return {"control plane": control, "worker": worker,
            "stand-ins": cpu_seconds(receivers.process.pid), "routing load": cpu_seconds(os.getpid(), alone=True),
            "machine": machine_cpu()}


async def fan_out(stack, receivers: Receivers, work, owed: int) -> dict:
    port = stack.settings.agi_port
    cpu_before = cpu(stack, receivers)
    before = await closed_loop(port, work, 10, 5000, seed=1)
    cpu_before = {k: v - cpu_before[k] for k, v in cpu(stack, receivers).items()}
    cpu_during = cpu(stack, receivers)
    started = clock()
    stop = asyncio.Event()
    during = []

    async def routing():
        n = 2
        while not stop.is_set():
            during.append(await closed_loop(port, work, 10, 200, seed=n))
            n += 1

    load = asyncio.create_task(routing())
    trunk_id = stack.operator.ok("GET", "/trunks")["items"][0]["id"]
    fault = await asyncio.to_thread(stack.operator.ok, "POST", "/faults",
                                    {"title": "Ana hat kesintisi", "priority": "kritik", "trunk_id": trunk_id})
    receivers.fault_id.value = fault["id"]
    accepted_at = {}
    while len(accepted_at) < 2:
        for name, count in receivers.accepted().items():
            if name not in accepted_at and count >= owed:
                accepted_at[name] = clock() - started
        if clock() - started > 600:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await load
    cpu_during = {k: v - cpu_during[k] for k, v in cpu(stack, receivers).items()}
    after = await closed_loop(port, work, 10, 5000, seed=0)  # the rate again: the machine drifts
    latencies = [x for run in during for x in run.latencies]
    return {"fault": fault["id"], "accepted": accepted_at, **receivers.accepted(),
            "cpu share before": _shares(cpu_before, before.seconds), "cpu share during": _shares(
                cpu_during, sum(r.seconds for r in during)),
            "before": before, "after": after, "during_rate": len(latencies) / sum(r.seconds for r in during) if during else 0.0,
            "during_p50": pct(latencies, 50), "during_p99": pct(latencies, 99),
            "during_wrong": sum(r.wrong for r in during), "during_errors": sum(sum(r.errors.values()) for r in during)}


def _shares(seconds: dict[str, float], wall_s: float) -> str:
    """Cores each kept busy over the window."""
    return ", ".join(f"{name} {value / max(wall_s, 1e-9):.2f}" for name, value in seconds.items())


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="sample the control plane with py-spy")
    parser.add_argument("--stand-ins", choices=("idle", "normal"), default="idle",
                        help="the SMS/SMTP stand-ins' CPU priority: SCHED_IDLE (default: the providers' "
                             "servers are other machines, as bench/fanout.py's consumers) or as the PBX's")
    args = parser.parse_args()
    receivers = Receivers(args.stand_ins == "idle")
    try:
        with bench_run("pbx-bench-notices-", args.keep) as tmp:
            stack = start_stack(tmp, PORTS)
            print_machine(machine(stack.asterisk))
            stack.operator.ok("POST", "/trunks", {"name": "Bench carrier", "host": CARRIER, "port": 5060,
                                                  "match": [CARRIER], "default_outbound": True})
            routed = asyncio.run(populate(stack.operator.base, stack.operator.token, 10, 3))
            work = workloads(routed, trunk_sip_id(stack.settings, "Bench carrier"), stack.settings.agi_secret)[0]
            started = clock()
            asyncio.run(tenants_with_contacts(stack.operator.base, stack.operator.token, args.tenants))
            print(f"{args.tenants} tenants with 2 contacts each made in {clock() - started:.1f} s", flush=True)
            time.sleep(3)
            owed = 2 * args.tenants
            spy = start_profile(stack.control.process.pid, tmp / "fan-out.raw") if args.profile else None
            result = asyncio.run(fan_out(stack, receivers, work, owed))
            report_profile(spy, tmp / "fan-out.raw")
            before = result["before"]
            print(f"owed: {owed} SMS and {owed} e-mails; accepted: {result['sms']} SMS, {result['email']} e-mails")
            for name in ("sms", "email"):
                seconds = result["accepted"].get(name)
                print(f"  all {name} accepted after: {seconds:.1f} s" if seconds else f"  {name}: NOT all accepted")
            after = result["after"]
            print(f"routing decisions (inbound, 10 in flight): before {before.rate:.0f}/s "
                  f"p50 {pct(before.latencies, 50) * 1000:.1f} ms p99 {pct(before.latencies, 99) * 1000:.1f} ms; "
                  f"during fan-out {result['during_rate']:.0f}/s p50 {result['during_p50'] * 1000:.1f} ms "
                  f"p99 {result['during_p99'] * 1000:.1f} ms, wrong {result['during_wrong']}, "
                  f"errors {result['during_errors']}; after {after.rate:.0f}/s")
            print(f"  during / mean(before, after) = "
                  f"{result['during_rate'] / ((before.rate + after.rate) / 2):.2f}x the rate without the fan-out")
            print(f"cores busy (stand-ins {args.stand_ins}): before: {result['cpu share before']}\n"
                  f"                 during: {result['cpu share during']}")
    finally:
        receivers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
