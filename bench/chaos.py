"""Chaos: calls through the real Asterisk while the control plane is killed and Asterisk restarted.

    PYTHONPATH=. .venv/bin/python bench/chaos.py [--calls 200] [--faults 10] [--layout up|stack] [--seed 1]

Layouts: `up` is the README's (`pbx up`: a supervisor, Asterisk and the control plane as its
children, which it starts again after a kill); `stack` is the test suite's (Asterisk and
`pbx up --no-asterisk` as separate processes; this bench starts a killed one again after 1 s,
as Docker's restart policy would). Ports from PBX_TEST_PORT_OFFSET (API 40180+offset, ...).

A KOBİ tenant that records calls: pjsua2 phones 801 (the caller), 802 (recorded) and 803 (not).
--calls calls one after another, every third to 802: the callee answers, both talk --hold s,
the caller hangs up. During --faults random calls of the first two thirds, at a random moment
of the call, one of: kill -9 of the control plane, kill -9 of Asterisk (started again by the
layout). Before each call the bench waits only for Asterisk to be booted, never for the
control plane.

Asterisk's own CSV of its CDRs is the truth of what happened: every call it saw (linkedid), how
it was routed (the control plane's action, or none: the fallback's), and whether MixMonitor
started a recording (its file id). Afterwards the bench waits for the control plane to catch up
and counts, against its database: call records and recordings expected, found, lost and
duplicated; calls placed while the control plane was down, and whether the fallback answered
them; per fault, the time until a new call was routed by the control plane again.
Asserts nothing (tests/test_layout_up.py runs it small and asserts 0 lost, 0 duplicated).
"""
from __future__ import annotations

import csv
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pbx.asterisk import cdrfields  # noqa: E402
from tests.support.up import children, cmdline  # noqa: E402

CALL_TIMEOUT_S = 20.0


@dataclass
class Fault:
    kind: str  # "control plane" | "asterisk"
    at: float  # epoch seconds
    back_at: float | None = None  # control plane's FastAGI port accepting again / Asterisk booted


@dataclass
class Report:
    placed: int = 0
    answered: int = 0
    failed: int = 0
    faults: list[Fault] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


# ---- the two layouts --------------------------------------------------------------------------
class UpLayout:
    """tests.support.up.PbxUp: the supervisor starts a killed child again."""

    def __init__(self, up):
        self.up, self.settings, self.operator = up, up.settings, up.operator

    def kill(self, kind: str) -> None:
        self.up.kill_control_plane() if kind == "control plane" else self.up.kill_asterisk()

    def sql(self, statement: str) -> list[tuple]:
        return self.up.sql(statement)


class StackLayout:
    """tests.support.stack.Stack: this bench plays the restart policy."""

    def __init__(self, stack):
        self.stack, self.settings, self.operator = stack, stack.settings, stack.operator
        # One thread for the whole run starts what was killed: bwrap's --die-with-parent follows
        # the thread that forked it, so Asterisk started from a short-lived thread would die with it.
        self.restarts: queue.Queue = queue.Queue()
        threading.Thread(target=self._restarter, daemon=True).start()

    def kill(self, kind: str) -> None:
        if kind == "control plane":
            process = self.stack.control.process
            process.kill()
            process.wait()
            self.restarts.put(self.stack.control.start)
        else:  # the asterisk process itself, bwrap's child, as in the `up` layout
            process = self.stack.asterisk.process
            os.kill(next(p for p in children(process.pid) if "asterisk" in cmdline(p)), signal.SIGKILL)
            process.wait()
            self.restarts.put(lambda: self.stack.asterisk.start(timeout=180))

    def _restarter(self) -> None:
        while True:
            start = self.restarts.get()
            time.sleep(1.0)
            try:
                start()
            except Exception as exc:  # noqa: BLE001 - the run reports it by not recovering
                print(f"  restart failed: {exc!r}", flush=True)

    def sql(self, statement: str) -> list[tuple]:
        return self.stack.sql(statement)


# ---- what Asterisk and the control plane know ---------------------------------------------------
def asterisk_calls(settings, tenant_id: int) -> dict[str, dict]:
    """linkedid -> {start, action, recording, answered} from Asterisk's CSV, for the tenant."""
    path = cdrfields.csv_path(settings.asterisk_instance_dir)
    calls: dict[str, dict] = {}
    if not path.exists():
        return calls
    with open(path, newline="") as f:
        for row in (dict(zip(cdrfields.KEYS, r)) for r in csv.reader(f)):
            if row["PbxTenant"] != str(tenant_id):
                continue
            call = calls.setdefault(row["PbxLinkedid"], {"start": float(row["PbxStart"] or 0), "action": "",
                                                        "recording": "", "answered": False})
            call["action"] = call["action"] or row["PbxAction"]
            call["recording"] = call["recording"] or row["PbxRecording"]
            call["answered"] |= row["PbxDisposition"] == "ANSWERED"
    return calls


