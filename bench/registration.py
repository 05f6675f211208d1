"""Provisioning benchmark: bulk extension creation, POST-201-to-REGISTER latency, RSS.

    PYTHONPATH=. .venv/bin/python bench/registration.py [--extensions 10000] [--samples 200]

Runs the real product (Asterisk from the cached Debian root + the control plane as a
subprocess, SQLite) on its own ports and temp dir, so it can run next to the test suite.
Prints figures; asserts nothing about time. See bench/README.md.

1. Fill: tenants on the enterprise plan, N extensions through POST /tenants/{tid}/extensions
   with tenant tokens; the first --sequential of them one request at a time, the rest with
   --concurrency requests in flight (aiohttp client, keep-alive).
2. Liveness: --samples times, POST a new extension (into the largest filled tenant, unless
   --samples-into new) and, the moment 201 is back, register a pjsua2 phone with the returned
   credentials; time POST sent -> 200 OK of REGISTER (the headline) and 201 -> 200 OK.
   Interleaved with the same measurement for an extension created during the fill (SIP alone).
   --prefill writes the N extensions straight into SQLite instead (bench/prefill.py).
3. RSS of Asterisk (bwrap + children) and of the control plane.
"""
from __future__ import annotations

import asyncio
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.common import (
    bench_parser,
    bench_run,
    clock,
    cpu_seconds,
    machine,
    own_cpu,
    pct,
    print_machine,
    process_tree,
    start_stack,
    summary_ms,
)
from bench.prefill import PASSWORD, prefill, sqlite_path
from tests.support import _pj
from tests.support.phone import Phones

# Shifted by PBX_TEST_PORT_OFFSET, like the test stack, so runs next to other suites do not collide.
_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
BENCH_PORTS = {"api_port": 38080 + _OFFSET, "sip_port": 35060 + _OFFSET, "ami_port": 35038 + _OFFSET,
               "agi_port": 34573 + _OFFSET, "rtp_start": 40000 + _OFFSET, "rtp_end": 40099 + _OFFSET}


# ---- timestamps inside the pjsua2 engine (its owner thread) ---------------------------------
# Engine.add_account runs on the owner thread and sends the REGISTER (registerOnAdd);
# Engine.on_reg_state runs when the final answer arrives. Stamping both splits the
# 201 -> registered interval into harness queueing and the SIP exchange itself.
_original_add_account = _pj.Engine.add_account
_original_on_reg_state = _pj.Engine.on_reg_state


def _stamped_add_account(self, ps, *args):
    ps.bench_add_at = clock()
    return _original_add_account(self, ps, *args)


def _stamped_on_reg_state(self, ps, *args):
    if getattr(ps, "bench_reg_at", None) is None:
        ps.bench_reg_at = clock()
    return _original_on_reg_state(self, ps, *args)


_pj.Engine.add_account = _stamped_add_account
_pj.Engine.on_reg_state = _stamped_on_reg_state


# ---- process memory --------------------------------------------------------------------------
def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0  # kernel threads / zombies have no VmRSS


def tree_rss(pid: int) -> tuple[int, list[tuple[int, str, int]]]:
    parts = []
    for p in process_tree(pid):
        try:
            comm = Path(f"/proc/{p}/comm").read_text().strip()
            parts.append((p, comm, rss_kib(p)))
        except FileNotFoundError:
            pass
    return sum(kib for _, _, kib in parts), parts


def cpu_snapshot(stack) -> dict:
    return {"control": cpu_seconds(stack.control.process.pid), "asterisk": cpu_seconds(stack.asterisk.process.pid),
            "client": own_cpu()}


def memory(stack) -> dict:
    ast_total, ast_parts = tree_rss(stack.asterisk.process.pid)
    cp_total, cp_parts = tree_rss(stack.control.process.pid)
    return {"asterisk": ast_total, "asterisk_parts": ast_parts, "control": cp_total, "control_parts": cp_parts}


# ---- 1. bulk creation ------------------------------------------------------------------------
@dataclass
class FillResult:
    label: str
    concurrency: int
    created: list[dict] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0
    cpu: dict = field(default_factory=dict)  # CPU seconds spent during the phase, per process

    @property
    def rate(self) -> float:
        return len(self.created) / self.seconds if self.seconds else 0.0


