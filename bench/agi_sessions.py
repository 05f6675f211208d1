"""bench/agi_latency.py's client side: Asterisk's part of a FastAGI session played
against the control plane, the workloads (inbound, internal), closed and open loops
from asyncio or from bench/agi_load.c, the floor (bench/agi_floor.c), and the figures."""
from __future__ import annotations

import asyncio
import collections
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import clock, cpu_seconds, machine_cpu, offset_ports, summary_ms
PORTS = offset_ports({"api_port": 48080, "sip_port": 45060, "ami_port": 45038, "agi_port": 44573,
                      "rtp_start": 50000, "rtp_end": 50999})
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