def accounted(expected: set[str], found: list[str]) -> dict:
    counts = Counter(found)
    return {"expected": len(expected), "found": len(expected & set(counts)),
            "lost": len(expected - set(counts)), "duplicated": sum(n - 1 for n in counts.values() if n > 1),
            "unexpected": len(set(counts) - expected)}


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_booted(settings, timeout: float = 120) -> None:
    """Asterisk answers calls: AMI open and `core waitfullybooted` returns (no control plane needed)."""
    from pbx.asterisk.runner import AsteriskProcess

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(settings.ami_port) and "fully booted" in AsteriskProcess(settings).cli(
                "core waitfullybooted", timeout=30).lower():
            return
        time.sleep(0.2)
    raise TimeoutError("Asterisk did not boot")


# ---- the run ----------------------------------------------------------------------------------
def make_tenant(layout, phones) -> tuple[int, dict]:
    api = layout.operator
    tenant = api.ok("POST", "/tenants", {"name": "Kaos Ltd", "plan": "kobi", "record_calls": True,
                                         "recording_notice": False})
    made = {n: api.ok("POST", f"/tenants/{tenant['id']}/extensions",
                      {"number": n, "name": f"Ext {n}", "record_calls": n == "802"}) for n in ("801", "802", "803")}
    desk = {n: phones.add_phone(e["sip"]["username"], e["sip"]["password"], port=layout.settings.sip_port)
            for n, e in made.items()}
    for phone in desk.values():
        assert phone.wait_registered(timeout=15) == 200
    return tenant["id"], desk


def one_call(caller, callee, number: str, hold: float, cut) -> bool:
    """True if the call was answered and ended normally. `cut()` says Asterisk was killed since
    the call began: then the phones would only find out by their own timeouts (32 s), so the
    call is given up at once and the next one placed."""
    call, incoming = caller.call(number), None
    try:
        incoming = patiently(lambda t: callee.wait_incoming(timeout=t), cut)
        incoming.answer()
        patiently(lambda t: call.wait_confirmed(timeout=t), cut)
        time.sleep(hold)
        call.hangup()
        patiently(lambda t: incoming.wait_disconnected(timeout=t), cut)
        return not cut()
    except Exception:  # noqa: BLE001 - a call cut by a fault is counted, not fatal
        for leg in (call, incoming):
            if leg is not None:
                leg.hangup()
        return False


