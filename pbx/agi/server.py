"""FastAGI server: what panoramisk's Application does (headers, routes by script, commands
with panoramisk's reply parsing), plus what it lacks: bounded input, a header deadline and a
per-call deadline, tasks that shutdown cancels, and no task or stream per line received."""
from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import re
from collections.abc import Awaitable, Callable

from panoramisk.utils import parse_agi_result

log = logging.getLogger(__name__)

Handler = Callable[["Session"], Awaitable[None]]
MAX_HEADERS = 256
HEADER_TIMEOUT_S = 2.0
SESSION_LIMIT = 16384  # Asterisk sends ~600 bytes of headers, then a short reply per command
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


async def set_variable(request: Session, name: str, value: str) -> None:
    if not _SAFE_VALUE.match(value):
        raise AgiError(f"unsafe value for {name}")
    result = await request.send_command(f'SET VARIABLE {name} "{value}"')
    if result.get("status_code", 200) != 200 or "error" in result:
        raise AgiError(f"SET VARIABLE {name} failed: {result}")


def mset_command(pairs: list[tuple[str, str]]) -> str | None:
    """One EXEC MSet that sets the variables in order, or None when a value is not plain
    enough for it (or it would be too long): then one SET VARIABLE each."""
    command = "EXEC MSet " + '"' + ",".join(f"{name}={value}" for name, value in pairs) + '"'
    if len(command) > MSET_MAX or not all(_MSET_VALUE.match(value) for _, value in pairs):
        return None
    return command


def check_mset(result: dict) -> None:
    if result.get("status_code", 200) != 200 or "error" in result or result.get("result", ("0",))[0] != "0":
        raise AgiError(f"MSet failed: {result}")


async def set_variables(request: Session, pairs: list[tuple[str, str]]) -> None:
    """Sets the variables in order, in one round trip (EXEC MSet) when every value is
    plain, else one SET VARIABLE each. Either way the last pair is set last."""
    command = mset_command(pairs)
    if command is None:
        for name, value in pairs:
            await set_variable(request, name, value)
        return
    check_mset(await request.send_command(command))


class Session(asyncio.Protocol):
    """One FastAGI connection, and the request its handler gets (`headers`, `send_command`).

    Everything is done in the protocol, with no stream or task per line: Asterisk writes the
    header block one line at a time (~25 writes), and a task woken for each, then a
    StreamReader and panoramisk's Request for the replies, cost more than the decision
    itself. Only a complete block starts the handler, as a task with the per-call deadline.
    Replies are parsed by panoramisk's parse_agi_result, as its Request does."""

    def __init__(self, server: FastAgiServer):
        self.server = server
        self.headers: dict[str, str] | None = None
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._lines: collections.deque[str] = collections.deque()
        self._waiter: asyncio.Future | None = None
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._received = 0
        self._mset = False  # answered without a task (answer_with): only its reply is awaited

    # ---- what a handler uses
    async def send_command(self, command: str) -> dict:
        """Sends one AGI command; its reply parsed (panoramisk's dict: status_code, result...)."""
        self.transport.write(command.encode() + b"\n")
        result = parse_agi_result(await self._line())
        while result.get("status_code") == 100:  # "100 Trying...": the reply follows
            result = parse_agi_result(await self._line())
        if result.get("error") == "AGIUsageError":  # the usage text ends on the next line
            result["msg"] += await self._line()
        return result

    async def _line(self) -> str:
        while not self._lines:
            if self._closed:
                raise ConnectionError("Asterisk closed the AGI session")
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._lines.popleft()

    def answer_with(self, command: str, deadline_s: float) -> None:
        """Ends the session without a task: sends one EXEC MSet, and closes once Asterisk has
        replied to it (or at the deadline). For a decision that was ready at once."""
        self._mset = True
        self._timer = asyncio.get_running_loop().call_later(deadline_s, self._give_up, "AGI request exceeded its deadline")
        self.transport.write(command.encode() + b"\n")

    def _mset_replied(self) -> None:
        while self._lines:
            result = parse_agi_result(self._lines.popleft())
            if result.get("status_code") == 100:  # "100 Trying...": the reply follows
                continue
            try:
                check_mset(result)
            except AgiError as exc:
                log.warning("AGI request failed: %s", exc)
            self._timer.cancel()
            self.transport.close()
            return

    # ---- the protocol
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._timer = asyncio.get_running_loop().call_later(HEADER_TIMEOUT_S, self._give_up, "AGI headers too slow")

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > SESSION_LIMIT:  # headers plus a few short replies; nothing else comes
            self._give_up("AGI peer sent too much")
            return
        seen = len(self._buffer)
        self._buffer += data
        if self.headers is None:
            end = self._buffer.find(b"\n\n", max(0, seen - 1))
            if end < 0:
                return
            self._timer.cancel()
            try:
                self.headers = parse_headers(bytes(self._buffer[:end + 2]))
            except AgiError as exc:
                self._give_up(str(exc))
                return
            del self._buffer[:end + 2]
            self.server._start(self)
            seen = 0
        self._take_lines(seen)

    def _take_lines(self, seen: int) -> None:
        while (end := self._buffer.find(b"\n", max(0, seen))) >= 0:
            self._lines.append(self._buffer[:end].decode("utf-8", errors="replace"))
            del self._buffer[:end + 1]
            seen = 0
        if self._mset:
            self._mset_replied()
        else:
            self._wake()

    def eof_received(self) -> bool:
        self._closed = True
        self._wake()
        return False  # the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer:
            self._timer.cancel()
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done() and (self._lines or self._closed):
            self._waiter.set_result(None)
            self._waiter = None

    def _give_up(self, why: str) -> None:
        if not self.transport.is_closing():
            log.warning("AGI request failed: %s", why)
            self.transport.close()


