"""Kamailio (Debian's package) in front of the nodes: its configuration from the template,
its dispatcher list (one line per node: the membership), and its control socket (kamcmd),
through which a node is drained or brought back without a restart."""
from __future__ import annotations

import glob
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parent / "templates" / "kamailio.cfg"
SET = 1  # the dispatcher set of the Asterisk nodes
# Dispatcher's state flags: A active, I inactive (probing failed), D disabled (drained), P probing.
STATES = {"A": "active", "I": "inactive", "D": "drained"}


def module_dir() -> str:
    found = glob.glob("/usr/lib/*/kamailio/modules") + glob.glob("/usr/lib/kamailio/modules")
    if not found or shutil.which("kamailio") is None:
        raise RuntimeError("Kamailio is not installed (Debian package 'kamailio')")
    return found[0]


@dataclass
class KamailioConfig:
    listen_host: str
    listen_port: int
    directory: Path
    secret: str  # X-Pbx-Cluster: what nodes trust as "this call comes from another node"
    ping_interval: int = 1
    children: int = 4
    # Brute-force bans (README: Cluster): failed digests per source address within the window, then no answer.
    ban_failures: int = 10
    ban_window_s: int = 60
    ban_seconds: int = 900

    @property
    def ctl_socket(self) -> Path:
        return self.directory / "kamailio.ctl"

    @property
    def dispatcher_list(self) -> Path:
        return self.directory / "dispatcher.list"

    @property
    def config_file(self) -> Path:
        return self.directory / "kamailio.cfg"

    def render(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = Template(TEMPLATE.read_text()).substitute(
            listen_host=self.listen_host, listen_port=self.listen_port, module_dir=module_dir(),
            ctl_socket=self.ctl_socket, dispatcher_list=self.dispatcher_list, cluster_secret=self.secret,
            ping_interval=self.ping_interval, children=self.children, ban_failures=self.ban_failures,
            ban_window=self.ban_window_s, ban_seconds=self.ban_seconds)
        self.config_file.write_text(text)
        self.dispatcher_list.touch()

    def write_members(self, nodes: dict[str, str]) -> None:
        """nodes: SIP URI -> state letter (A or D). Written whole, then reloaded by the caller."""
        lines = [f"{SET} {uri} {4 if state == 'D' else 0} 0\n" for uri, state in nodes.items()]
        tmp = self.dispatcher_list.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        tmp.replace(self.dispatcher_list)


class Kamailio:
    def __init__(self, config: KamailioConfig):
        self.config = config
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        self.config.render()
        check = subprocess.run(["kamailio", "-c", "-f", str(self.config.config_file)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"kamailio.cfg does not parse: {check.stderr[-2000:]}")
        log_file = open(self.config.directory / "kamailio.log", "ab")
        self.process = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-f", str(self.config.config_file), "-P", str(self.config.directory / "pid"),
             "-Y", str(self.config.directory)],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + timeout
        while not self.config.ctl_socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Kamailio did not start; see " + str(self.config.directory / "kamailio.log"))
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def rpc(self, *command: str) -> str:
        return control_rpc(f"unix:{self.config.ctl_socket}", *command)

    def reload_members(self) -> None:
        self.rpc("dispatcher.reload")

    def set_state(self, uri: str, state: str) -> None:
        """state: 'a' active (and probed), 'd' disabled: no new calls nor registrations."""
        self.rpc("dispatcher.set_state", state, str(SET), uri)

    def states(self) -> dict[str, str]:
        return parse_states(self.rpc("dispatcher.list"))


def control_rpc(address: str, *command: str) -> str:
    """One RPC through Kamailio's ctl module (kamcmd); address: unix:/path or tcp:host:port."""
    out = subprocess.run(["kamcmd", "-s", address, *command], capture_output=True, text=True, timeout=10)
    if out.returncode:
        raise RuntimeError(f"kamcmd {' '.join(command)}: {out.stderr or out.stdout}")
    return out.stdout


def parse_states(listing: str) -> dict[str, str]:
    """Node URI -> 'active' | 'inactive' | 'drained', from `dispatcher.list`."""
    found, uri = {}, None
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("URI:"):
            uri = line.split(":", 1)[1].strip()
        elif line.startswith("FLAGS:") and uri:
            found[uri] = STATES.get(line.split(":", 1)[1].strip()[:1], "inactive")
            uri = None
    return found
