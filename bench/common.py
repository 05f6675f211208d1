"""Helpers shared by the benches (agi_latency.py, cps.py, registration.py): command line and temp
dir, a stack that is always stopped, a realistic tenant population made through the API,
percentiles, CPU time, machine facts.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support import stack as stack_module

clock = time.perf_counter
# As the test stack's: benches of side-by-side worktrees (and their test suites) each on
# their own ports; RTP windows move by ten times the offset.
PORT_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))


def offset_ports(ports: dict) -> dict:
    """A bench's ports moved by PBX_TEST_PORT_OFFSET (addresses and other values kept)."""
    return {name: value + (10 if name.startswith("rtp_") else 1) * PORT_OFFSET if isinstance(value, int) else value
            for name, value in ports.items()}


# ---- a stack that is always stopped ---------------------------------------------------------
_started: list = []


def track(proc) -> None:
    """Anything with .stop(); stopped by stop_everything(), last started first."""
    _started.append(proc)


class TrackedAsterisk(stack_module.AsteriskProcess):
    def start(self, *a, **kw):
        track(self)
        return super().start(*a, **kw)


class TrackedControl(stack_module.ControlPlaneProcess):
    def start(self, *a, **kw):
        track(self)
        return super().start(*a, **kw)


def start_stack(tmp: Path, ports: dict, asterisk_class=TrackedAsterisk):
    """tests.support.stack.start_stack on the given ports; whatever it started is stopped by
    stop_everything() even if it fails half-way."""
    stack_module.AsteriskProcess = asterisk_class
    stack_module.ControlPlaneProcess = TrackedControl
    return stack_module.start_stack(tmp, "", ports=ports)


def stop_everything() -> None:
    for proc in reversed(_started):
        try:
            proc.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest
            print(f"warning: stopping {type(proc).__name__} failed: {exc!r}", file=sys.stderr)
    _started.clear()


# ---- command line and temp dir --------------------------------------------------------------
def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the docstring's first line, with the --keep every bench has."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, logs)")
    return parser


@contextlib.contextmanager
def bench_run(prefix: str, keep: bool):
    """A temp dir for one run; on the way out everything tracked is stopped and the dir removed,
    unless --keep was given or the run failed (then it is kept for its logs)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    ok = False
    try:
        print(f"load average before start: {os.getloadavg()}", flush=True)
        yield tmp
        ok = True
    finally:
        stop_everything()
        if keep or not ok:
            print(f"temp dir kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# ---- statistics ------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50": pct(ms, 50), "p90": pct(ms, 90), "p99": pct(ms, 99), "max": max(ms),
            "mean": statistics.fmean(ms)}


# ---- processes -------------------------------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except FileNotFoundError:
            pass
    return pids


def cpu_seconds(pid: int, *, reaped_children: bool = False, alone: bool = False) -> float:
    """utime + stime of the process tree (alone: of the process only, e.g. the control plane
    without its outbound worker); with reaped_children, also what each process's
    waited-for children spent (cutime + cstime: e.g. AGI scripts Asterisk has reaped)."""
    total = 0
    for p in [pid] if alone else process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
            if reaped_children:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime (16 and 17)
        except FileNotFoundError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def control_and_worker_cpu(control_pid: int) -> tuple[float, float]:
    """CPU seconds of the control plane alone, and of its outbound worker (its child, pbx/worker.py)."""
    alone = cpu_seconds(control_pid, alone=True)
    return alone, cpu_seconds(control_pid) - alone


def machine_cpu() -> float:
    """CPU seconds all processes of the machine have spent (user + nice + system, all cores), from
    /proc/stat; interrupt and softirq time (e.g. loopback packets) and steal are left out."""
    user, nice, system = (int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def steal_cpu() -> float:
    """CPU seconds the hypervisor gave to other guests while this one wanted to run (/proc/stat)."""
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---- machine ---------------------------------------------------------------------------------
def machine(asterisk=None) -> dict:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
    }
    if asterisk is not None:
        info["asterisk"] = asterisk.cli("core show version").strip() or "?"
    return info


def print_machine(info: dict) -> None:
    print("Machine")
    for key, value in info.items():
        print(f"  {key:<9} {value}")
    print(f"  load avg  {os.getloadavg()} (now)")


# ---- a realistic population ------------------------------------------------------------------
def wav_bytes(seconds: float, freq: float = 440.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV tone (stdlib only)."""
    frames = int(seconds * rate)
    samples = bytearray()
    for i in range(frames):
        value = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        samples += value.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(samples))
    return buffer.getvalue()


