"""Calls per second through the real Asterisk: FastAGI routing vs static dialplan vs classic AGI.

    PYTHONPATH=. .venv/bin/python bench/cps.py [--concurrency 20] [--seconds 30]

Two Asterisk 22 instances from the cached Debian root, on this machine, own ports:

- the PBX: the real stack (Asterisk + the control plane as a subprocess, SQLite), with one
  tenant, a 0.5 s prompt, and numbers to an announcement of it; run from a root that also
  holds Debian's python3 (built once with debootstrap beside the product's root, ~1 min), so
  that a classic AGI script can run inside it;
- the carrier: a second AsteriskProcess bound to 127.0.5.20, defined in the PBX as a trunk
  through the API (match 127.0.5.20), with its own pjsip.conf / manager.conf. The bench
  originates calls on it over AMI (PJSIP/<number>@pbx, application Hangup: the carrier hangs
  up as soon as the PBX answers, so the figure is routing + SIP signalling, not media length).

Three ways to route the same kind of number, all ending in the product's [pbx-apply]
announce step (Answer, then the prompt):
  fastagi  the product's dialplan: pbx-inbound -> pbx-route -> AGI(agi://control plane/inbound)
  static   the same steps as static dialplan: the variables the control plane decides for the
           fastagi number, frozen into a context (no AGI at all)
  classic  the same steps with AGI(/tmp/bench/agi/route.py): a process per call (Debian's
           python3 + pyst2) making the same lookups with sqlite3 (bench/agi/route.py)
  classic-sh  for scale, the floor of any process-per-call AGI: a /bin/sh script that sets the
           frozen decision (no database, no Python)
The bench dialplan is appended to the PBX instance's extensions.conf (exact extensions for
the static and classic numbers in [pbx-inbound]), then `dialplan reload`.

First --prewarm seconds of unmeasured calls bring the PBX Asterisk to its steady-state size
(it grows from ~60 MiB to ~1 GiB over its first few thousand calls, then levels off; a classic
AGI fork()s all of it). Then each variant: a short warm-up, then --seconds with --concurrency
calls always in flight. A
call is completed when the carrier saw it answered and hung up, and the PBX's Hangup event
for it (matched by a per-call caller number; seen by the bench's own AMI user, appended
to the PBX's manager.conf) shows it ended in pbx-apply/announce; anything
else is failed. Prints figures; asserts nothing about time. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_parser,
    bench_run,
    clock,
    cpu_seconds,
    machine,
    machine_cpu,
    own_cpu,
    populate,
    print_machine,
    process_tree,
    start_stack,
    steal_cpu,
    summary_ms,
    trunk_sip_id,
)
from bench.cps_asterisks import (
    CARRIER,
    DIDS,
    PBX_WATCHER,
    PBX_WATCHER_CONF,
    PORTS,
    PbxAsterisk,
    bench_dialplan,
    fastagi_decision,
    prepare_bench_dir,
    start_carrier,
    write_shell_agi,
)
from bench.cps_calls import VariantResult, offer, watched_calls


def asterisk_shape(asterisk) -> str:
    """Size of the PBX Asterisk process (what fork() has to copy for a classic AGI)."""
    pid = next((p for p in process_tree(asterisk.process.pid) if p != asterisk.process.pid), asterisk.process.pid)
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    maps = len(Path(f"/proc/{pid}/maps").read_text().splitlines())
    return (f"Asterisk RSS {int(status['VmRSS'].split()[0]) / 1024:.0f} MiB, virtual "
            f"{int(status['VmSize'].split()[0]) / 1024:.0f} MiB, {status['Threads'].strip()} threads, {maps} mappings")


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:", 1)[1].split()[0]) / 1024


def cpu_snapshot(pbx, carrier, control) -> dict:
    own = cpu_seconds(pbx.process.pid)
    return {"PBX Asterisk": own, "AGI scripts": cpu_seconds(pbx.process.pid, reaped_children=True) - own,
            "control plane": cpu_seconds(control.process.pid),
            "carrier Asterisk": cpu_seconds(carrier.process.pid),
            "bench client": own_cpu(), "machine": machine_cpu(), "steal": steal_cpu()}


async def run_all(stack, carrier, args, variants: list[str]) -> list[VariantResult]:
    calls, carrier_ami, pbx_ami = await watched_calls(stack, carrier, CARRIER["ami_port"], PBX_WATCHER)
    results = []
    try:
        if args.prewarm > 0:
            # Asterisk's resident size grows with its first few thousand calls, then levels off
            # (allocator arenas); a classic AGI fork()s all of it, so every variant is measured
            # against the same, steady-state Asterisk, as a server that has been up for a while.
            print(f"  pre-warm: {args.prewarm:g} s of static calls; before it: {asterisk_shape(stack.asterisk)}",
                  flush=True)
            made, _ = await offer(carrier_ami, calls, DIDS["static"], args.prewarm, args.concurrency, args.hold)
            await asyncio.sleep(2.0)
            print(f"  pre-warm: {len(made)} calls", flush=True)
        for round_no in range(1, args.rounds + 1):
            for name in variants:
                did = DIDS[name]
                print(f"  round {round_no}, {name}: warm-up {args.warmup:g} s; before it: "
                      f"{asterisk_shape(stack.asterisk)}; control plane RSS "
                      f"{rss_mib(stack.control.process.pid):.0f} MiB", flush=True)
                await offer(carrier_ami, calls, did, args.warmup, args.concurrency, args.hold)
                await asyncio.sleep(1.0)
                before = cpu_snapshot(stack.asterisk, carrier, stack.control)
                made, seconds = await offer(carrier_ami, calls, did, args.seconds, args.concurrency, args.hold)
                after = cpu_snapshot(stack.asterisk, carrier, stack.control)
                await asyncio.sleep(2.0)  # the PBX's last Hangup events
                result = VariantResult(name, made, seconds, {k: after[k] - before[k] for k in before}, round_no)
                results.append(result)
                report_variant(result)
                await asyncio.sleep(2.0)
    finally:
        carrier_ami.close()
        pbx_ami.close()
    return results


# ---- report ----------------------------------------------------------------------------------
def report_variant(r: VariantResult) -> None:
    done = r.completed()
    setup = [c.answered - c.started for c in done]
    s = summary_ms(setup) if setup else {"p50": 0, "p99": 0}
    print(f"  {r.name:<8} attempted {len(r.calls):>6}  completed {len(done):>6}  failed "
          f"{len(r.calls) - len(done):>4}  in {r.seconds:5.1f} s = {r.rate:7.1f} calls/s;  answer after "
          f"p50 {s['p50']:.1f} ms p99 {s['p99']:.1f} ms", flush=True)
    failures = collections.Counter(c.outcome() for c in r.calls if c.outcome() != "completed")
    for why, n in failures.most_common(5):
        print(f"      {n:>5} x {why}")


def merged(results: list[VariantResult]) -> list[VariantResult]:
    """Each variant's rounds as one: calls, seconds and CPU summed."""
    out: dict[str, VariantResult] = {}
    for r in results:
        total = out.setdefault(r.name, VariantResult(r.name, [], 0.0, dict.fromkeys(r.cpu, 0.0)))
        total.calls += r.calls
        total.seconds += r.seconds
        for k, v in r.cpu.items():
            total.cpu[k] += v
    return list(out.values())


