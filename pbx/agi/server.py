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
_SAFE_VALUE = re.compile(r'^[^"\\\r\n\x00]*$')
# What MSet passes through untouched: no ',' (its separator), no '$' (EXEC substitutes
# variables in its arguments), no quotes, backslashes, brackets or spaces (argument parsing).
_MSET_VALUE = re.compile(r"^[A-Za-z0-9_.+@/:&^*#-]*$")
MSET_MAX = 1000  # well under Asterisk's AGI command buffer (2 KiB)


class AgiError(Exception):
    pass


async def read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """The block up to the blank line, in one read: it must fit the stream's limit (8 KiB;
    Asterisk sends ~600 bytes)."""
    try:
        block = await reader.readuntil(b"\n\n")
    except asyncio.IncompleteReadError as exc:
        raise ConnectionError("peer closed before the AGI headers ended") from exc
    except asyncio.LimitOverrunError as exc:
        raise AgiError("AGI headers too long") from exc
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


class FastAgiServer:
    def __init__(self, routes: dict[str, Handler], *, call_timeout: float):
        self.routes = routes
        self.call_timeout = call_timeout
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port, limit=8192, reuse_address=True)

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            async with asyncio.timeout(self.call_timeout):  # no extra task, unlike wait_for
                await self._serve(reader, writer)
        except TimeoutError:
            log.warning("AGI request exceeded %.1fs; the dialplan takes its failure path", self.call_timeout)
        except (ConnectionError, AgiError, ValueError, asyncio.IncompleteReadError) as exc:
            log.warning("AGI request failed: %s", exc)
        except Exception:
            log.exception("AGI handler error; the dialplan takes its failure path")
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(HEADER_TIMEOUT_S):
            headers = await read_headers(reader)
        script = headers.get("agi_network_script", "")
        handler = self.routes.get(script)
        if handler is None:
            raise AgiError(f"no AGI route {script!r}")
        await handler(Request(app=None, headers=headers, reader=reader, writer=writer))
