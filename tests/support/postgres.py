"""A throwaway PostgreSQL server (Debian's packages) for the realtime tests on PostgreSQL."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PORT = 25432 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pbx-pg-"))
        self.data = self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://pbx@127.0.0.1:{PORT}/pbx"

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                                     "-o", f"-p {PORT} -k {self.dir} -c listen_addresses=127.0.0.1", "start"]),
                       check=True, capture_output=True)
        psql = [_bin("psql"), "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
        subprocess.run([*psql, "CREATE ROLE pbx LOGIN"], check=True, capture_output=True)
        subprocess.run([*psql, "CREATE DATABASE pbx OWNER pbx"], check=True, capture_output=True)
        return self.url

    def stop(self) -> None:
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                       capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