def report(info, args, results: list[VariantResult]) -> None:
    line = "-" * 100
    print("\n" + line)
    print_machine(info)
    print(f"  offered concurrency {args.concurrency} calls; {args.rounds} round(s) of {args.seconds:g} s per variant, "
          f"variants interleaved; carrier "
          f"{'hangs up at answer' if args.hold <= 0 else f'holds {args.hold:g} s after answer'}")
    print(line)
    print(f"  {'round':>5} {'variant':<10} {'attempted':>9} {'completed':>9} {'failed':>6} {'calls/s':>8} "
          f"{'originate->answer p50':>21} {'p99':>8} {'PBX Asterisk':>13} {'control plane':>14}")
    totals = merged(results)
    for label, r in [(str(r.round), r) for r in results] + [("all", t) for t in totals]:
        done = r.completed()
        setup = summary_ms([c.answered - c.started for c in done]) if done else {"p50": 0, "p99": 0}
        n = max(1, len(done))
        print(f"  {label:>5} {r.name:<10} {len(r.calls):>9} {len(done):>9} {len(r.calls) - len(done):>6} "
              f"{r.rate:>8.1f} {setup['p50']:>18.1f} ms {setup['p99']:>5.1f} ms "
              f"{r.cpu['PBX Asterisk'] / n * 1000:>8.2f} ms/call {r.cpu['control plane'] / n * 1000:>6.2f} ms/call")
    print("  CPU per completed call (ms; 2 cores = 2,000 ms/s), all rounds:")
    keys = [k for k in (totals[0].cpu if totals else {}) if k not in ("machine", "steal")]
    print(f"  {'variant':<10} " + " ".join(f"{k:>16}" for k in keys) + f" {'all of these':>13} "
          f"{'anything else':>14} {'steal':>6}")
    cores = os.cpu_count() or 1
    for r in totals:
        n = max(1, len(r.completed()))
        ours = sum(r.cpu[k] for k in keys)
        others = max(0.0, r.cpu["machine"] - ours)
        print(f"  {r.name:<10} " + " ".join(f"{r.cpu[k] / n * 1000:>16.2f}" for k in keys) +
              f" {ours / r.seconds / cores:>12.0%} {others / r.seconds / cores:>13.0%} "
              f"{r.cpu['steal'] / r.seconds / cores:>5.0%}")
    print("  (last three columns: share of the machine's 2 cores busy during the run; 'anything else' is\n"
          "   other processes, e.g. a test suite started meanwhile, and 'steal' the hypervisor's: the\n"
          "   figures are only clean near 0 %)")
    rates = {r.name: r.rate for r in totals}

    def per_round(a: str, b: str) -> str:
        by = {(r.round, r.name): r.rate for r in results}
        ratios = [by[n, a] / by[n, b] for n in range(1, args.rounds + 1) if by.get((n, b))]
        return ", ".join(f"{x:.2f}x" for x in ratios)

    if "fastagi" in rates and "static" in rates and rates["static"]:
        ratio = rates["fastagi"] / rates["static"]
        print(f"  target: FastAGI >= 0.9x static dialplan -> {ratio:.2f}x over all rounds "
              f"(round by round: {per_round('fastagi', 'static')}): {'MET' if ratio >= 0.9 else 'MISSED'}")
    if "fastagi" in rates and "classic-sh" in rates and rates["classic-sh"]:
        print(f"  (for scale: FastAGI / classic AGI in /bin/sh, no database -> "
              f"{rates['fastagi'] / rates['classic-sh']:.1f}x)")
    if "fastagi" in rates and "classic" in rates and rates["classic"]:
        ratio = rates["fastagi"] / rates["classic"]
        print(f"  target: FastAGI >= 10x classic AGI (python3 + pyst2) -> {ratio:.1f}x: "
              f"{'MET' if ratio >= 10 else 'MISSED'}")
    print(line)


