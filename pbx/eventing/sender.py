"""One webhook POST: signed, 10 s at most, and only to addresses the SSRF guard allows
at the moment of connecting (the resolver below is aiohttp's own, filtered), so a name
re-pointed at an internal address after it was saved is still refused."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from pbx.eventing.signature import sign
from pbx.eventing.ssrf import Network, address_allowed

TIMEOUT_S = 10.0


class GuardedResolver(AbstractResolver):
    def __init__(self, allow: tuple[Network, ...]):
        self.allow = allow
        self._inner = DefaultResolver()

    async def resolve(self, host, port=0, family=0):
        found = await self._inner.resolve(host, port, family)
        allowed = [entry for entry in found if address_allowed(entry["host"], self.allow)]
        if not allowed:
            raise OSError(f"{host} resolves only to addresses webhooks may not reach")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class Outcome:
    status: int | None  # HTTP status, None when there was no answer
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


def body_of(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class Sender:
    def __init__(self, allow: tuple[Network, ...], timeout_s: float = TIMEOUT_S):
        self.allow = allow
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.allow), use_dns_cache=False, limit=200)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def send(self, url: str, secret: str, event: dict) -> Outcome:
        body = body_of(event)
        headers = {"Content-Type": "application/json", "X-PBX-Event": event["type"], "X-PBX-Delivery": event["id"],
                   "X-PBX-Signature": sign(secret, body, int(time.time())), "User-Agent": "pbx-webhooks/1"}
        try:
            async with self._client().post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                return Outcome(response.status)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:200])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
