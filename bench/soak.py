"""Soak: many calls through the real Asterisk at the cps.py rate; does memory level off?

    PYTHONPATH=. .venv/bin/python bench/soak.py [--calls 100000] [--minutes 20] [--arena-max 2|unset]

The real stack (Asterisk + the control plane, SQLite) and a carrier Asterisk (bench/cps.py's),
on ports from PBX_TEST_PORT_OFFSET (API 40080+offset, SIP 40060+offset, ...). One tenant, a
number whose destination is an announcement of a 0.5 s prompt, routed by the product over
FastAGI; the carrier hangs up at answer (as cps.py). --concurrency calls always in flight until
--calls calls or --minutes. Every --every seconds: calls so far, resident size (VmRSS) and
open file descriptors of the PBX Asterisk and of the control plane, Asterisk's threads and its
anonymous mappings of 64 MiB or more (glibc malloc arenas reserve 64 MiB each). Prints the
samples, writes them as CSV (and a PNG with matplotlib, if it is installed) next to --out.
Asserts nothing. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TrackedAsterisk, bench_parser, bench_run, clock, machine, populate, print_machine, \
    process_tree, start_stack
from bench.cps_asterisks import PBX_WATCHER, PBX_WATCHER_CONF, start_carrier
from bench.cps_calls import offer, watched_calls

OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
PORTS = {"api_port": 40080 + OFFSET, "sip_port": 40060 + OFFSET, "ami_port": 40038 + OFFSET,
         "agi_port": 40073 + OFFSET, "rtp_start": 41000 + 10 * OFFSET, "rtp_end": 41499 + 10 * OFFSET}
CARRIER = {"address": f"127.0.5.{30 + OFFSET // 100}", "sip_port": 40062 + OFFSET, "ami_port": 40039 + OFFSET,
           "agi_port": 40074 + OFFSET, "rtp_start": 41500 + 10 * OFFSET, "rtp_end": 41999 + 10 * OFFSET}
DID = "+908509990001"


class SoakAsterisk(TrackedAsterisk):
    """The product's Asterisk; --arena-max overrides (or removes) the runner's MALLOC_ARENA_MAX."""

    arena_max: str | None = None
    pjsip_system: str = ""

    def prepare(self) -> None:
        super().prepare()
        if self.pjsip_system:  # an experiment: PJSIP's timers decide how long a finished call is kept
            options = "".join(f"{pair.strip()}\n" for pair in self.pjsip_system.split(","))
            with open(self.instance / "etc" / "pjsip.conf", "a") as conf:
                conf.write(f"\n[system]\ntype = system\n{options}")

    def environment(self) -> dict[str, str]:
        env = super().environment()
        if self.arena_max == "unset":
            env.pop("MALLOC_ARENA_MAX", None)
        elif self.arena_max:
            env["MALLOC_ARENA_MAX"] = self.arena_max
        return env


# ---- sampling --------------------------------------------------------------------------------
def status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def big_anonymous_mappings(pid: int) -> int:
    """Anonymous mappings of >= 64 MiB of address space: what glibc reserves per malloc arena."""
    count = 0
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) == 5:  # no path: anonymous
            start, end = (int(x, 16) for x in fields[0].split("-"))
            count += end - start >= 60 * 1024 * 1024
    return count


def asterisk_pid(asterisk) -> int:
    return next((p for p in process_tree(asterisk.process.pid) if p != asterisk.process.pid), asterisk.process.pid)


def sample(stack, calls_done: int, failed: int, started: float) -> dict:
    ast, cp = asterisk_pid(stack.asterisk), stack.control.process.pid
    return {"seconds": round(clock() - started), "calls": calls_done, "failed": failed,
            "asterisk_rss_mib": round(status_field(ast, "VmRSS") / 1024, 1),
            "asterisk_anon_mib": round(status_field(ast, "RssAnon") / 1024, 1),
            "control_rss_mib": round(status_field(cp, "VmRSS") / 1024, 1),
            "asterisk_fds": len(os.listdir(f"/proc/{ast}/fd")), "control_fds": len(os.listdir(f"/proc/{cp}/fd")),
            "asterisk_threads": status_field(ast, "Threads"), "arenas_64m": big_anonymous_mappings(ast)}


def malloc_trim(pid: int) -> None:
    """Asks Asterisk's glibc to give every free page back (gdb): what stays resident is live."""
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", f"set sysroot /proc/{pid}/root",
                    "-ex", "call (int) malloc_trim(0)"], capture_output=True, timeout=120)