@dataclass
class TenantData:
    id: int
    token: str
    extensions: list[dict] = field(default_factory=list)  # API answers (number, sip.username, ...)
    dids: dict[str, str] = field(default_factory=dict)  # E.164 -> destination type
    prompt_id: int | None = None


def did_for(tenant_index: int, k: int) -> str:
    """+90 850 TTT KKKK: a Turkish 0850 number, 10 digits after the country code."""
    return f"+90850{tenant_index:03d}{k:04d}"


async def populate(base: str, operator_token: str, tenants: int, extensions: int, *, concurrency: int = 8,
                   prompt_seconds: float = 0.5, announcement: bool = False) -> list[TenantData]:
    """`tenants` tenants on the kobi plan, each with `extensions` extensions, one prompt, a ring
    group of the first five extensions, an IVR (1 -> extension, 2 -> ring group) and three
    numbers: to an extension, to the ring group, to the IVR (and, with announcement=True, a
    fourth to the prompt). Tenants are made `concurrency` at a time."""
    timeout = aiohttp.ClientTimeout(total=60)
    prompt = wav_bytes(prompt_seconds)
    out: list[TenantData] = []

    async def call(http, method, path, token, **kw):
        async with http.request(method, base + path, headers={"Authorization": f"Bearer {token}"}, **kw) as r:
            body = await r.json(content_type=None)
            if r.status not in (200, 201):
                raise RuntimeError(f"{method} {path}: {r.status} {body}")
            return body

    async def one(http, index: int) -> TenantData:
        tenant = await call(http, "POST", "/tenants", operator_token,
                            json={"name": f"Bench tenant {index}", "plan": "kobi"})
        tid = tenant["id"]
        token = (await call(http, "POST", f"/tenants/{tid}/tokens", operator_token))["token"]
        data = TenantData(tid, token)
        for n in range(extensions):
            data.extensions.append(await call(http, "POST", f"/tenants/{tid}/extensions", token,
                                              json={"number": str(101 + n), "name": f"Ext {101 + n}"}))
        form = aiohttp.FormData()
        form.add_field("name", "Greeting")
        form.add_field("file", prompt, filename="greeting.wav", content_type="audio/wav")
        data.prompt_id = (await call(http, "POST", f"/tenants/{tid}/prompts", token, data=form))["id"]
        members = [e["number"] for e in data.extensions[:5]]
        group = await call(http, "POST", f"/tenants/{tid}/ring_groups", token,
                           json={"name": "Sales", "extensions": members, "strategy": "all", "ring_seconds": 20})
        menu = await call(http, "POST", f"/tenants/{tid}/ivrs", token, json={
            "name": "Main menu", "greeting_prompt_id": data.prompt_id,
            "options": {"1": {"type": "extension", "extension": members[0]},
                        "2": {"type": "ring_group", "ring_group_id": group["id"]}},
            "timeout_destination": {"type": "ring_group", "ring_group_id": group["id"]}})
        dests = [("extension", {"type": "extension", "extension": data.extensions[-1]["number"]}),
                 ("ring_group", {"type": "ring_group", "ring_group_id": group["id"]}),
                 ("ivr", {"type": "ivr", "ivr_id": menu["id"]})]
        if announcement:
            dests.append(("announcement", {"type": "announcement", "prompt_id": data.prompt_id}))
        for k, (kind, dest) in enumerate(dests):
            did = did_for(index, k + 1)
            # The operator allocates and routes in one request (a tenant routes only allocated numbers).
            await call(http, "POST", f"/tenants/{tid}/numbers", operator_token,
                       json={"number": did, "destination": dest})
            data.dids[did] = kind
        return data

    indexes = iter(range(tenants))

    async def worker(http):
        for index in indexes:
            out.append(await one(http, index))

    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    out.sort(key=lambda t: t.id)
    return out


def trunk_sip_id(settings, name: str) -> str:
    """The trunk's PJSIP id is not in the API's answer; it is in the trunks table."""
    url = settings.effective_database_url
    path = url.split("///", 1)[1]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT sip_id FROM trunks WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise RuntimeError(f"no trunk named {name!r}")
    return row[0]
