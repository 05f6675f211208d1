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


class AgiError(Exception):
    pass


async def read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = await reader.readline()  # bounded by the stream's line limit
        if not line:
            raise ConnectionError("peer closed before the AGI headers ended")
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text:
            return headers
        name, sep, value = text.partition(": ")
        if sep:
            headers[name] = value
    raise AgiError("too many AGI headers")


async def set_variable(request: Request, name: str, value: str) -> None:
    if not _SAFE_VALUE.match(value):
        raise AgiError(f"unsafe value for {name}")
    result = await request.send_command(f'SET VARIABLE {name} "{value}"')
    if result.get("status_code", 200) != 200 or "error" in result:
        raise AgiError(f"SET VARIABLE {name} failed: {result}")


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
            await asyncio.wait_for(self._serve(reader, writer), self.call_timeout)
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
        headers = await asyncio.wait_for(read_headers(reader), HEADER_TIMEOUT_S)
        script = headers.get("agi_network_script", "")
        handler = self.routes.get(script)
        if handler is None:
            raise AgiError(f"no AGI route {script!r}")
        await handler(Request(app=None, headers=headers, reader=reader, writer=writer))
