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
import contextlib
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agi_latency import header_block
from bench.common import (
    TrackedAsterisk,
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
from pbx.asterisk import root as root_module
from pbx.config import default_asterisk_root, settings_from_env

BENCH_DIR = Path(__file__).resolve().parent
PORTS = {"api_port": 48080, "sip_port": 45060, "ami_port": 45038, "agi_port": 44573,
         "rtp_start": 50000, "rtp_end": 50999}
CARRIER = {"address": "127.0.5.20", "sip_port": 45062, "ami_port": 45039, "agi_port": 44574,
           "rtp_start": 51000, "rtp_end": 51999}
PYTHON_ROOT_CACHE = default_asterisk_root().with_name("asterisk-22-python3")
IN_SANDBOX = "/tmp/bench"  # where the classic AGI script and its libraries appear inside bwrap
DIDS = {"fastagi": "+908509990001", "static": "+908509990002", "classic": "+908509990003",
        "classic-sh": "+908509990004"}
CALL_TIMEOUT_S = 15.0


# ---- the two Asterisk instances --------------------------------------------------------------
@contextlib.contextmanager
def with_python3():
    """The Asterisk root's package list plus Debian's python3, for this process only: its own
    cache folder (and fingerprint), so the product's root is never touched."""
    saved = root_module.PACKAGES
    root_module.PACKAGES = saved + ("python3",)
    try:
        yield
    finally:
        root_module.PACKAGES = saved


class PbxAsterisk(TrackedAsterisk):
    """The product's Asterisk, from the python3 root, with the bench folder bound read-only at
    /tmp/bench (inside bwrap's own /tmp) and PYTHONPATH pointing at its pyst2."""

    bench_dir: Path | None = None

    def __init__(self, settings):
        super().__init__(replace(settings, asterisk_root=PYTHON_ROOT_CACHE))

    def prepare(self) -> None:
        with with_python3():
            super().prepare()

    def command(self) -> list[str]:
        cmd = super().command()
        if self.bench_dir is not None:
            at = cmd.index("--die-with-parent")
            cmd[at:at] = ["--ro-bind", str(self.bench_dir), IN_SANDBOX,
                          "--setenv", "PYTHONPATH", f"{IN_SANDBOX}/pylib",
                          "--unsetenv", "PYTHONDONTWRITEBYTECODE", "--unsetenv", "PYTHONUNBUFFERED"]
        return cmd


def prepare_bench_dir(folder: Path) -> Path:
    """The classic AGI script, pyst2 and six (pure Python, from the venv), byte-compiled once by
    the sandbox's own python3, as a real deployment would have them."""
    import asterisk  # pyst2
    import six

    (folder / "agi").mkdir(parents=True)
    shutil.copy2(BENCH_DIR / "agi" / "route.py", folder / "agi" / "route.py")
    (folder / "agi" / "route.py").chmod(0o755)
    shutil.copytree(Path(asterisk.__file__).parent, folder / "pylib" / "asterisk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(six.__file__, folder / "pylib" / "six.py")
    with with_python3():
        root = root_module.ensure_root(PYTHON_ROOT_CACHE)
    subprocess.run(["bwrap", "--ro-bind", str(root), "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                    "--bind", str(folder), IN_SANDBOX, "/usr/bin/python3", "-m", "compileall", "-q",
                    f"{IN_SANDBOX}/pylib"], check=True)
    return folder


CARRIER_PJSIP = """; bench/cps.py: the carrier. Calls go to the PBX, which knows it by its address.
[global]
type = global
user_agent = bench-carrier

[transport-udp]
type = transport
protocol = udp
bind = {address}:{sip_port}

[pbx]
type = aor
contact = sip:127.0.0.1:{pbx_sip_port}

[pbx]
type = endpoint
transport = transport-udp
aors = pbx
context = carrier-in
disallow = all
allow = ulaw
direct_media = no
rtp_symmetric = yes

[pbx-identify]
type = identify
endpoint = pbx
match = 127.0.0.1
"""

CARRIER_MANAGER = """; bench/cps.py: the bench's AMI user on the carrier (it originates the calls).
[general]
enabled = yes
bindaddr = 127.0.0.1
port = {ami_port}
displayconnects = no

[bench]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,system
write = originate,call,system
eventfilter = Event: OriginateResponse
eventfilter = Event: Hangup
"""


PBX_WATCHER = "bench-watch"
PBX_WATCHER_CONF = """
; appended by bench/cps.py: the bench's own AMI user on the PBX, for its Hangup events.
[{user}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call
write =
eventfilter(action(include),name(Hangup)) =
"""


class CarrierAsterisk(TrackedAsterisk):
    """A second Asterisk playing the carrier: the product's templates, then its own pjsip.conf,
    manager.conf and dialplan; no realtime (everything from its pjsip.conf)."""

    pbx_sip_port = PORTS["sip_port"]

    def prepare(self) -> None:
        super().prepare()
        etc = self.instance / "etc"
        values = dict(CARRIER, pbx_sip_port=self.pbx_sip_port, secret=self.settings.ami_secret)
        (etc / "pjsip.conf").write_text(CARRIER_PJSIP.format(**values))
        (etc / "manager.conf").write_text(CARRIER_MANAGER.format(**values))
        (etc / "sorcery.conf").write_text("; bench carrier: everything from pjsip.conf\n")
        (etc / "extconfig.conf").write_text("; bench carrier: no realtime\n[settings]\n")
        (etc / "extensions.conf").write_text("[carrier-in]\nexten => _X.,1,Hangup()\n")
        # The product logs every dialplan step (verbose 3); the carrier is only the harness.
        (etc / "logger.conf").write_text("[general]\n[logfiles]\nmessages.log => notice,warning,error\n")


def start_carrier(tmp: Path) -> CarrierAsterisk:
    settings = settings_from_env(
        env={}, data_dir=tmp / "carrier", audio_dir=tmp / "carrier" / "audio", sip_host=CARRIER["address"],
        sip_port=CARRIER["sip_port"], ami_port=CARRIER["ami_port"], agi_port=CARRIER["agi_port"],
        rtp_start=CARRIER["rtp_start"], rtp_end=CARRIER["rtp_end"], ami_secret=secrets.token_urlsafe(16),
    )
    carrier = CarrierAsterisk(settings)
    carrier.start()
    return carrier


# ---- the bench dialplan ----------------------------------------------------------------------
def write_shell_agi(folder: Path, decision: list[tuple[str, str]]) -> None:
    """The floor of a process-per-call AGI: /bin/sh, no database, the frozen decision."""
    lines = ["#!/bin/sh", "# bench/cps.py classic-sh: what spawning any AGI process costs, without Python.",
             'while IFS= read -r line && [ -n "$line" ]; do :; done']
    for name, value in decision:
        lines += [f"echo 'SET VARIABLE {name} \"{value}\"'", "read -r reply"]
    script = folder / "agi" / "route.sh"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)


PRODUCT_DIALPLAN = BENCH_DIR.parent / "dialplans" / "pbx.conf"


def product_route() -> list[str]:
    """The product's [pbx-route] steps, as written in dialplans/pbx.conf."""
    lines = PRODUCT_DIALPLAN.read_text().splitlines()
    at = lines.index("[pbx-route]") + 1
    steps = []
    for line in lines[at:]:
        if line.startswith("["):
            break
        if line.strip() and not line.lstrip().startswith(";"):
            steps.append(line)
    if sum("AGI(" in step for step in steps) != 1:
        raise RuntimeError(f"[pbx-route] changed shape: {steps}")
    return steps


def route_variant(context: str, decide: list[str]) -> str:
    """[pbx-route] with its one AGI step replaced by `decide` (and, with no AGI left, without
    the AGISTATUS check): every other step, call-record tagging included, is the product's."""
    out = [f"[{context}]"]
    for step in product_route():
        if "AGI(" in step:
            out += [f" same => n,{d}" for d in decide]
        elif "AGISTATUS" in step and not any(d.startswith("AGI(") for d in decide):
            continue
        else:
            out.append(step)
    return "\n".join(out) + "\n"


def bench_dialplan(decision: list[tuple[str, str]]) -> str:
    """[pbx-inbound] entries for the static and classic numbers (exact extensions win over the
    product's pattern), each then running the product's own [pbx-route], whose AGI step is
    replaced by the frozen decision or by a classic AGI. So the variants differ in how the call
    is decided and in nothing else."""
    guard = (" same => n,Set(PBX_DIALLED=${{FILTER(0123456789+,${{EXTEN}})}})\n"
             " same => n,GotoIf($[${{LEN(${{PBX_DIALLED}})}} != ${{LEN(${{EXTEN}})}}]?pbx-apply,unknown,1)\n"
             " same => n,Goto({context},${{PBX_DIALLED}},1)\n")
    return (
        "\n; ---- appended by bench/cps.py: the same route as static dialplan and as a classic AGI ----\n"
        "[pbx-inbound]\n"
        f"exten => {DIDS['static']},1,Set(PBX_ROUTE=inbound)\n" + guard.format(context="bench-static") +
        f"exten => {DIDS['classic']},1,Set(PBX_ROUTE=inbound)\n" + guard.format(context="bench-classic") +
        f"exten => {DIDS['classic-sh']},1,Set(PBX_ROUTE=inbound)\n" + guard.format(context="bench-classic-sh") +
        f"\n; What the control plane decides for {DIDS['fastagi']} (same tenant, same prompt), frozen.\n" +
        route_variant("bench-static", [f"Set({name}={value})" for name, value in decision]) + "\n" +
        route_variant("bench-classic", [f"AGI({IN_SANDBOX}/agi/route.py,${{CHANNEL(endpoint)}})"]) + "\n" +
        route_variant("bench-classic-sh", [f"AGI({IN_SANDBOX}/agi/route.sh,${{CHANNEL(endpoint)}})"])
    )


async def fastagi_decision(port: int, did: str, trunk_id: str) -> list[tuple[str, str]]:
    """Asks the control plane, over FastAGI, what it decides for `did`: the variables it sets
    (one SET VARIABLE each, or all in one EXEC MSet)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header_block("inbound", port, did, trunk_id, 1))
    out = []
    while line := await reader.readline():
        words = line.decode().rstrip("\n").split(" ", 3)
        if words[:2] == ["SET", "VARIABLE"]:
            out.append((words[2], words[3].strip('"')))
        if words[:2] == ["EXEC", "MSet"]:
            out += [tuple(pair.split("=", 1)) for pair in " ".join(words[2:]).strip('"').split(",")]
        writer.write(b"200 result=0\n" if words[0] == "EXEC" else b"200 result=1\n")
    writer.close()
    return out


# ---- AMI -------------------------------------------------------------------------------------
class Ami:
    """A minimal asyncio AMI client: actions with ActionIDs, events to a callback."""

    def __init__(self, on_event):
        self.on_event = on_event
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self.on_response = None  # called with responses nobody awaits (e.g. async Originate)

    async def connect(self, port: int, user: str, secret: str, filters: tuple[str, ...] = ()) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        await self.reader.readline()  # "Asterisk Call Manager/..."
        self._task = asyncio.create_task(self._read())
        answer = await self.action({"Action": "Login", "Username": user, "Secret": secret, "Events": "on"})
        if answer.get("Response") != "Success":
            raise RuntimeError(f"AMI login on {port}: {answer}")
        for expression in filters:
            answer = await self.action({"Action": "Filter", "Operation": "Add", "Filter": expression})
            if answer.get("Response") != "Success":
                raise RuntimeError(f"AMI filter on {port}: {answer}")

    def send(self, fields: dict) -> None:
        self.writer.write("".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n")

    async def action(self, fields: dict, timeout: float = 10) -> dict:
        action_id = f"a{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self.send({**fields, "ActionID": action_id})
        return await asyncio.wait_for(future, timeout)

    async def _read(self) -> None:
        message: dict[str, str] = {}
        while line := await self.reader.readline():
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if text:
                key, sep, value = text.partition(": ")
                if sep and key not in message:
                    message[key] = value
                continue
            if not message:
                continue
            if "Event" in message:
                self.on_event(message)
            elif (future := self._pending.pop(message.get("ActionID", ""), None)) is not None:
                if not future.done():
                    future.set_result(message)
            elif self.on_response is not None:
                self.on_response(message)
            message = {}

    def close(self) -> None:
        self._task.cancel()
        self.writer.close()


# ---- calls -----------------------------------------------------------------------------------
@dataclass
class Call:
    id: str
    caller: str  # the caller number the PBX sees: matches its Hangup event to this call
    started: float
    answered: float | None = None
    ended: float | None = None
    originate: str = ""  # OriginateResponse: Success / Failure; "Error" if the action was refused
    reason: str = ""
    carrier_hung_up: bool = False
    pbx: tuple[str, str, str] | None = None  # (context, exten, cause) of the PBX's channel at hangup
    timed_out: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def check_done(self) -> None:
        if self.originate in ("Failure", "Error") or (self.originate == "Success" and self.carrier_hung_up):
            if self.ended is None:
                self.ended = clock()
            self.done.set()

    def outcome(self) -> str:
        if self.timed_out and not self.done.is_set():
            return "no end within 15 s"
        if self.originate != "Success":
            return f"not answered (originate {self.originate or '?'}, reason {self.reason or '?'})"
        if self.pbx is None:
            return "answered, no PBX hangup event seen"
        if self.pbx[:2] != ("pbx-apply", "announce"):
            return f"answered, but the PBX ended it in {self.pbx[0]}/{self.pbx[1]}"
        return "completed"


class Calls:
    """Every call of the run, looked up from both instances' AMI events."""

    def __init__(self):
        self.by_id: dict[str, Call] = {}
        self.by_caller: dict[str, Call] = {}
        self._n = itertools.count(1)
        self.pbx_unmatched = 0

    def new(self) -> Call:
        n = next(self._n)
        call = Call(f"bench-{n:07d}", f"90532{n:07d}", clock())
        self.by_id[call.id] = call
        self.by_caller[call.caller] = call
        return call

    def carrier_event(self, event: dict) -> None:
        name = event.get("Event")
        if name == "OriginateResponse":
            call = self.by_id.get(event.get("ActionID", ""))
            if call:
                call.originate = event.get("Response", "?")
                call.reason = event.get("Reason", "")
                if call.originate == "Success":
                    call.answered = clock()
                call.check_done()
        elif name == "Hangup":
            call = self.by_id.get(event.get("Uniqueid", ""))
            if call:
                call.carrier_hung_up = True
                call.check_done()

    def carrier_response(self, response: dict) -> None:
        call = self.by_id.get(response.get("ActionID", ""))
        if call and response.get("Response") != "Success":
            call.originate, call.reason = "Error", response.get("Message", "")
            call.check_done()

    def pbx_event(self, event: dict) -> None:
        if event.get("Event") != "Hangup":
            return
        call = self.by_caller.get(event.get("CallerIDNum", ""))
        if call is None:
            self.pbx_unmatched += 1
            return
        call.pbx = (event.get("Context", ""), event.get("Exten", ""), event.get("Cause", ""))


@dataclass
class VariantResult:
    name: str
    calls: list[Call]
    seconds: float
    cpu: dict
    round: int = 1

    def completed(self) -> list[Call]:
        return [c for c in self.calls if c.outcome() == "completed"]

    @property
    def rate(self) -> float:
        return len(self.completed()) / self.seconds if self.seconds else 0.0


async def offer(carrier_ami: Ami, calls: Calls, did: str, seconds: float, concurrency: int, hold: float) -> tuple[
        list[Call], float]:
    """`concurrency` calls always in flight for `seconds`; then waits for the last ones."""
    made: list[Call] = []
    started = clock()
    deadline = started + seconds

    async def slot() -> None:
        while clock() < deadline:
            call = calls.new()
            made.append(call)
            fields = {"Action": "Originate", "ActionID": call.id, "ChannelId": call.id,
                      "Channel": f"PJSIP/{did}@pbx", "CallerID": f'"Bench" <{call.caller}>',
                      "Timeout": "10000", "Async": "true"}
            fields |= {"Application": "Wait", "Data": f"{hold:g}"} if hold > 0 else {"Application": "Hangup"}
            carrier_ami.send(fields)
            try:
                await asyncio.wait_for(call.done.wait(), CALL_TIMEOUT_S)
            except TimeoutError:
                call.timed_out = True

    await asyncio.gather(*(slot() for _ in range(concurrency)))
    return made, clock() - started


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
    calls = Calls()
    carrier_ami = Ami(calls.carrier_event)
    carrier_ami.on_response = calls.carrier_response
    await carrier_ami.connect(CARRIER["ami_port"], "bench", carrier.settings.ami_secret)
    pbx_ami = Ami(calls.pbx_event)
    await pbx_ami.connect(stack.settings.ami_port, PBX_WATCHER, carrier.settings.ami_secret)
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
