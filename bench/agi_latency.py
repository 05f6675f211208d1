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
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_parser,
    bench_run,
    clock,
    cpu_seconds,
    machine,
    machine_cpu,
    pct,
    populate,
    print_machine,
    start_stack,
    summary_ms,
    trunk_sip_id,
)

PORTS = {"api_port": 48080, "sip_port": 45060, "ami_port": 45038, "agi_port": 44573,
         "rtp_start": 50000, "rtp_end": 50999}
CARRIER = "127.0.5.20"
LEVELS = (1, 10, 100)


# ---- Asterisk's side of a FastAGI session ----------------------------------------------------
def header_block(script: str, port: int, extension: str, arg1: str, n: int) -> bytes:
    """What Asterisk 22 sends for AGI(agi://host:port/script,arg1) (same keys, realistic values)."""
    channel = f"PJSIP/{arg1}-{n:08x}"
    lines = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1:{port}/{script}",
        "agi_channel": channel,
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": f"1795000000.{n}",
        "agi_version": "22.10.1",
        "agi_callerid": "905321234567",
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": extension,
        "agi_rdnis": "unknown",
        "agi_context": "pbx-route",
        "agi_extension": extension,
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": str(140000000000000 + n),
        "agi_arg_1": arg1,
    }
    return ("".join(f"{k}: {v}\n" for k, v in lines.items()) + "\n").encode()


async def agi_session(port: int, block: bytes) -> tuple[float, str | None, int]:
    """One session as Asterisk plays it. Returns (connect -> close, PBX_ACTION, commands)."""
    started = clock()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(block)
    action, commands = None, 0
    while True:
        line = await reader.readline()
        if not line:
            break
        commands += 1
        if line.startswith(b"SET VARIABLE PBX_ACTION "):
            action = line.split(b" ", 3)[3].strip().strip(b'"').decode()
        if line.startswith(b"EXEC MSet "):  # MSet returns 0, SET VARIABLE 1
            pairs = dict(p.partition(b"=")[::2] for p in line[10:].strip().strip(b'"').split(b","))
            action = pairs.get(b"PBX_ACTION", b"").decode() or action
            writer.write(b"200 result=0\n")
        else:
            writer.write(b"200 result=1\n")
    elapsed = clock() - started
    writer.close()
    return elapsed, action, commands


# ---- workloads -------------------------------------------------------------------------------
@dataclass
class Workload:
    name: str
    script: str
    requests: list[tuple[str, str, str]]  # (extension, arg1, expected destination kind)
    expected: dict[str, set[str]]  # destination kind -> PBX_ACTION values that are right for it


def workloads(tenants, trunk_id: str, secret: str) -> list[Workload]:
    inbound = [(did, trunk_id, kind) for t in tenants for did, kind in t.dids.items()]
    internal = []
    for t in tenants:
        for e in t.extensions:
            callee = random.Random(e["id"]).choice([x for x in t.extensions if x is not e])
            internal.append((callee["number"], e["sip"]["username"], "extension"))
    expected = {"extension": {"dial"}, "ring_group": {"dial"}, "ivr": {"ivr"}}
    # The script is what Asterisk sends: the shared secret, then the route (pbx/agi/server.py).
    return [Workload("inbound", f"{secret}/inbound", inbound, expected),
            Workload("internal", f"{secret}/route", internal, expected)]


@dataclass
class Run:
    label: str
    concurrency: int | str
    latencies: list[float] = field(default_factory=list)
    actions: collections.Counter = field(default_factory=collections.Counter)
    wrong: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0
    cpu_control: float = 0.0
    cpu_client: float = 0.0
    cpu_other: float = 0.0  # the rest of the machine (Asterisk idles; anything else is foreign load)
    commands: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def _one(run: Run, port: int, work: Workload, n: int, rng: random.Random) -> None:
    extension, arg1, kind = rng.choice(work.requests)
    try:
        elapsed, action, commands = await agi_session(port, header_block(work.script, port, extension, arg1, n))
    except OSError as exc:
        run.errors[type(exc).__name__] += 1
        return
    run.latencies.append(elapsed)
    run.actions[action] += 1
    run.commands += commands
    if action not in work.expected[kind]:
        run.wrong += 1