async def trimmed_samples(stack, done: int, failed: int, started: float, at: tuple[float, ...]) -> list[dict]:
    """After the calls: malloc_trim at each of these seconds of idleness, and a sample after each."""
    rows, idle_from = [], clock()
    for second in at:
        await asyncio.sleep(max(0.0, idle_from + second - clock()))
        await asyncio.to_thread(malloc_trim, asterisk_pid(stack.asterisk))
        rows.append(sample(stack, done, failed, started) | {"note": f"idle {second:g} s, after malloc_trim"})
        print_sample(rows[-1])
    return rows


def print_sample(row: dict) -> None:
    print("  " + "  ".join(f"{k} {v}" for k, v in row.items()), flush=True)


async def soak(stack, carrier, args) -> list[dict]:
    calls, carrier_ami, pbx_ami = await watched_calls(stack, carrier, CARRIER["ami_port"], PBX_WATCHER)
    started, rows, done, failed = clock(), [], 0, 0
    rows.append(sample(stack, 0, 0, started))
    print_sample(rows[-1])
    try:
        while done + failed < args.calls and clock() - started < args.minutes * 60:
            made, _ = await offer(carrier_ami, calls, DID, args.every, args.concurrency, 0.0)
            await asyncio.sleep(0.2)  # the PBX's last Hangup events of the slice
            outcomes = [c.outcome() for c in made]
            done += outcomes.count("completed")
            failed += len(outcomes) - outcomes.count("completed")
            for c in made:  # 100,000 calls are kept as counts, not objects
                calls.by_id.pop(c.id, None)
                calls.by_caller.pop(c.caller, None)
            rows.append(sample(stack, done, failed, started))
            print_sample(rows[-1])
        if args.trim and shutil.which("gdb"):
            rows += await trimmed_samples(stack, done, failed, started, (2.0, 12.0, 45.0))
    finally:
        carrier_ami.close()
        pbx_ami.close()
    return rows


def largest_mappings(pid: int, n: int = 6) -> list[str]:
    """The mappings holding the most resident memory (smaps): what the growth is made of."""
    found, current = [], ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if not line[0].isupper() or ":" not in line.split()[0]:
            current = line
        elif line.startswith("Rss:"):
            found.append((int(line.split()[1]), current))
    return [f"{kib / 1024:8.1f} MiB  {where}" for kib, where in sorted(found, reverse=True)[:n]]


def asterisk_diagnostics(asterisk) -> None:
    print("  largest resident mappings of Asterisk:")
    for line in largest_mappings(asterisk_pid(asterisk)):
        print(f"    {line}")
    queue = asterisk.cli("manager show eventq", timeout=60)
    print(f"  AMI event queue: {queue.count('Usecount:')} events, {len(queue) / 1024 / 1024:.1f} MiB of text")
    for command in ("memory show summary", "core show taskprocessors like stasis", "cdr show status",
                    "core show channels count"):
        out = asterisk.cli(command).strip().splitlines()
        print(f"  asterisk -rx '{command}':")
        for line in out[:25]:
            print(f"    {line}")


