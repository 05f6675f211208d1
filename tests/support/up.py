"""The README's layout for tests and benches: `pbx up` as an operator runs it (a supervisor,
Asterisk and the control plane as its two children), on the ports it is given, in its own
data dir. Faults are made the way they happen: kill -9 of one process."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from pbx.asterisk.runner import AsteriskProcess
from pbx.config import Settings
from tests.support.stack import Api, operator_token, settings_env, stack_settings


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += [int(c) for c in f.read().split()]
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class PbxUp:
    def __init__(self, tmp: Path, ports: dict, database_url: str = "", **overrides):
        self.settings: Settings = stack_settings(tmp, database_url, ports, **overrides).with_secret()
        self.log_path = tmp / "pbx-up.log"
        self.process: subprocess.Popen | None = None
        self.base = f"http://{self.settings.api_host}:{self.settings.api_port}/api/v1"
        self.operator: Api | None = None
        self.asterisk = AsteriskProcess(self.settings)  # for its CLI only: `pbx up` runs the real one

    @property
    def sip_port(self) -> int:
        return self.settings.sip_port

    def start(self, timeout: float = 90) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "pbx", "up"], env=settings_env(self.settings),
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.wait_health(200, timeout)
        self.operator = Api(self.base, operator_token(self.settings))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def health(self) -> int | None:
        try:
            return requests.get(self.base + "/health", timeout=2).status_code
        except requests.RequestException:
            return None

    def wait_health(self, status: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()[-3000:]
            if self.health() == status:
                return
            time.sleep(0.1)
        raise TimeoutError(f"/health did not answer {status} within {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def control_pid(self) -> int | None:
        return next((p for p in children(self.process.pid) if " pbx serve" in cmdline(p)), None)

    def worker_pid(self) -> int | None:
        """The control plane's outbound worker (pbx/worker.py)."""
        control = self.control_pid()
        return next((p for p in children(control) if " pbx worker" in cmdline(p)), None) if control else None

    def asterisk_pid(self) -> int | None:
        """The asterisk process itself (bwrap's child)."""
        for bwrap in (p for p in children(self.process.pid) if cmdline(p).startswith("bwrap ")):
            return next((p for p in children(bwrap) if "asterisk" in cmdline(p)), None)
        return None

    def kill_control_plane(self) -> int:
        pid = self.control_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_asterisk(self) -> int:
        pid = self.asterisk_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_control_plane(self, not_pid: int, timeout: float = 60) -> int:
        """The control plane's new pid, once it is back and the exchange healthy again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.control_pid()
            if pid not in (None, not_pid) and self.health() == 200:
                return pid
            time.sleep(0.1)
        raise TimeoutError(f"the control plane did not come back:\n{self.log()[-3000:]}")

    def sql(self, statement: str) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(f"file:{self.settings.data_dir / 'pbx.sqlite3'}?mode=ro", uri=True) as db:
            return db.execute(statement).fetchall()


@contextlib.contextmanager
def running(tmp: Path, ports: dict, **overrides):
    """`pbx up` started for the block, stopped after it."""
    layout = PbxUp(tmp, ports, **overrides)
    layout.start()
    try:
        yield layout
    finally:
        layout.stop()


def registered_desks(up: PbxUp, phones, name: str, numbers: tuple[str, ...]) -> tuple[int, list]:
    """A new KOBİ tenant with an extension per number, each a phone registered to `up`."""
    tenant = up.operator.ok("POST", "/tenants", {"name": name, "plan": "kobi"})
    made = [up.operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": n, "name": f"Ext {n}"})
            for n in numbers]
    desk = [phones.add_phone(e["sip"]["username"], e["sip"]["password"], port=up.sip_port) for e in made]
    for phone in desk:
        assert phone.wait_registered() == 200
    return tenant["id"], desk
