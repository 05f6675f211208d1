"""bench/cps.py's two Asterisk instances (the PBX, from a root that also holds python3,
and the carrier that originates the calls) and the bench dialplan: the same route as
FastAGI, as static dialplan and as classic AGI."""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from bench.agi_sessions import header_block
from bench.common import TrackedAsterisk, offset_ports
from pbx.asterisk import root as root_module
from pbx.config import default_asterisk_root, settings_from_env

BENCH_DIR = Path(__file__).resolve().parent
PORTS = offset_ports({"api_port": 48080, "sip_port": 45060, "ami_port": 45038, "agi_port": 44573,
                      "rtp_start": 50000, "rtp_end": 50999})
CARRIER = offset_ports({"address": "127.0.5.20", "sip_port": 45062, "ami_port": 45039, "agi_port": 44574,
                        "rtp_start": 51000, "rtp_end": 51999})
PYTHON_ROOT_CACHE = default_asterisk_root().with_name("asterisk-22-python3")
IN_SANDBOX = "/tmp/bench"  # where the classic AGI script and its libraries appear inside bwrap
DIDS = {"fastagi": "+908509990001", "static": "+908509990002", "classic": "+908509990003",
        "classic-sh": "+908509990004"}


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
    manager.conf and dialplan; no realtime (everything from its pjsip.conf). `carrier` is its
    addresses and ports (CARRIER's keys); `pbx_sip_port` where the PBX under test listens."""

    def __init__(self, settings, carrier: dict, pbx_sip_port: int):
        super().__init__(settings)
        self.carrier, self.pbx_sip_port = carrier, pbx_sip_port

    def prepare(self) -> None:
        super().prepare()
        etc = self.instance / "etc"
        values = dict(self.carrier, pbx_sip_port=self.pbx_sip_port, secret=self.settings.ami_secret)
        (etc / "pjsip.conf").write_text(CARRIER_PJSIP.format(**values))
        (etc / "manager.conf").write_text(CARRIER_MANAGER.format(**values))
        (etc / "sorcery.conf").write_text("; bench carrier: everything from pjsip.conf\n")
        (etc / "extconfig.conf").write_text("; bench carrier: no realtime\n[settings]\n")
        (etc / "extensions.conf").write_text("[carrier-in]\nexten => _X.,1,Hangup()\n")
        # The product logs every dialplan step (verbose 3); the carrier is only the harness.
        (etc / "logger.conf").write_text("[general]\n[logfiles]\nmessages.log => notice,warning,error\n")


def start_carrier(tmp: Path, carrier: dict = CARRIER, pbx_sip_port: int = PORTS["sip_port"]) -> CarrierAsterisk:
    settings = settings_from_env(
        env={}, data_dir=tmp / "carrier", audio_dir=tmp / "carrier" / "audio", sip_host=carrier["address"],
        sip_port=carrier["sip_port"], ami_port=carrier["ami_port"], agi_port=carrier["agi_port"],
        rtp_start=carrier["rtp_start"], rtp_end=carrier["rtp_end"], ami_secret=secrets.token_urlsafe(16),
    )
    process = CarrierAsterisk(settings, carrier, pbx_sip_port)
    process.start()
    return process


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
