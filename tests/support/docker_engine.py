"""A private Docker engine for tests: its own dockerd, socket and exec root, never the
machine's default socket, and a data root cached outside the repo.

The data root (~/.cache/pbx/docker/<hash of scripts/images>) keeps the stand-in base
images that scripts/images makes and Docker's build cache, so only the first run on a
machine pays for debootstrap and apt: later runs find the bases and rebuild only the
layers whose inputs changed. One engine at a time may use a data root, so the whole
session holds a lock on it; a changed scripts/images gets a fresh root and the stale
ones are removed under the same lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGES_SCRIPT = REPO / "scripts" / "images"
DOCKERD = "/usr/sbin/dockerd"
DOCKER_BIN_DIR = "/usr/bin"  # Debian's docker CLI, which docker-compose exec also runs


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pbx" / "docker"


def images_key() -> str:
    """Changes whenever what defines the stand-in base images changes."""
    return hashlib.sha256(IMAGES_SCRIPT.read_bytes()).hexdigest()[:12]


def address_pool() -> str:
    """Private networks (the compose file's PostgreSQL network) away from other suites'."""
    offset = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0")) // 100 % 50
    return f"base=10.{200 + offset}.0.0/16,size=24"


class DockerEngine:
    """One dockerd, started and stopped by pid. Its runtime files live in a temp dir."""

    def __init__(self, data_root: Path):
        self.data_root = data_root
        # Short: containerd's socket path under the exec root must stay under 108 bytes.
        self.run_dir = Path(tempfile.mkdtemp(prefix="pbx-dockerd-", dir="/tmp"))
        self.socket = self.run_dir / "docker.sock"
        self.log_path = self.run_dir / "dockerd.log"
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
        env["DOCKER_HOST"] = f"unix://{self.socket}"
        env["PATH"] = f"{DOCKER_BIN_DIR}:{env.get('PATH', '')}"
        return env

    def command(self) -> list[str]:
        # No default bridge and no iptables/sysctl changes: the machine's network is left
        # alone. Builds use the host's network; compose's own networks still work.
        return [DOCKERD, "-H", f"unix://{self.socket}", "--data-root", str(self.data_root),
                "--exec-root", str(self.run_dir / "exec"), "--pidfile", str(self.run_dir / "docker.pid"),
                "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
                "--default-address-pool", address_pool()]

    def start(self, timeout: float = 60) -> None:
        self.data_root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited:\n{self.log_path.read_text()[-3000:]}")
            if self.socket.exists() and self.docker("version", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError(f"dockerd did not answer:\n{self.log_path.read_text()[-3000:]}")

    def docker(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([f"{DOCKER_BIN_DIR}/docker", *args], env=self.env, capture_output=True,
                              text=True, check=check, timeout=timeout)

    def ensure_base_images(self) -> None:
        subprocess.run([str(IMAGES_SCRIPT)], env=self.env, check=True, timeout=900)

    def stop(self) -> None:
        """Stops dockerd (it stops its containers and containerd) and removes its runtime dir."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._unmount_leftovers()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _unmount_leftovers(self) -> None:
        """dockerd leaves its default network namespace mounted under the exec root."""
        prefix = f"{self.run_dir}/"
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
        for point in sorted(points, reverse=True):
            subprocess.run(["umount", point], capture_output=True)


@contextlib.contextmanager
def private_engine():
    """A running private engine with the stand-in base images, stopped on every exit path."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data_root = cache / images_key()
        for stale in cache.iterdir():
            if stale.is_dir() and stale != data_root:
                shutil.rmtree(stale, ignore_errors=True)
        _stop_orphan(cache / "dockerd.pid")
        engine = DockerEngine(data_root)
        try:
            engine.start()
            (cache / "dockerd.pid").write_text(str(engine.process.pid))
            engine.ensure_base_images()
            yield engine
        finally:
            engine.stop()
            (cache / "dockerd.pid").unlink(missing_ok=True)


def _stop_orphan(pid_file: Path) -> None:
    """A dockerd that a killed run (SIGKILL: no finally) left on the data root."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if cmdline.startswith(DOCKERD.encode()):
        os.kill(pid, 15)
        for _ in range(300):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.2)
