"""The outbound worker: a child process of the control plane that delivers what may trail the
calls (webhooks, outage notices by SMS and e-mail, voicemail e-mails) at a lower CPU priority
(PBX_WORKER_PRIORITY), so a burst of deliveries takes the CPU that the routing of calls and
Asterisk leave idle instead of sharing the event loop that answers FastAGI (bench/fanout.py,
bench/notices.py).

It owns no state: whatever it delivers is a row the control plane committed in the transaction
of what caused it (webhook_deliveries, notices, voicemail_mails), and each outcome is recorded
in its row, so the worker may die and start again at any moment (at least once, as before).

The two talk over a socket pair the control plane makes, one JSON object per line:
- control plane -> worker: `{"poke": "webhooks"}`: rows were committed that may be due now
  (the worker also looks on an interval, and at its start);
- worker -> control plane: `{"event": {...}}`: a tenant's event the worker raised and committed
  (webhook.disabled), for the live stream the control plane serves.
The worker ends when its end of the socket closes (the control plane stopped, or died: no
orphan is left); the control plane starts it again after a back-off whenever it exits."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable

from pbx.config import Settings, settings_env
from pbx.supervisor import Backoff, describe_exit

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 15.0
LINE_LIMIT = 1 << 20  # one event, as the outbox stores it


def lower_priority(priority: str) -> None:
    """idle (the default): SCHED_IDLE, the worker runs on CPU nobody else wants and whatever wakes
    up beside it takes the core at once (bench/notices.py: routing kept 0.97-1.02x its rate during a
    fan-out, against 0.55-0.89x at nice +10 with SCHED_BATCH). Under a load that keeps every core
    busy it gets almost nothing, and on SQLite a write it has begun holds the database's one write
    lock meanwhile (the control plane's writes wait, up to seconds): `low` (nice +10, SCHED_BATCH)
    keeps it a share on such a machine. `normal`: as the control plane."""
    if priority == "idle":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    elif priority == "low":
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # its waking up preempts nobody
        os.nice(10)


def _line(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _field(line: bytes, name: str):
    """The line's message's `name`, or None (logged) if the line is not such a message."""
    try:
        return json.loads(line)[name]
    except (ValueError, KeyError, TypeError):
        log.error("outbound worker: unreadable line %r", line[:200])
        return None


class WorkerProcess:
    """The control plane's side: starts `pbx worker`, restarts it when it exits, passes pokes
    to it (a burst in one loop iteration is one line per kind) and hands back its events."""

    def __init__(self, settings: Settings, on_event: Callable[[dict], None]):
        self.settings, self.on_event = settings, on_event
        self.process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: set[str] = set()
        self._task: asyncio.Task | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None

    def poke(self, kind: str) -> None:
        """Synchronous (a commit listener, an event sink): sent once the loop comes round. A poke
        while the worker is down is dropped: a worker reads every due row when it starts."""
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.add(kind)

    def _flush(self) -> None:
        kinds, self._pending = self._pending, set()
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(b"".join(_line({"poke": kind}) for kind in sorted(kinds)))

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running(), name="outbound-worker")

    async def stop(self) -> None:
        """Closes the worker's socket (it finishes and exits), then waits for it; killed if slow."""
        self._stopping = True
        if self._writer is not None:
            self._writer.close()
        if self.pid:
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self.process.wait()
            except TimeoutError:
                log.warning("outbound worker: did not stop within %.0f s; killed", STOP_TIMEOUT_S)
                self.process.kill()
                await self.process.wait()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _keep_running(self) -> None:
        backoff = Backoff()  # pbx up's: 1 s, doubling to 30 s, from 1 s again after a minute's run
        while not self._stopping:
            backoff.started = time.monotonic()
            code = await self._run_once()
            if self._stopping:
                return
            delay = backoff.delay_after_exit(time.monotonic())
            log.error("outbound worker exited (%s); starting it again in %.0f s", describe_exit(code), delay)
            await asyncio.sleep(delay)

    async def _run_once(self) -> int | None:
        ours, theirs = socket.socketpair()
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pbx", "worker", "--fd", str(theirs.fileno()),
                pass_fds=[theirs.fileno()], env=settings_env(self.settings), stdin=asyncio.subprocess.DEVNULL)
        except BaseException:
            ours.close()  # a worker started all the same reads EOF and exits
            raise
        finally:
            theirs.close()
        log.info("outbound worker started, pid %s, priority %s", self.process.pid, self.settings.worker_priority)
        reader, self._writer = await asyncio.open_unix_connection(sock=ours, limit=LINE_LIMIT)
        try:
            while line := await reader.readline():
                self._received(line)
        except (ConnectionError, ValueError) as exc:  # ValueError: a line over the limit
            log.error("outbound worker: link broken: %s", exc)
        finally:
            self._writer.close()
            self._writer = None
        if self.process.returncode is None and not self._stopping:
            self.process.kill()  # its socket is gone: it can no longer be poked or heard
        return await self.process.wait()

    def _received(self, line: bytes) -> None:
        if (event := _field(line, "event")) is not None:
            self.on_event(event)


class ControlPlaneLink:
    """The worker's side of the socket: pokes in, events out."""

    def __init__(self, fd: int):
        self._socket = socket.socket(fileno=fd)
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_unix_connection(sock=self._socket, limit=LINE_LIMIT)

    def send_event(self, event: dict) -> None:
        """An event sink of the worker's EventBus."""
        if not self._writer.is_closing():
            self._writer.write(_line({"event": event}))

    async def serve(self, poke: Callable[[str], None], stop: asyncio.Event) -> None:
        """Hands every poke on until the control plane closes its end (or `stop` is set)."""
        reading = asyncio.ensure_future(self._pokes(poke))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([reading, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in (reading, stopping):
            task.cancel()
        await asyncio.gather(reading, stopping, return_exceptions=True)

    async def _pokes(self, poke: Callable[[str], None]) -> None:
        try:
            while line := await self._reader.readline():
                if (kind := _field(line, "poke")) is not None:
                    poke(kind)
        except ConnectionError:
            pass

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await asyncio.gather(self._writer.wait_closed(), return_exceptions=True)


async def run_worker(fd: int, serve: Callable[[ControlPlaneLink, asyncio.Event], Awaitable[None]]) -> None:
    """The worker's main (its priority already lowered by `pbx worker`): serves until its socket
    closes, or a SIGTERM. A Ctrl-C in a terminal reaches the whole process group: the worker
    leaves it to the control plane, which ends it last (it would otherwise be started again)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    link = ControlPlaneLink(fd)
    await link.open()
    try:
        await serve(link, stop)
    finally:
        await link.close()