async def closed_loop(port: int, work: Workload, concurrency: int, total: int, seed: int) -> Run:
    run = Run(work.name, concurrency)
    rng = random.Random(seed)
    counter = iter(range(total))

    async def client():
        for n in counter:
            await _one(run, port, work, n, rng)

    started = clock()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = clock() - started
    return run


async def open_loop(port: int, work: Workload, rate: float, total: int, seed: int) -> Run:
    """Poisson arrivals at `rate` per second, whatever is still in flight."""
    run = Run(work.name, f"{rate:.0f}/s")
    rng = random.Random(seed)
    tasks = []
    started = clock()
    due = started
    for n in range(total):
        due += rng.expovariate(rate)
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(run, port, work, n, rng)))
    await asyncio.gather(*tasks)
    run.seconds = clock() - started
    return run


# ---- the same closed loop from C (bench/agi_load.c) --------------------------------------------
LOAD_SOURCE = Path(__file__).resolve().parent / "agi_load.c"


def build_load_client(folder: Path) -> Path | None:
    """Compiles bench/agi_load.c with the machine's gcc; None without one (the Python client
    then drives every level)."""
    if shutil.which("gcc") is None:
        return None
    binary = folder / "agi_load"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(binary), str(LOAD_SOURCE), "-lm"], check=True)
    return binary


async def c_loop(binary: Path, port: int, work: Workload, concurrency: int, total: int, seed: int,
                 line_writes: bool = False, rate: float = 0.0) -> Run:
    """Sessions played by the C client, the header blocks (and what each should decide) made
    here: `concurrency` always in flight, or with `rate`, Poisson arrivals (at most
    `concurrency` in flight), each timed from when it was due."""
    run = Run(work.name, f"{rate:.0f}/s" if rate else concurrency)
    rng = random.Random(seed)
    picks = [rng.choice(work.requests) for _ in range(total)]
    blocks = b"\0".join(header_block(work.script, port, ext, arg1, n) for n, (ext, arg1, _) in enumerate(picks))
    started = clock()
    proc = await asyncio.create_subprocess_exec(
        str(binary), str(port), str(concurrency), str(total), "1" if line_writes else "0", str(rate),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(blocks)
    run.seconds = clock() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{binary.name} exited with {proc.returncode}")
    for line in out.decode().splitlines():
        n, elapsed, *rest = line.split()
        if elapsed == "error":
            run.errors[f"errno {rest[0]}"] += 1
            continue
        action = None if rest[0] == "-" else rest[0]
        run.latencies.append(int(elapsed) / 1e9)
        run.actions[action] += 1
        run.commands += int(rest[1])
        if action not in work.expected[picks[int(n)][2]]:
            run.wrong += 1
    if missing := total - len(run.latencies) - sum(run.errors.values()):
        run.errors["no result"] += missing
    return run


FLOOR_SOURCE = Path(__file__).resolve().parent / "agi_floor.c"
FLOOR_PORT = PORTS["agi_port"] + 100


def floor_runs(binary: Path, folder: Path, work: Workload, total: int, line_writes: bool) -> list[Run]:
    """The same closed loop against bench/agi_floor.c, a FastAGI server that does nothing but
    accept, read the headers, send one fixed MSet and close: what this machine allows any
    server, before routing or Python. Its CPU is reported in the CP column."""
    server = folder / "agi_floor"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(server), str(FLOOR_SOURCE)], check=True)
    proc = subprocess.Popen([str(server), str(FLOOR_PORT)], stderr=subprocess.PIPE)
    runs = []
    try:
        proc.stderr.readline()  # "ready"
        floor_work = Workload("floor (C)", work.script, work.requests, collections.defaultdict(lambda: {"dial"}))
        for level in LEVELS:
            run = measure(proc.pid, lambda level=level: c_loop(binary, FLOOR_PORT, floor_work, level, total, level,
                                                              line_writes))
            report_run(run)
            runs.append(run)
    finally:
        proc.kill()
        proc.wait()
    return runs