async def _fill(base: str, jobs: list[tuple[int, str, str]], concurrency: int, label: str) -> FillResult:
    """jobs: (tenant id, tenant token, number). `concurrency` workers, one request each in flight."""
    result = FillResult(label, concurrency)
    queue = iter(jobs)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async def worker(http: aiohttp.ClientSession) -> None:
        for tenant_id, token, number in queue:
            body = {"number": number, "name": f"Ext {number}"}
            started = clock()
            async with http.post(f"{base}/tenants/{tenant_id}/extensions", json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                payload = await response.json(content_type=None)
            result.latencies.append(clock() - started)
            if response.status == 201:
                result.created.append(payload)
            else:
                key = (response.status, (payload.get("error") or {}).get("code") if isinstance(payload, dict) else None)
                result.errors[key] = result.errors.get(key, 0) + 1

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = clock()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        result.seconds = clock() - started
    return result


def fill(stack, tenants: list[tuple[int, str]], per_tenant: int, sequential: int, concurrency: int) -> list[FillResult]:
    base = stack.operator.base
    jobs_by_tenant = [[(tid, token, str(10000 + i)) for i in range(per_tenant)] for tid, token in tenants]
    flat_seq = [job for jobs in jobs_by_tenant for job in jobs]  # tenant by tenant, as an import would
    seq_jobs = flat_seq[:sequential]
    rest = flat_seq[sequential:]
    # Concurrent: round-robin over tenants, so requests in flight belong to different tenants.
    by_tenant: dict[int, list] = {}
    for job in rest:
        by_tenant.setdefault(job[0], []).append(job)
    conc_jobs = [job for group in zip(*by_tenant.values()) for job in group] if by_tenant else []
    leftovers = [job for group in by_tenant.values() for job in group[min(map(len, by_tenant.values())):]]
    conc_jobs += leftovers
    results = []
    for jobs, width, label in ((seq_jobs, 1, "sequential"), (conc_jobs, concurrency, "concurrent")):
        if not jobs:
            continue
        before = cpu_snapshot(stack)
        result = asyncio.run(_fill(base, jobs, width, label))
        after = cpu_snapshot(stack)
        result.cpu = {k: after[k] - before[k] for k in before}
        results.append(result)
        report_fill(result)
    return results


def report_fill(r: FillResult) -> None:
    s = summary_ms(r.latencies)
    print(f"  {r.label:<10} x{r.concurrency:<3} {len(r.created):>6} created in {r.seconds:7.1f} s = "
          f"{r.rate:7.1f} ext/s; per request p50 {s['p50']:.1f} ms p99 {s['p99']:.1f} ms max {s['max']:.1f} ms"
          + (f"; ERRORS {r.errors}" if r.errors else ""), flush=True)
    print(f"  {'':<14} CPU per created extension: " + ", ".join(
        f"{k} {v / max(1, len(r.created)) * 1000:.2f} ms" for k, v in r.cpu.items()), flush=True)


def prefilled(stack, tenant_ids: list[int], per_tenant: int) -> list[dict]:
    """Rows straight into SQLite; the control plane restarted so that its snapshot loads them."""
    started = clock()
    sip_ids = prefill(sqlite_path(stack.settings.effective_database_url), tenant_ids, per_tenant,
                      stack.settings.sip_realm)
    stack.control.stop()
    stack.control.start(timeout=300)
    print(f"  prefilled {len(sip_ids)} in {clock() - started:.1f} s (control plane restarted)", flush=True)
    started = clock()
    while clock() - started < 600:  # a fresh Asterisk's astdb gets the whole fallback family first
        before = cpu_seconds(stack.control.process.pid)
        time.sleep(2)
        if cpu_seconds(stack.control.process.pid) - before < 0.1:
            break
    print(f"  control plane idle again after {clock() - started:.1f} s (first fallback publish)", flush=True)
    return [{"sip": {"username": s, "password": PASSWORD}} for s in sip_ids]


# ---- 2. POST 201 -> REGISTER 200 -------------------------------------------------------------
@dataclass
class RegSample:
    post: float          # request sent -> 201 read (client side)
    to_registered: float  # 201 read -> REGISTER 200 OK seen by the phone (engine thread)
    queued: float        # 201 read -> engine thread starts creating the account (harness)
    sip: float           # account creation + REGISTER/401/REGISTER/200 round trips
    code: int


def register_once(phones: Phones, sip_port: int, username: str, password: str, t0: float, post: float) -> RegSample:
    phone = phones.add_phone(username, password, port=sip_port)
    try:
        code = phone.wait_registered(timeout=5)
        ps = phone._ps
        reg_at = getattr(ps, "bench_reg_at", None) or clock()
        return RegSample(post, reg_at - t0, ps.bench_add_at - t0, reg_at - ps.bench_add_at, code)
    finally:
        phone.remove()


def liveness(stack, phones: Phones, samples: int, existing: list[dict], into: tuple | None = None
             ) -> tuple[list[RegSample], list[RegSample]]:
    """into: (tenant, api) to create the sample extensions in; None: a fresh tenant."""
    tenant, api = into or stack.new_tenant("enterprise")
    fresh, old = [], []
    rng = random.Random(1)
    for i in range(samples):
        number = str(99999 - i)  # above the fill's numbers, so the filled tenant can take them
        started = clock()
        response = api.post(f"/tenants/{tenant['id']}/extensions", json={"number": number, "name": f"New {number}"})
        t201 = clock()
        if response.status_code != 201:
            raise RuntimeError(f"POST extension {number}: {response.status_code} {response.text}")
        ext = response.json()
        fresh.append(register_once(phones, stack.sip_port, ext["sip"]["username"], ext["sip"]["password"],
                                   t201, t201 - started))
        # The same phone work for an extension that has existed for minutes: SIP alone.
        ext = rng.choice(existing)
        t0 = clock()
        old.append(register_once(phones, stack.sip_port, ext["sip"]["username"], ext["sip"]["password"], t0, 0.0))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{samples} samples", flush=True)
    return fresh, old


# ---- main ------------------------------------------------------------------------------------
def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--extensions", type=int, default=10_000, help="extensions to fill before sampling")
    parser.add_argument("--tenants", type=int, default=10, help="tenants to spread them over")
    parser.add_argument("--sequential", type=int, default=2_000, help="how many of them to create one at a time")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight for the rest")
    parser.add_argument("--prefill", action="store_true",
                        help="write the extensions straight into SQLite (bench/prefill.py) and restart the control "
                             "plane, instead of POSTing them: 100,000 through the API take most of an hour")
    parser.add_argument("--samples", type=int, default=200, help="POST->REGISTER samples")
    parser.add_argument("--samples-into", choices=("filled", "new"), default="filled",
                        help="create the sample extensions in the first filled tenant (the largest) or a new one")
    args = parser.parse_args()
    per_tenant = math.ceil(args.extensions / args.tenants)
    if per_tenant + args.samples > 89_999:
        parser.error("at most 89,999 extensions and samples per tenant (numbers 10000-99999)")

    with bench_run("pbx-bench-", args.keep) as tmp:
        started = clock()
        stack = start_stack(tmp, BENCH_PORTS)
        print(f"stack up in {clock() - started:.1f} s (temp dir {tmp})", flush=True)
        mem_empty = memory(stack)

        tenants, apis = [], []
        for _ in range(args.tenants):
            tenant, api = stack.new_tenant("enterprise")
            assert tenant["extension_limit"] is None, tenant
            tenants.append((tenant["id"], api.token))
            apis.append((tenant, api))
        print(f"1. filling {per_tenant * args.tenants} extensions over {args.tenants} tenants", flush=True)
        jobs_total = per_tenant * args.tenants
        if args.prefill:
            fills, existing = [], prefilled(stack, [tid for tid, _ in tenants], per_tenant)
        else:
            fills = fill(stack, tenants, per_tenant, min(args.sequential, jobs_total), args.concurrency)
            existing = [e for r in fills for e in r.created]
        time.sleep(1)
        mem_filled = memory(stack)
        print(f"2. {args.samples} POST -> REGISTER samples with {len(existing)} extensions present", flush=True)
        phones = Phones()
        try:
            fresh, old = liveness(stack, phones, args.samples, existing,
                                  apis[0] if args.samples_into == "filled" else None)
        finally:
            phones.close()
        time.sleep(1)  # let unREGISTERs settle
        mem_full = memory(stack)
        info = machine(stack.asterisk)
        report(info, args, fills, fresh, old, mem_empty, mem_filled, mem_full, len(existing) + args.samples)
    return 0


def report(info, args, fills, fresh, old, mem_empty, mem_filled, mem_full, total) -> None:
    line = "-" * 100
    print("\n" + line)
    print_machine(info)
    print(line)
    print("1. Bulk creation through POST /tenants/{tid}/extensions (SQLite)")
    print(f"  {'mode':<22} {'created':>8} {'seconds':>8} {'ext/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  errors")
    for r in fills:
        s = summary_ms(r.latencies)
        print(f"  {r.label + f' (x{r.concurrency})':<22} {len(r.created):>8} {r.seconds:>8.1f} {r.rate:>8.1f} "
              f"{s['p50']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f}  {r.errors or '-'}")
    if not fills:
        print("  (prefilled straight into SQLite: no API figures)")
    for r in fills:
        n = max(1, len(r.created))
        print(f"  {r.label} CPU per extension ({os.cpu_count()} cores = {os.cpu_count()},000 ms/s): "
              f"control plane {r.cpu['control'] / n * 1000:.2f} ms, Asterisk {r.cpu['asterisk'] / n * 1000:.2f} ms, "
              f"this client {r.cpu['client'] / n * 1000:.2f} ms")
    print(line)
    print(f"2. Time to a working REGISTER, {total - len(fresh)}..{total} extensions present, {len(fresh)} samples each")
    print(f"  {'':<50} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8}")

    def row(label, values):
        s = summary_ms(values)
        print(f"  {label:<50} {s['p50']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f} {s['mean']:>8.1f}")

    row("new ext: POST sent -> REGISTER 200 OK  [headline]", [s.post + s.to_registered for s in fresh])
    row("new ext: POST request -> 201 (client)", [s.post for s in fresh])
    row("new ext: 201 -> REGISTER 200 OK", [s.to_registered for s in fresh])
    row("  of which harness queueing (201 -> phone created)", [s.queued for s in fresh])
    row("  of which phone create + REGISTER/401/REGISTER/200", [s.sip for s in fresh])
    row("existing ext: start -> REGISTER 200 OK", [s.to_registered for s in old])
    row("  of which harness queueing", [s.queued for s in old])
    row("  of which phone create + REGISTER/401/REGISTER/200", [s.sip for s in old])
    codes_new = sorted({s.code for s in fresh})
    codes_old = sorted({s.code for s in old})
    bad = sum(s.code != 200 for s in fresh) + sum(s.code != 200 for s in old)
    print(f"  REGISTER final codes: new {codes_new}, existing {codes_old}; non-200: {bad}")
    target = pct([(s.post + s.to_registered) * 1000 for s in fresh], 99)
    print(f"  target: live in <= 50 ms p99 -> measured p99 {target:.1f} ms: {'MET' if target <= 50 else 'MISSED'}")
    print(line)
    print("3. Resident memory (VmRSS)")
    filled = total - len(fresh)
    print(f"  {'':<30} {'empty DB':>12} {f'{filled} ext':>12} {f'{total} ext, after':>18}")
    print(f"  {'':<30} {'':>12} {'filled':>12} {f'{2 * len(fresh)} REGISTERs':>18}")
    for key, label in (("asterisk", "Asterisk (bwrap + children)"), ("control", "control plane (pbx up)")):
        print(f"  {label:<30} {mem_empty[key] / 1024:>8.1f} MiB {mem_filled[key] / 1024:>8.1f} MiB "
              f"{mem_full[key] / 1024:>14.1f} MiB")
    print(f"  Asterisk processes: {[(c, round(k / 1024, 1)) for _, c, k in mem_full['asterisk_parts']]} MiB")
    print(line)


if __name__ == "__main__":
    sys.exit(main())
