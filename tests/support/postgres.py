"""A throwaway PostgreSQL server (Debian's packages) for the realtime tests on PostgreSQL: the
product's single-machine PostgreSQL (pbx/cluster/postgres.py) on loopback, in a temporary folder."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from pbx.cluster.postgres import LocalPostgres

PORT = 25432 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))


class PostgresServer(LocalPostgres):
    def __init__(self):
        super().__init__(Path(tempfile.mkdtemp(prefix="pbx-pg-")), "127.0.0.1", PORT)

    def stop(self) -> None:
        super().stop()
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
