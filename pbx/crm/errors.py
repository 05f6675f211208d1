"""A CRM that answers something other than what its documentation promises. One type for
every provider (lookup.py's breaker counts any failure; a caller that wants to tell a CRM's
refusal from a network fault catches CrmError)."""
from __future__ import annotations

import aiohttp


class CrmError(Exception):
    pass


class ProviderError(CrmError, aiohttp.ClientResponseError):
    """A provider's non-2xx answer, also the aiohttp error an HTTP caller already handles,
    with the provider's own error code when it names one."""

    def __init__(self, response: aiohttp.ClientResponse, body: str, code: str | None = None) -> None:
        aiohttp.ClientResponseError.__init__(
            self, response.request_info, response.history, status=response.status,
            message=f"{response.reason}: {code or ''} {body[:200]}".strip(), headers=response.headers)
        self.error_code = code
