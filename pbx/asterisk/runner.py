"""Runs the cached Debian Asterisk from its root folder, without a container engine.

The root is bound read-only; each instance binds its own state, the database
folder, the dialplans and the prompts into it (bubblewrap), so several instances
(the product, a test session) share one root. Started and stopped by pid.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from pbx.asterisk import configgen
from pbx.asterisk.root import ensure_root
from pbx.config import Settings
from pbx.security.files import PRIVATE_UMASK

log = logging.getLogger(__name__)

SOUNDS_DIR = Path(__file__).resolve().parent / "sounds"  # shipped prompts, e.g. the KVKK recording notice


def write_config(settings: Settings) -> None:
    """The instance's folders and configuration, wherever Asterisk runs (here or in a container)."""
    for name in configgen.STATE_DIRS:
        (settings.asterisk_instance_dir / name).mkdir(parents=True, exist_ok=True)
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    configgen.render(settings, settings.asterisk_instance_dir / "etc")


class AsteriskProcess:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.instance = settings.asterisk_instance_dir
        self.process: subprocess.Popen | None = None
        self.root: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def prepare(self) -> None:
        self.root = ensure_root(self.settings.asterisk_root)
        write_config(self.settings)

    def command(self) -> list[str]:
        if shutil.which("bwrap") is None:
            raise RuntimeError("bubblewrap is not installed (Debian package 'bubblewrap')")
        return [
            "bwrap",
            "--ro-bind", str(self.root or ensure_root(self.settings.asterisk_root)), "/",
            "--proc", "/proc",
            "--dev", "/dev",
            "--tmpfs", "/tmp",
            # A tmpfs over /srv/pbx lets bwrap make mount points the cached root lacks
            # (it is read-only) without rebuilding it.
            "--tmpfs", "/srv/pbx",
            "--bind", str(self.instance), configgen.INSTANCE,
            "--bind", str(self._database_dir()), configgen.DATA,
            "--ro-bind", str(self.settings.dialplans_dir), configgen.DIALPLANS,
            "--bind", str(self.settings.audio_dir), configgen.AUDIO,
            "--ro-bind", str(SOUNDS_DIR), configgen.SOUNDS,
            *self._tls_binds(),
            "--die-with-parent",
            "/usr/sbin/asterisk", "-f", "-n", "-C", f"{configgen.INSTANCE}/etc/asterisk.conf",
        ]

    def _tls_binds(self) -> list[str]:
        if not self.settings.sip_tls:
            return []
        return ["--ro-bind", str(Path(self.settings.sip_tls_cert).resolve()), configgen.TLS_CERT,
                "--ro-bind", str(Path(self.settings.sip_tls_key).resolve()), configgen.TLS_KEY]

    def _database_dir(self) -> Path:
        url = make_url(self.settings.effective_database_url)
        if url.get_backend_name() == "sqlite":
            return Path(url.database).resolve().parent
        return self.settings.data_dir

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def launch(self) -> None:
        """Starts Asterisk without waiting for it (the supervisor's restarts: the control
        plane's AMI connection notices when it is back)."""
        if self.pid:
            return
        self.prepare()
        log_file = open(self.instance / "log" / "stdout.log", "ab")
        # Own session: Ctrl-C in `pbx up` reaches the supervisor, which then stops the
        # control plane and Asterisk in order instead of all dying at once.
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, umask=PRIVATE_UMASK,  # its recordings, astdb and logs: owner-only
            env=self.environment(),
        )
        log_file.close()

    def start(self, timeout: float = 30.0) -> None:
        if self.pid:
            return
        self.launch()
        self.wait_for_ami(timeout)
        log.info("Asterisk running, pid %s", self.pid)

    def wait_for_ami(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Asterisk exited with {self.process.returncode}; see {self.instance / 'log'}")
            try:
                with socket.create_connection((self.settings.ami_host, self.settings.ami_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("Asterisk did not open its AMI port in time")

    def wait_fully_booted(self, timeout: float = 60.0) -> None:
        """Until Asterisk has loaded everything (`core waitfullybooted`)."""
        self.cli("core waitfullybooted", timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.process:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Runs an Asterisk CLI command through the instance's control socket (diagnostics)."""
        args = self.command()[:-5] + ["/usr/sbin/asterisk", "-C", f"{configgen.INSTANCE}/etc/asterisk.conf",
                                      "-rx", command]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout).stdout