def client_cpu() -> float:
    """This process and the C clients it has reaped."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(control_pid: int, coro_factory) -> Run:
    cpu0, own0, all0 = cpu_seconds(control_pid), client_cpu(), machine_cpu()
    run = asyncio.run(coro_factory())
    run.cpu_control = cpu_seconds(control_pid) - cpu0
    run.cpu_client = client_cpu() - own0
    run.cpu_other = max(0.0, machine_cpu() - all0 - run.cpu_control - run.cpu_client)
    return run


def report_run(r: Run) -> None:
    s = summary_ms(r.latencies)
    n = max(1, len(r.latencies))
    print(f"  {r.label:<9} {r.concurrency!s:>7} {len(r.latencies):>6} {r.rate:>8.0f} {s['p50']:>7.2f} "
          f"{s['p90']:>7.2f} {s['p99']:>7.2f} {s['max']:>8.2f} {r.cpu_control / n * 1000:>8.2f} "
          f"{r.cpu_client / n * 1000:>7.2f} {r.cpu_other / r.seconds / (os.cpu_count() or 1):>6.0%}  "
          f"{r.wrong or '-'} {dict(r.errors) or ''}", flush=True)


def header() -> None:
    print(f"  {'route':<9} {'in flight':>7} {'n':>6} {'per s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>8} {'CP cpu':>8} {'client':>7} {'other':>6}  wrong/errors", flush=True)
    print(f"  {'':<9} {'':>7} {'':>6} {'':>8} {'':>7} {'':>7} {'':>7} {'':>8} {'ms/dec':>8} {'ms/dec':>7} "
          f"{'load':>6}")


# ---- profile ---------------------------------------------------------------------------------
def profile(control_pid: int, port: int, work: Workload, total: int, out: Path) -> None:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("  py-spy is not installed (pip install py-spy into the venv); no profile")
        return
    raw = out / "control-plane.collapsed"
    spy = subprocess.Popen([py_spy, "record", "--pid", str(control_pid), "--rate", "250", "--format", "raw",
                            "--output", str(raw), "--nonblocking", "--gil"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        run = measure(control_pid, lambda: closed_loop(port, work, 100, total, seed=99))
        report_run(run)
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    if raw.exists():
        summarise_profile(raw)


LAYERS = (  # a sample goes to the first layer any of whose markers is in its stack
    ("database access (SQLAlchemy async session + ORM, aiosqlite)", ("sqlalchemy/", "aiosqlite/", "greenlet")),
    ("routing (snapshot rebuilds, handlers, pure routing)",
     ("pbx/agi/handlers", "pbx/services/", "pbx/routing/", "pbx/domain/", "pydantic")),
    ("FastAGI protocol (headers, variable round trips)", ("parse_headers (", "data_received (", "apply (", "set_variable",
                                                             "panoramisk/")),
    ("event loop, sockets (accept, schedule, write, close)", ("",)),
)


def summarise_profile(raw: Path) -> None:
    """Collapsed stacks (one line per stack, frames ';'-joined, then a count). SQLAlchemy runs its
    sync core in greenlets, whose frames py-spy shows as separate stacks, so samples are classed
    by what their stack contains rather than by the session step above them."""
    layers: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        count = int(count)
        total += count
        leaves[stack.split(";")[-1]] += count
        for name, markers in LAYERS:
            if any(m in stack for m in markers):
                layers[name] += count
                break
    if not total:
        print("  profile: no samples")
        return
    print(f"  py-spy --gil (samples the thread holding the GIL), {total} samples:")
    for name, _ in LAYERS:
        print(f"    {layers[name] / total:6.1%}  {name}")
    print("  top self time:")
    for frame, n in leaves.most_common(6):
        print(f"    {n / total:6.1%}  {frame[:100]}")


# ---- in-process costs of the snapshot and of one decision ---------------------------------------
def snapshot_costs(database_url: str, trunk_id: str, dids: list[str], n: int = 20000) -> None:
    """In this process, against the same database: what a full snapshot rebuild costs, and one
    inbound decision from it (pbx.routing.decisions.from_trunk), one at a time."""
    from datetime import datetime, timezone

    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.unit import Database
    from pbx.routing import decisions
    from pbx.services.routing_snapshot import load

    async def run() -> tuple[float, float, float]:
        engine = make_engine(database_url)
        database = Database(make_sessionmaker(engine))
        snap = await load(database)  # warm-up
        costs = []
        for previous in (None, snap):  # from nothing; then reusing every (unchanged) tenant
            wall, cpu = clock(), time.process_time()
            for _ in range(10):
                await load(database, previous)
            costs.append(((clock() - wall) / 10 * 1000, (time.process_time() - cpu) / 10 * 1000))
        await engine.dispose()
        now = datetime.now(timezone.utc)
        cpu = time.process_time()
        for i in range(n):
            decisions.from_trunk(snap, trunk_id, dids[i % len(dids)], now)
        return costs, (time.process_time() - cpu) / n

    (full, same), decide = asyncio.run(run())
    print(f"  snapshot rebuild (8 bulk reads + build): full wall {full[0]:.1f} ms, CPU {full[1]:.1f} ms; "
          f"tenants unchanged wall {same[0]:.1f} ms, CPU {same[1]:.1f} ms (all threads); "
          f"one inbound decision from it: {decide * 1e6:.1f} us CPU")


def snapshot_scale(extensions: int, per_tenant: int = 20) -> None:
    """A full rebuild at `extensions` extensions (tenants of `per_tenant`, each with a prompt,
    an IVR, a ring group and three numbers), rows inserted straight into a fresh database."""
    import sqlalchemy as sa

    from pbx.db.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="pbx-bench-snapshot-"))
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'scale.sqlite3'}"
        upgrade(url)
        engine = sa.create_engine(f"sqlite:///{tmp / 'scale.sqlite3'}")
        with engine.begin() as conn:
            _fill(conn, extensions // per_tenant, per_tenant)
        engine.dispose()
        print(f"  at {extensions} extensions ({extensions // per_tenant} tenants):", end="")
        snapshot_costs(url, "trunk-0", [f"+9085{t:06d}{k:02d}" for t in (1, 2) for k in range(3)], n=1000)  # as _fill
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fill(conn, tenants: int, per_tenant: int) -> None:
    import json

    import sqlalchemy as sa

    x = conn.exec_driver_sql
    x("INSERT INTO trunks (id, name, host, port, match, default_outbound, sip_id, created_at) "
      "VALUES (1, 'c', 'h', 5060, '[]', 1, 'trunk-0', '2026-01-01')")
    for t in range(1, tenants + 1):
        x(f"INSERT INTO tenants (id, name, plan, extra_extensions, international_calls, record_calls, "
          f"recording_notice, created_at) VALUES ({t}, 't', 'kobi', 0, 0, 0, 1, '2026-01-01')")
        x("INSERT INTO prompts (id, tenant_id, name, file_id, duration_ms, source_format, created_at) "
          f"VALUES ({t}, {t}, 'p', 'f{t}', 500, 'wav', '2026-01-01')")
        conn.execute(sa.text(
            "INSERT INTO extensions (tenant_id, number, name, voicemail, record_calls, sip_username, created_at) "
            "VALUES (:t, :n, 'e', 1, 0, :s, '2026-01-01')"),
            [{"t": t, "n": str(100 + i), "s": f"{t}-{i}"} for i in range(per_tenant)])
        dest = json.dumps({"type": "extension", "extension": "100"})
        x("INSERT INTO ring_groups (id, tenant_id, name, extensions, strategy, ring_seconds, next_destination, "
          f"created_at) VALUES ({t}, {t}, 'g', '[\"100\", \"101\", \"102\"]', 'all', 20, NULL, '2026-01-01')")
        x("INSERT INTO ivrs (id, tenant_id, name, greeting_prompt_id, options, timeout_seconds, max_attempts, "
          f"timeout_destination, created_at) VALUES ({t}, {t}, 'i', {t}, '{{\"1\": {dest}}}', 5, 3, NULL, "
          "'2026-01-01')")
        for k, d in enumerate((dest, json.dumps({"type": "ring_group", "ring_group_id": t}),
                               json.dumps({"type": "ivr", "ivr_id": t}))):
            x(f"INSERT INTO numbers (tenant_id, number, destination, created_at) VALUES ({t}, "
              f"'+9085{t:06d}{k:02d}', '{d}', '2026-01-01')")


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
            profile(control_pid, port, work[0], args.decisions * 2, tmp)
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
