"""One Asterisk node of a one-machine cluster: the usual Asterisk under bubblewrap, started
inside the node's network namespace, and its own control plane (`pbx up --no-asterisk`) on
the host, which drives that node's AMI, FastAGI, astdb fallback, call records and recording
spool. Started and stopped (or killed, for the tests) by pid."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pbx.asterisk import configgen
from pbx.asterisk.root import ensure_root
from pbx.asterisk.runner import AsteriskProcess
from pbx.config import Settings, settings_env


class NodeAsterisk(AsteriskProcess):
    """Asterisk in the namespace `netns`; its AMI lets in only the host's bridge address,
    where the node's control plane connects from."""

    def __init__(self, settings: Settings, netns: str, host_address: str):
        super().__init__(settings)
        self.netns = netns
        self.host_address = host_address

    def prepare(self) -> None:
        self.root = ensure_root(self.settings.asterisk_root)
        for name in configgen.STATE_DIRS:
            (self.instance / name).mkdir(parents=True, exist_ok=True)
        self.settings.audio_dir.mkdir(parents=True, exist_ok=True)
        configgen.render(self.settings, self.instance / "etc", ami_permit=self.host_address)

    def command(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *super().command()]

    def kill(self) -> None:
        """kill -9 of the node's whole process group: what a crashed machine looks like."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def channel_count(self) -> int:
        out = self.cli("core show channels count")
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        return 0


@dataclass
class Node:
    index: int
    settings: Settings
    asterisk: NodeAsterisk
    log_path: Path
    control: subprocess.Popen | None = None
    state: str = field(default="active")

    @property
    def uri(self) -> str:
        return f"sip:{self.settings.sip_host}:{self.settings.sip_port}"

    @property
    def api_base(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}/api/v1"

    def start_control(self) -> None:
        if self.control and self.control.poll() is None:
            return
        log = open(self.log_path, "ab")
        self.control = subprocess.Popen([sys.executable, "-m", "pbx", "up", "--no-asterisk"],
                                        env=settings_env(self.settings), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def kill(self) -> None:
        """kill -9 of the node's Asterisk and its control plane: a node that crashed."""
        self.asterisk.kill()
        if self.control and self.control.poll() is None:
            os.killpg(self.control.pid, signal.SIGKILL)
            self.control.wait(10)
        self.control = None

    def stop(self) -> None:
        if self.control and self.control.poll() is None:
            self.control.terminate()
            try:
                self.control.wait(15)
            except subprocess.TimeoutExpired:
                self.control.kill()
                self.control.wait(5)
        self.control = None
        self.asterisk.stop()
