"""Every node's control plane routes calls from its own in-memory snapshot, stepped after each
commit it makes itself. In a cluster the others' commits must step it too: each commit to the
snapshot's tables is announced with PostgreSQL's NOTIFY (which rows of which tables), and every
other control plane LISTENs and announces it to its own database's subscribers (pbx/db/unit.py),
so whatever follows a table locally (snapshot, fallback, trunks, CRM cache) follows it cluster-wide. A change made through
any node's API is thus routed by every node within milliseconds, with no reload anywhere."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import asyncpg
from sqlalchemy.engine import make_url

from pbx.db.written import Written
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

CHANNEL = "pbx_written"
MAX_PAYLOAD = 7000  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes and more


def encode(written: Written, origin: str) -> str:
    """Rows whose keys JSON keeps (ints, strings) go as rows; larger or other writes as whole tables."""
    rows = {t: [[k, tid] for k, tid in r.items()] for t, r in written.rows.items()
            if all(isinstance(k, (int, str)) for k in r)}
    whole = sorted(written.whole | (set(written.rows) - set(rows)))
    text = json.dumps({"origin": origin, "rows": rows, "whole": whole})
    if len(text) > MAX_PAYLOAD:
        text = json.dumps({"origin": origin, "rows": {}, "whole": sorted(written.tables)})
    return text


def decode(payload: str) -> tuple[str, Written]:
    data = json.loads(payload)
    written = Written(whole=set(data["whole"]))
    for table, pairs in data["rows"].items():
        for key, tenant_id in pairs:
            written.add_row(table, key, tenant_id)
    return data["origin"], written


class WrittenRelay:
    def __init__(self, database_url: str, database):
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        self.database = database  # pbx/db/unit.py Database: where the others' writes are announced
        self.origin = f"{os.uname().nodename}:{os.getpid()}"
        self._listen: asyncpg.Connection | None = None
        self._send: asyncpg.Connection | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks = OwnedTasks()

    async def start(self) -> None:
        self._listen = await asyncpg.connect(self.dsn)
        self._send = await asyncpg.connect(self.dsn)
        await self._listen.add_listener(CHANNEL, self._heard)
        self._tasks.spawn(self._publish(), "cluster-relay")

    def committed(self, written: Written) -> None:
        """A commit listener of every followed table (synchronous: queued, sent at once)."""
        self._queue.put_nowait(encode(written, self.origin))

    async def _publish(self) -> None:
        while True:
            payload = await self._queue.get()
            try:
                await self._send.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except (asyncpg.PostgresError, OSError) as exc:  # the others catch up at their next start
                log.warning("cluster relay: could not announce a write: %s", exc)

    def _heard(self, _connection, _pid, _channel, payload: str) -> None:
        origin, written = decode(payload)
        if origin != self.origin:  # its own were told at commit
            self.database.announce(written, skip=self.committed)

    async def stop(self) -> None:
        await self._tasks.cancel()  # ended before its connection closes under it
        for connection in (self._listen, self._send):
            if connection is not None:
                await connection.close()
