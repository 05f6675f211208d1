"""The cluster's one PostgreSQL on a single machine (Debian's `postgresql`): a private
cluster in the run's folder, listening only on the bridge address the nodes (and the host)
reach. On real hosts this is the production PostgreSQL and this file is not used."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class LocalPostgres:
    def __init__(self, directory: Path, host: str, port: int):
        self.dir, self.host, self.port = directory, host, port
        self.data = directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://pbx@{self.host}:{self.port}/pbx"

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        # The nodes reach it from their namespaces on the bridge: trust that subnet only.
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.host}/24 trust\n")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={self.host} -c max_connections=200"
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                                     "-o", options, "start"]), check=True, capture_output=True)
        psql = [_bin("psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
        subprocess.run([*psql, "CREATE ROLE pbx LOGIN"], check=True, capture_output=True)
        subprocess.run([*psql, "CREATE DATABASE pbx OWNER pbx"], check=True, capture_output=True)
        return self.url

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                           capture_output=True)