def patiently(wait, cut, timeout: float = CALL_TIMEOUT_S):
    """wait(t) in slices of 0.2 s until it returns, the timeout, or cut()."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return wait(0.2)
        except TimeoutError:
            if cut() or time.monotonic() > deadline:
                raise


def inject(layout, kind: str, delay: float, faults: list[Fault]) -> None:
    """After `delay` s, one fault; returns once the killed process is back."""
    time.sleep(delay)
    fault = Fault(kind, time.time())
    faults.append(fault)
    print(f"  fault: kill -9 of {fault.kind}", flush=True)
    layout.kill(fault.kind)
    time.sleep(0.5)
    if fault.kind == "control plane":
        while not port_open(layout.settings.agi_port):
            time.sleep(0.05)
    else:
        wait_booted(layout.settings)
    fault.back_at = time.time()


def run(layout, phones, calls: int, faults: int, *, seed: int = 1, hold: float = 1.0,
        settle_timeout: float = 180.0) -> Report:
    """Faults come during random calls of the first two thirds (so calls follow each), each at a
    random moment of its call (ringing, talking or hanging up); one at a time: the next waits
    until the last killed process is back."""
    rng = random.Random(seed)
    tenant_id, desk = make_tenant(layout, phones)
    time.sleep(2)  # the fallback snapshot follows the new extensions
    report = Report()
    fault_at = sorted(rng.sample(range(1, max(faults + 1, calls * 2 // 3)), faults))
    kinds = (["control plane", "asterisk"] + [rng.choice(["control plane", "asterisk"]) for _ in fault_at])[:faults]
    rng.shuffle(kinds)  # both kinds, whatever the seed, once there are two faults
    kind_at = dict(zip(fault_at, kinds))
    injector: threading.Thread | None = None
    try:
        for i in range(calls):
            wait_booted(layout.settings)
            if i in kind_at:
                if injector:
                    injector.join()
                injector = threading.Thread(target=inject, daemon=True, args=(
                    layout, kind_at[i], rng.uniform(0, hold + 0.5), report.faults))
                injector.start()
            callee = "802" if i % 3 == 0 else "803"
            report.placed += 1
            kills = sum(f.kind == "asterisk" for f in report.faults)
            ok = one_call(desk["801"], desk[callee], callee, hold,
                          lambda: sum(f.kind == "asterisk" for f in report.faults) > kills)
            report.answered += ok
            report.failed += not ok
    finally:
        if injector:
            injector.join(timeout=300)
        for phone in desk.values():
            phone.remove()
    report.figures = settle(layout, tenant_id, report, settle_timeout)
    return report


def settle(layout, tenant_id: int, report: Report, timeout: float) -> dict:
    """Waits until the control plane holds everything Asterisk saw (or timeout), then counts."""
    deadline = time.monotonic() + timeout
    while True:
        seen = asterisk_calls(layout.settings, tenant_id)
        recordings = {c["recording"] for c in seen.values() if c["recording"]}
        records = [r[0] for r in layout.sql(f"SELECT linkedid FROM calls WHERE tenant_id = {tenant_id}")]
        files = [r[0] for r in layout.sql(f"SELECT file_id FROM recordings WHERE tenant_id = {tenant_id}")]
        figures = {"call records": accounted(set(seen), records), "recordings": accounted(recordings, files)}
        if all(f["lost"] == 0 for f in figures.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    figures["asterisk calls"] = len(seen)
    figures["fallback"] = fallback_figures(seen, report.faults)
    figures["recovery s"] = [recovery(seen, f) for f in report.faults]
    return figures


def fallback_figures(seen: dict[str, dict], faults: list[Fault]) -> dict:
    down = [(f.at, f.back_at or f.at) for f in faults if f.kind == "control plane"]
    during = [c for c in seen.values() if any(a <= c["start"] < b for a, b in down)]
    return {"calls while control plane down": len(during),
            "answered by the fallback": sum(c["answered"] and not c["action"] for c in during),
            "routed by the control plane anyway": sum(bool(c["action"]) for c in during),
            "fallback calls in all": sum(c["answered"] and not c["action"] for c in seen.values())}


def recovery(seen: dict[str, dict], fault: Fault) -> float | None:
    """Seconds from the fault to the start of the first call the control plane routed again."""
    starts = [c["start"] for c in seen.values() if c["action"] and c["start"] >= fault.at]
    return round(min(starts) - fault.at, 1) if starts else None


def print_report(report: Report, layout_name: str) -> None:
    print(f"\nchaos, layout {layout_name}: {report.placed} calls placed, {report.answered} answered and ended "
          f"normally, {report.failed} cut or failed; {len(report.faults)} faults "
          f"({Counter(f.kind for f in report.faults)})")
    for name in ("call records", "recordings"):
        f = report.figures[name]
        print(f"  {name:<13} expected {f['expected']:>4}  found {f['found']:>4}  lost {f['lost']:>3}  "
              f"duplicated {f['duplicated']:>3}  unexpected {f['unexpected']:>3}")
    print(f"  calls Asterisk saw: {report.figures['asterisk calls']}; fallback: {report.figures['fallback']}")
    for fault, seconds in zip(report.faults, report.figures["recovery s"]):
        back = f"{fault.back_at - fault.at:.1f} s" if fault.back_at else "?"
        print(f"  kill -9 of {fault.kind:<13}: back after {back}; next call routed by the control plane "
              f"{seconds} s after the fault")


def main() -> int:
    from bench.common import bench_parser, bench_run, machine, print_machine, start_stack
    from tests.support.phone import Phones
    from tests.support.up import PbxUp

    parser = bench_parser(__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--faults", type=int, default=10)
    parser.add_argument("--layout", choices=["up", "stack"], default="up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hold", type=float, default=1.0, help="seconds each call is connected")
    args = parser.parse_args()
    offset = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
    # The two layouts on ports of their own, so that both can run at once.
    at = offset + (0 if args.layout == "up" else 10)
    ports = {"api_port": 40180 + at, "sip_port": 40160 + at, "ami_port": 40138 + at, "agi_port": 40173 + at,
             "rtp_start": 42000 + 10 * offset + (0 if args.layout == "up" else 500),
             "rtp_end": 42499 + 10 * offset + (0 if args.layout == "up" else 500)}
    with bench_run("pbx-bench-chaos-", args.keep) as tmp, Phones() as phones:
        if args.layout == "up":
            up = PbxUp(tmp, ports)
            try:
                up.start()
                report = run(UpLayout(up), phones, args.calls, args.faults, seed=args.seed, hold=args.hold)
            finally:
                up.stop()
        else:
            stack = start_stack(tmp, ports)
            report = run(StackLayout(stack), phones, args.calls, args.faults, seed=args.seed, hold=args.hold)
        print_machine(machine())
        print_report(report, args.layout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
