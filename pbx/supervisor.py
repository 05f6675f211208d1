"""`pbx up`: Asterisk and the control plane as two sibling processes of a small supervisor.

Neither outlives the other's crash by accident: a `kill -9` of the control plane leaves
Asterisk serving calls from its fallback snapshot, and the control plane, started again,
attaches to the running Asterisk over AMI (it never starts one itself). Whichever exits is
started again after a back-off (1 s, doubling to 30 s; reset once it has run for a minute),
and each restart is logged. SIGINT or SIGTERM stops the control plane first (it finishes its
call records and archive work), then Asterisk. Both children live in their own sessions, so
Ctrl-C reaches this process only, and both die with it (bwrap's --die-with-parent; the
kernel's parent-death signal for the control plane), so a killed supervisor leaves nothing
behind to collide with the next `pbx up`.
"""
from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from pbx.asterisk.runner import AsteriskProcess

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long starts again from the first delay
POLL_S = 0.1
_PR_SET_PDEATHSIG = 1


@dataclass
class Backoff:
    failures: int = 0
    started: float = 0.0

    def delay_after_exit(self, now: float) -> float:
        if now - self.started >= STABLE_AFTER_S:
            self.failures = 0
        self.failures += 1
        return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (self.failures - 1))


def _die_with_parent() -> None:
    """Runs in the control plane's child before exec: SIGTERM when the supervisor dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ControlPlaneChild:
    """`pbx serve`: the control plane alone, as a child process."""

    def __init__(self):
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def launch(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "pbx", "serve"], stdin=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=_die_with_parent)

    def stop(self, timeout: float = 20.0) -> None:
        if self.pid:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Supervisor:
    def __init__(self, asterisk: AsteriskProcess, control: ControlPlaneChild):
        self.children = {"asterisk": asterisk, "control plane": control}
        self.backoff = {name: Backoff() for name in self.children}
        self.due: dict[str, float] = {}  # name -> when to start it again
        self.stopping = False

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop_requested)
        try:
            self._start("asterisk")
            self.children["asterisk"].wait_for_ami()  # the first time only: the control plane logs in at once
            self._start("control plane")
            while not self.stopping:
                self._tick(time.monotonic())
                time.sleep(POLL_S)
        finally:
            self.children["control plane"].stop()
            self.children["asterisk"].stop()
        log.info("supervisor: stopped")
        return 0

    def _stop_requested(self, signum, _frame) -> None:
        log.info("supervisor: %s, stopping the control plane, then Asterisk", signal.Signals(signum).name)
        self.stopping = True

    def _start(self, name: str) -> None:
        self.backoff[name].started = time.monotonic()
        self.children[name].launch()
        log.info("supervisor: %s started, pid %s", name, self.children[name].pid)

    def _tick(self, now: float) -> None:
        for name, child in self.children.items():
            if name in self.due:
                if now >= self.due[name]:
                    del self.due[name]
                    self._start(name)
            elif child.pid is None:
                code = child.process.returncode if child.process else None
                delay = self.backoff[name].delay_after_exit(now)
                log.error("supervisor: %s exited (%s); starting it again in %.0f s", name, describe_exit(code), delay)
                self.due[name] = now + delay


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
