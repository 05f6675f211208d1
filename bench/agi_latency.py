"""Routing decision latency: FastAGI sessions against the control plane alone (no Asterisk).

    PYTHONPATH=. .venv/bin/python bench/agi_latency.py [--decisions 2000] [--profile]

Starts the real stack (Asterisk + the control plane as a subprocess, SQLite) on its own
ports and temp dir, fills a realistic database through the API (100 tenants x 20
extensions, a prompt, a ring group, an IVR, three numbers each), then plays Asterisk's part
of FastAGI itself: connect, send the AGI header block, answer every command as Asterisk
does, until the server closes. Latency = connect -> close, as Asterisk would wait. The
sessions are played by bench/agi_load.c (built with gcc here; a few microseconds of CPU per
session, where the asyncio client of --client python costs more than the server it measures).
Prints figures; asserts nothing about time. See bench/README.md.

1. Closed loop: 1, 10, 100 sessions always in flight, --decisions sessions each, for the
   inbound route (a trunk calls one of the 300 numbers) and the internal route (an extension
   calls another extension of its tenant).
2. Open loop: Poisson arrivals at 25/50/75 % of the closed-loop inbound rate at 100 in flight,
   each session timed from when it was due.
3. --profile: py-spy (if installed in the venv) samples the control plane during one more
   closed-loop inbound run at 100 in flight and prints where its time goes.
3b. The floor: the same closed loop against bench/agi_floor.c, a FastAGI server in C that
   does nothing but the protocol: what this machine's kernel allows any server.
4. In this process: a routing snapshot rebuild against the same database (from nothing, and
   with every tenant unchanged), one inbound decision from it, and the same rebuild at
   --snapshot-scale extensions (10,000) in a database filled directly.
"""
from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agi_costs import profile, snapshot_costs, snapshot_scale
from bench.agi_sessions import (
    CARRIER,
    LEVELS,
    PORTS,
    Run,
    build_load_client,
    c_loop,
    closed_loop,
    floor_runs,
    header,
    measure,
    open_loop,
    report_run,
    workloads,
)
from bench.common import bench_parser, bench_run, clock, machine, pct, populate, print_machine, start_stack, trunk_sip_id


