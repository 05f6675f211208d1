"""The project's own docker-compose.yml, run on a private engine (tests/support/docker_engine.py).

Host ports come from 41000-41999 (the other suites use 24xxx-39xxx), moved by
PBX_TEST_PORT_OFFSET so that side-by-side suites do not collide.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import yaml

from tests.support.docker_engine import REPO, DockerEngine

COMPOSE_FILE = REPO / "docker-compose.yml"
_BASE = 41000 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0")) % 1000
COMPOSE_PORTS = dict(api=_BASE + 80, sip=_BASE + 60, ami=_BASE + 38, agi=_BASE + 73, postgres=_BASE + 32,
                     rtp_start=_BASE, rtp_end=_BASE + 29)


def compose_env(ports: dict[str, int] = COMPOSE_PORTS) -> dict[str, str]:
    """Every variable the compose file asks for, as an operator's .env would give them."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "PBX_AMI_SECRET": secrets.token_hex(16),
        "PBX_SIP_HOST": "127.0.0.1",
        "PBX_SIP_PORT": str(ports["sip"]),
        "PBX_PUBLIC_SIP_SERVER": f"127.0.0.1:{ports['sip']}",
        "PBX_API_PORT": str(ports["api"]),
        "PBX_AMI_PORT": str(ports["ami"]),
        "PBX_AGI_PORT": str(ports["agi"]),
        "PBX_RTP_START": str(ports["rtp_start"]),
        "PBX_RTP_END": str(ports["rtp_end"]),
        "POSTGRES_PORT": str(ports["postgres"]),
    }


def build_specs() -> list[tuple[str, Path, Path]]:
    """(image tag, context, Dockerfile) of every service the compose file builds."""
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    specs = []
    for service in services.values():
        if "build" in service:
            context = REPO / service["build"]["context"]
            specs.append((service["image"], context, context / service["build"]["dockerfile"]))
    return specs


class ComposeStack:
    def __init__(self, engine: DockerEngine, project: str, env: dict[str, str]):
        self.engine, self.project = engine, project
        self.env = {**engine.env, **env, "COMPOSE_PROJECT_NAME": project}

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker-compose", "-f", str(COMPOSE_FILE), *args], env=self.env, cwd=REPO,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)}: exit {result.returncode}\n"
                                 f"{result.stderr[-3000:]}\n{self.logs() if args[0] != 'logs' else ''}")
        return result

    def build(self) -> None:
        """The compose file's own build sections, over the host's network (the private engine
        has no NAT of its own); what docker-compose build would do, tag for tag."""
        for image, context, dockerfile in build_specs():
            result = self.engine.docker("build", "--network", "host", "-t", image, "-f", str(dockerfile),
                                        str(context), check=False, timeout=900)
            assert result.returncode == 0, f"building {image}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        # Images the rebuild replaced; the layers still in use stay as the build cache.
        self.engine.docker("image", "prune", "-f", check=False)

    def up(self) -> None:
        self.compose("up", "-d", "--no-build")

    def exec(self, service: str, *command: str) -> str:
        return self.compose("exec", "-T", service, *command).stdout

    def _containers(self, *flags: str) -> dict[str, str]:
        """Service -> status, from the Docker CLI: docker-compose starts far slower than it."""
        out = self.engine.docker("ps", *flags, "--filter", f"label=com.docker.compose.project={self.project}",
                                 "--format", '{{.Label "com.docker.compose.service"}}\t{{.Status}}').stdout
        return dict(line.split("\t", 1) for line in out.splitlines() if line)

    def leftovers(self) -> bool:
        """Containers or volumes of this project, from a run that was killed before its down."""
        volumes = self.engine.docker("volume", "ls", "-q", "--filter",
                                     f"label=com.docker.compose.project={self.project}").stdout
        return bool(self._containers("-a") or volumes.strip())

    def wait_healthy(self, services=("postgres", "pbx", "asterisk"), timeout: float = 360) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._containers()
            if all("(healthy)" in status.get(s, "") for s in services):
                return
            time.sleep(0.5)
        raise TimeoutError(f"not healthy: {self._containers('-a')}\n{self.logs()}")

    def logs(self, tail: int = 60) -> str:
        return self.compose("logs", "--no-color", f"--tail={tail}", check=False).stdout

    def psql(self, query: str) -> list[list[str]]:
        """A query in the postgres container, as `docker-compose exec postgres psql` runs it."""
        container = self.engine.docker("ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}",
                                       "--filter", "label=com.docker.compose.service=postgres").stdout.split()[0]
        out = self.engine.docker("exec", container, "psql", "-U", "pbx", "-d", "pbx", "-v", "ON_ERROR_STOP=1",
                                 "-tAF", "\t", "-c", query).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "20", check=False)