def write_outputs(rows: list[dict], out: Path, title: str, compare: Path | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[-1]) if "note" in rows[-1] else list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out.with_suffix(".png"), title, read_rows(compare) if compare else None)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: float(v) if k != "note" else v for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def plot(rows: list[dict], png: Path, title: str, before: list[dict] | None) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no matplotlib: CSV only)")
        return
    fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
    for label, series, style in (("Asterisk", rows, "-"), ("Asterisk, earlier run (--compare)", before or [], ":")):
        traffic = [r for r in series if not r.get("note")]
        if traffic:
            ax.plot([r["calls"] for r in traffic], [r["asterisk_rss_mib"] for r in traffic], style, label=label)
    traffic = [r for r in rows if not r.get("note")]
    ax.plot([r["calls"] for r in traffic], [r["control_rss_mib"] for r in traffic], label="control plane")
    trimmed = [r for r in rows if r.get("note")]
    if trimmed:
        ax.plot([r["calls"] for r in trimmed[-1:]], [r["asterisk_rss_mib"] for r in trimmed[-1:]], "v",
                label="Asterisk after the calls, idle 45 s + malloc_trim")
    ax.set_xlabel("calls completed")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    print(f"  plot: {png}")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=20.0, help="stop after this long, whatever --calls says")
    parser.add_argument("--concurrency", type=int, default=20, help="calls in flight (cps.py's default)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--arena-max", default=None, help="MALLOC_ARENA_MAX for Asterisk ('unset': glibc's default)")
    parser.add_argument("--pjsip-system", default="", help="e.g. 'timer_b=8000': a [system] for pjsip.conf")
    parser.add_argument("--trim", action="store_true",
                        help="afterwards, malloc_trim Asterisk (gdb) at 2, 12 and 45 s idle: what is live, not cached")
    parser.add_argument("--compare", type=Path, default=None, help="an earlier run's CSV, drawn dotted")
    parser.add_argument("--out", type=Path, default=Path("soak"), help="CSV (and PNG) written as OUT.csv / OUT.png")
    args = parser.parse_args()
    SoakAsterisk.arena_max = args.arena_max
    SoakAsterisk.pjsip_system = args.pjsip_system
    with bench_run("pbx-bench-soak-", args.keep) as tmp:
        stack = start_stack(tmp, PORTS, asterisk_class=SoakAsterisk)
        carrier = start_carrier(tmp, CARRIER, PORTS["sip_port"])
        stack.operator.ok("POST", "/trunks", {"name": "Soak carrier", "host": CARRIER["address"],
                                              "port": CARRIER["sip_port"], "match": [CARRIER["address"]]})
        tenant = asyncio.run(populate(stack.operator.base, stack.operator.token, 1, 5, concurrency=1))[0]
        stack.operator.ok("POST", f"/tenants/{tenant.id}/numbers", {  # allocates it to the tenant too
            "number": DID, "destination": {"type": "announcement", "prompt_id": tenant.prompt_id}})
        with open(stack.asterisk.instance / "etc" / "manager.conf", "a") as conf:
            conf.write(PBX_WATCHER_CONF.format(user=PBX_WATCHER, secret=carrier.settings.ami_secret))
        stack.asterisk.cli("manager reload")
        arena = stack.asterisk.environment().get("MALLOC_ARENA_MAX", "glibc default")
        print(f"soak: up to {args.calls} calls or {args.minutes:g} min, {args.concurrency} in flight, "
              f"MALLOC_ARENA_MAX={arena}; a sample every {args.every:g} s", flush=True)
        rows = asyncio.run(soak(stack, carrier, args))
        asterisk_diagnostics(stack.asterisk)
        info = machine(stack.asterisk)
        print_machine(info)
        last = rows[-1]
        print(f"soak: {last['calls']} calls completed, {last['failed']} failed in {last['seconds']} s "
              f"({last['calls'] / max(1, last['seconds']):.0f}/s); Asterisk RSS {rows[0]['asterisk_rss_mib']} -> "
              f"max {max(r['asterisk_rss_mib'] for r in rows)} -> {last['asterisk_rss_mib']} MiB; control plane "
              f"{rows[0]['control_rss_mib']} -> max {max(r['control_rss_mib'] for r in rows)} -> "
              f"{last['control_rss_mib']} MiB")
        write_outputs(rows, args.out, f"bench/soak.py: RSS against calls, {args.concurrency} in flight", args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