# ---- main ------------------------------------------------------------------------------------
def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--extensions", type=int, default=20, help="per tenant (the kobi plan allows 20)")
    parser.add_argument("--decisions", type=int, default=2000, help="sessions per closed-loop level")
    parser.add_argument("--open-decisions", type=int, default=2000, help="sessions per open-loop rate (0: skip)")
    parser.add_argument("--profile", action="store_true", help="sample the control plane with py-spy")
    parser.add_argument("--client", choices=("c", "python"), default="c",
                        help="closed-loop driver: bench/agi_load.c (built with gcc; the default) or asyncio")
    parser.add_argument("--line-writes", action="store_true",
                        help="the C client writes the header block one line per write(), as Asterisk does")
    parser.add_argument("--snapshot-scale", type=int, nargs="*", default=[10000],
                        help="also time a snapshot rebuild at these numbers of extensions")
    args = parser.parse_args()

    with bench_run("pbx-bench-agi-", args.keep) as tmp:
        started = clock()
        stack = start_stack(tmp, PORTS)
        port = stack.settings.agi_port
        control_pid = stack.control.process.pid
        print(f"stack up in {clock() - started:.1f} s (temp dir {tmp})", flush=True)
        stack.operator.ok("POST", "/trunks", {"name": "Bench carrier", "host": CARRIER, "port": 5060,
                                              "match": [CARRIER]})
        trunk_id = trunk_sip_id(stack.settings, "Bench carrier")
        started = clock()
        tenants = asyncio.run(populate(stack.operator.base, stack.operator.token, args.tenants, args.extensions))
        n_ext = sum(len(t.extensions) for t in tenants)
        n_did = sum(len(t.dids) for t in tenants)
        print(f"populated {len(tenants)} tenants, {n_ext} extensions, {n_did} numbers, {len(tenants)} ring "
              f"groups, {len(tenants)} IVRs in {clock() - started:.1f} s", flush=True)
        time.sleep(2)  # let the fallback snapshot publisher settle
        work = workloads(tenants, trunk_id, stack.settings.agi_secret)
        binary = build_load_client(tmp) if args.client == "c" else None
        print(f"closed-loop client: {'bench/agi_load.c' if binary else 'asyncio (this process)'}"
              f"{', header lines written one at a time' if binary and args.line_writes else ''}", flush=True)

        def closed(w, level, total, seed):
            if binary is None:
                return lambda: closed_loop(port, w, level, total, seed=seed)
            return lambda: c_loop(binary, port, w, level, total, seed, args.line_writes)
        # Warm-up: connection pool, statement caches, imports on first use.
        for w in work:
            measure(control_pid, closed(w, 10, 300, 1))

        print("1. Closed loop: N sessions always in flight", flush=True)
        header()
        runs = []
        for w in work:
            for level in LEVELS:
                run = measure(control_pid, closed(w, level, args.decisions, level))
                report_run(run)
                runs.append(run)
        opened = []
        if args.open_decisions:
            capacity = next(r.rate for r in runs if r.label == "inbound" and r.concurrency == 100)
            print(f"2. Open loop: Poisson arrivals, inbound route (closed-loop rate at 100: {capacity:.0f}/s)",
                  flush=True)
            header()
            for share in (0.25, 0.5, 0.75):
                rate = capacity * share
                if binary is None:
                    run = measure(control_pid, lambda rate=rate: open_loop(port, work[0], rate, args.open_decisions,
                                                                          seed=int(rate)))
                else:
                    run = measure(control_pid, lambda rate=rate: c_loop(
                        binary, port, work[0], 1000, args.open_decisions, int(rate), args.line_writes, rate))
                report_run(run)
                opened.append(run)
        if args.profile:
            print("3. Profile of the control plane, inbound, 100 in flight", flush=True)
            header()
            profile(control_pid, closed(work[0], 100, args.decisions * 2, 99), tmp)
        floor = []
        if binary is not None:
            print("3b. The floor: the same closed loop against a FastAGI server in C that does nothing "
                  "(bench/agi_floor.c)", flush=True)
            header()
            floor = floor_runs(binary, tmp, work[0], max(args.decisions, 10000), args.line_writes)
        print("4. Snapshot rebuild and one decision, in this process", flush=True)
        snapshot_costs(stack.settings.effective_database_url, trunk_id, [did for t in tenants for did in t.dids])
        for scale in args.snapshot_scale:
            snapshot_scale(scale)
        health = requests.get(stack.operator.base + "/health", timeout=5).json()
        info = machine(stack.asterisk)
        report(info, runs, opened, health, floor)
    return 0


def report(info, closed: list[Run], opened: list[Run], health, floor: list[Run]) -> None:
    line = "-" * 100
    print("\n" + line)
    print_machine(info)
    print(f"  health    {health}")
    print(line)
    print("Closed loop (latency = TCP connect -> server closes; CP cpu = control plane CPU per decision;")
    print("  other load = the rest of the machine's 2 cores, busy: a test suite started meanwhile shows here)")
    header()
    for r in closed:
        report_run(r)
    if opened:
        print("Open loop (Poisson arrivals)")
        header()
        for r in opened:
            report_run(r)
    if floor:
        print("The floor: a do-nothing FastAGI server in C, same client (its CPU in the CP column)")
        header()
        for r in floor:
            report_run(r)
    for r in closed + opened:
        print(f"  {r.label} {r.concurrency}: actions {dict(r.actions)}, {r.commands / max(1, len(r.latencies)):.1f} "
              f"AGI commands per session")
    target = next(r for r in closed if r.label == "inbound" and r.concurrency == 100)
    p99 = pct(target.latencies, 99) * 1000
    print(f"  target: p99 <= 5 ms at 100 concurrent sessions -> inbound p99 {p99:.1f} ms: "
          f"{'MET' if p99 <= 5 else 'MISSED'}")
    if floor:
        at_100 = next(r for r in floor if r.concurrency == 100)
        print(f"  (the do-nothing C server at 100 in flight: {at_100.rate:,.0f}/s, p99 "
              f"{pct(at_100.latencies, 99) * 1000:.1f} ms)")
    print(line)


if __name__ == "__main__":
    sys.exit(main())
