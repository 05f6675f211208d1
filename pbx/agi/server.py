"""FastAGI server on panoramisk's Request, with what its Application lacks:
bounded header reading, a per-call deadline, and tasks that shutdown cancels."""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from panoramisk.fast_agi import Request

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[None]]
MAX_HEADERS = 256
HEADER_TIMEOUT_S = 2.0
HEADER_LIMIT = 8192  # Asterisk sends ~600 bytes
_SAFE_VALUE = re.compile(r'^[^"\\\r\n\x00]*$')
# What MSet passes through untouched: no ',' (its separator), no '$' (EXEC substitutes
# variables in its arguments), no quotes, backslashes, brackets or spaces (argument parsing).
_MSET_VALUE = re.compile(r"^[A-Za-z0-9_.+@/:&^*#-]*$")
MSET_MAX = 1000  # well under Asterisk's AGI command buffer (2 KiB)


class AgiError(Exception):
    pass


def parse_headers(block: bytes) -> dict[str, str]:
    """The `agi_*: value` lines of a header block (up to and including its blank line)."""
    lines = block.decode("utf-8", errors="replace").split("\n")
    if len(lines) > MAX_HEADERS:
        raise AgiError("too many AGI headers")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.rstrip("\r").partition(": ")
        if sep:
            headers[name] = value
    return headers


async def set_variable(request: Request, name: str, value: str) -> None:
    if not _SAFE_VALUE.match(value):
        raise AgiError(f"unsafe value for {name}")
    result = await request.send_command(f'SET VARIABLE {name} "{value}"')
    if result.get("status_code", 200) != 200 or "error" in result:
        raise AgiError(f"SET VARIABLE {name} failed: {result}")


async def set_variables(request: Request, pairs: list[tuple[str, str]]) -> None:
    """Sets the variables in order, in one round trip (EXEC MSet) when every value is
    plain, else one SET VARIABLE each. Either way the last pair is set last."""
    command = "EXEC MSet " + '"' + ",".join(f"{name}={value}" for name, value in pairs) + '"'
    if len(command) > MSET_MAX or not all(_MSET_VALUE.match(value) for _, value in pairs):
        for name, value in pairs:
            await set_variable(request, name, value)
        return
    result = await request.send_command(command)
    if result.get("status_code", 200) != 200 or "error" in result or result.get("result", ("0",))[0] != "0":
        raise AgiError(f"MSet failed: {result}")


class _Writer:
    """What panoramisk's Request writes through: the transport (a command is a few hundred
    bytes; nothing to wait for)."""

    __slots__ = ("write",)

    def __init__(self, transport: asyncio.Transport):
        self.write = transport.write

    async def drain(self) -> None:
        return None


class _Session(asyncio.Protocol):
    """One FastAGI connection. The header block is gathered here, in the protocol: Asterisk
    writes it one line at a time (~25 writes), and waking a task for each cost more than the
    decision itself. Only a complete block starts the handler, as a task with the per-call
    deadline; its commands then go through panoramisk's Request on a StreamReader fed here."""

    def __init__(self, server: FastAgiServer):
        self.server = server
        self.buffer = bytearray()
        self.reader: asyncio.StreamReader | None = None
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.fed = 0

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(HEADER_TIMEOUT_S, self._give_up, "AGI headers too slow")

    def data_received(self, data: bytes) -> None:
        if self.reader is not None:
            self.fed += len(data)
            if self.fed > HEADER_LIMIT:  # a handler reads a few short replies; nothing else comes
                self.transport.close()
            else:
                self.reader.feed_data(data)
            return
        seen = len(self.buffer)
        self.buffer += data
        end = self.buffer.find(b"\n\n", max(0, seen - 1))
        if end < 0:
            if len(self.buffer) > HEADER_LIMIT:
                self._give_up("AGI headers too long")
            return
        self.timer.cancel()
        block, rest = bytes(self.buffer[:end + 2]), bytes(self.buffer[end + 2:])
        self.buffer.clear()
        try:
            headers = parse_headers(block)
        except AgiError as exc:
            self._give_up(str(exc))
            return
        self.reader = asyncio.StreamReader(limit=HEADER_LIMIT)
        if rest:
            self.data_received(rest)
        if not self.transport.is_closing():
            self.server._start(self, headers)

    def eof_received(self) -> bool:
        if self.reader is not None:
            self.reader.feed_eof()
        return False  # the transport closes; a handler still running sees EOF

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer:
            self.timer.cancel()
        if self.reader is not None:
            self.reader.feed_eof()

    def _give_up(self, why: str) -> None:
        if self.reader is None and not self.transport.is_closing():
            log.warning("AGI request failed: %s", why)
        self.transport.close()


class FastAgiServer:
    def __init__(self, routes: dict[str, Handler], *, call_timeout: float):
        self.routes = routes
        self.call_timeout = call_timeout
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), host, port, reuse_address=True)

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self, session: _Session, headers: dict[str, str]) -> None:
        script = headers.get("agi_network_script", "")
        handler = self.routes.get(script)
        if handler is None:
            session._give_up(f"no AGI route {script!r}")
            return
        request = Request(app=None, headers=headers, reader=session.reader, writer=_Writer(session.transport))
        task = asyncio.get_running_loop().create_task(self._run(handler, request, session.transport))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, handler: Handler, request: Request, transport: asyncio.Transport) -> None:
        try:
            async with asyncio.timeout(self.call_timeout):  # no extra task, unlike wait_for
                await handler(request)
        except TimeoutError:
            log.warning("AGI request exceeded %.1fs; the dialplan takes its failure path", self.call_timeout)
        except (ConnectionError, AgiError, ValueError, asyncio.IncompleteReadError) as exc:
            log.warning("AGI request failed: %s", exc)
        except Exception:
            log.exception("AGI handler error; the dialplan takes its failure path")
        finally:
            transport.close()