# ---- main ------------------------------------------------------------------------------------
def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--concurrency", type=int, default=20, help="calls in flight")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per variant and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="variants measured in turn this many times (drift on a shared VM hits all alike)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time before each variant")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds the carrier stays after answer")
    parser.add_argument("--prewarm", type=float, default=30.0,
                        help="unmeasured seconds of static calls first, to bring Asterisk to its steady size")
    parser.add_argument("--variants", default="static,fastagi,classic,classic-sh",
                        help="comma-separated, in order")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(DIDS):
        parser.error(f"unknown variants {unknown}")

    with bench_run("pbx-bench-cps-", args.keep) as tmp:
        started = clock()
        PbxAsterisk.bench_dir = prepare_bench_dir(tmp / "bench")
        stack = start_stack(tmp, PORTS, asterisk_class=PbxAsterisk)
        carrier = start_carrier(tmp)
        print(f"PBX stack and carrier up in {clock() - started:.1f} s (temp dir {tmp})", flush=True)
        stack.operator.ok("POST", "/trunks", {"name": "Bench carrier", "host": CARRIER["address"],
                                              "port": CARRIER["sip_port"], "match": [CARRIER["address"]]})
        trunk_id = trunk_sip_id(stack.settings, "Bench carrier")
        tenants = asyncio.run(populate(stack.operator.base, stack.operator.token, 1, 5, concurrency=1))
        tenant = tenants[0]
        for name in ("fastagi", "classic"):
            stack.operator.ok("POST", f"/tenants/{tenant.id}/numbers", {  # allocates it to the tenant too
                "number": DIDS[name], "destination": {"type": "announcement", "prompt_id": tenant.prompt_id}})
        decision = asyncio.run(fastagi_decision(stack.settings.agi_port, DIDS["fastagi"], trunk_id))
        print(f"control plane's decision for {DIDS['fastagi']}: {decision}", flush=True)
        if dict(decision).get("PBX_ACTION") != "announce":
            raise RuntimeError(f"unexpected decision {decision}")
        write_shell_agi(PbxAsterisk.bench_dir, decision)
        with open(stack.asterisk.instance / "etc" / "extensions.conf", "a") as conf:
            conf.write(bench_dialplan(decision))
        print(stack.asterisk.cli("dialplan reload").strip(), flush=True)
        # The product's AMI user receives Cdr events only; the bench watches Hangups as its own user.
        with open(stack.asterisk.instance / "etc" / "manager.conf", "a") as conf:
            conf.write(PBX_WATCHER_CONF.format(user=PBX_WATCHER, secret=carrier.settings.ami_secret))
        stack.asterisk.cli("manager reload")
        shown = stack.asterisk.cli("dialplan show bench-classic")
        if "route.py" not in shown:
            raise RuntimeError(f"the bench dialplan did not load: {shown}")
        time.sleep(1)
        print(f"running {', '.join(variants)} in turn, {args.rounds} round(s): {args.concurrency} calls in flight, "
              f"{args.seconds:g} s each",
              flush=True)
        results = asyncio.run(run_all(stack, carrier, args, variants))
        info = machine(stack.asterisk)
        info["python3 (classic AGI)"] = subprocess.run(
            stack.asterisk.command()[:-5] + ["/usr/bin/python3", "--version"], check=False, capture_output=True,
            text=True).stdout.strip()
        report(info, args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