def route_name(script: str, secret: str) -> str | None:
    """The route of `agi_network_script` ("<secret>/<route>"), or None without the right secret.

    Any local process can connect to the FastAGI port; only Asterisk knows the secret, which
    the generated dialplan carries in the AGI URL (configgen.extensions_conf)."""
    given, sep, route = script.partition("/")
    if not secret or not sep or not hmac.compare_digest(given.encode(), secret.encode()):
        return None
    return route


class FastAgiServer:
    def __init__(self, routes: dict[str, Handler], *, call_timeout: float, secret: str):
        self.routes = routes
        self.call_timeout = call_timeout
        self.secret = secret
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: Session(self), host, port, reuse_address=True)

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self, session: Session) -> None:
        route = route_name(session.headers.get("agi_network_script", ""), self.secret)
        if route is None:
            session._give_up("AGI request without the shared secret")  # never echo what was sent
            return
        handler = self.routes.get(route)
        if handler is None:
            session._give_up(f"no AGI route {route!r}")
            return
        # Most calls are decided at once, from a current snapshot: then one MSet is written
        # from here and the reply closes the session, with no task or coroutine at all.
        decide_now = getattr(handler, "decide_now", None)
        try:
            pairs = decide_now(session) if decide_now is not None else None
        except Exception as exc:
            self._failed(session, exc)
            return
        if pairs is not None and (command := mset_command(pairs)) is not None:
            session.answer_with(command, self.call_timeout)
            return
        task = asyncio.get_running_loop().create_task(self._run(handler, session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, handler: Handler, session: Session) -> None:
        try:
            async with asyncio.timeout(self.call_timeout):  # no extra task, unlike wait_for
                await handler(session)
        except Exception as exc:
            self._failed(session, exc)
        finally:
            session.transport.close()

    def _failed(self, session: Session, exc: Exception) -> None:
        """A handler failed, either way it ran: the session ends, and the dialplan takes its
        failure path. What a call or a peer can cause is a warning; anything else a bug."""
        if isinstance(exc, TimeoutError):
            log.warning("AGI request exceeded %.1fs; the dialplan takes its failure path", self.call_timeout)
        elif isinstance(exc, (ConnectionError, AgiError, ValueError)):
            log.warning("AGI request failed: %s", exc)
        else:
            log.error("AGI handler error; the dialplan takes its failure path", exc_info=exc)
        session.transport.close()
