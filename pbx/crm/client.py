"""The one HTTP client every CRM request goes through, guarded like webhooks against our own
network (pbx/eventing/ssrf.py). A host name is checked on the addresses DNS gives at connect
time (GuardedResolver). aiohttp never asks a resolver about an address literal, and a CRM may
send us to a host we were never given (Salesforce's token answer names the instance_url every
later request goes to; a redirect's Location), so each request's URL, and each redirect's, is
checked here before it is sent."""
from __future__ import annotations

import ipaddress

import aiohttp
from yarl import URL

from pbx.crm.errors import CrmError
from pbx.eventing.sender import GuardedResolver
from pbx.eventing.ssrf import Network, address_allowed


def check_host(url: URL, allow: tuple[Network, ...]) -> None:
    """An address literal must be allowed (a name is the resolver's to check)."""
    host = (url.host or "").strip("[]")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
    if not address_allowed(host, allow):
        raise CrmError(f"{url.host} is an address the CRM client may not reach")


def guarded_session(allow: tuple[Network, ...]) -> aiohttp.ClientSession:
    async def starting(session, context, params: aiohttp.TraceRequestStartParams) -> None:
        check_host(params.url, allow)

    async def redirected(session, context, params: aiohttp.TraceRequestRedirectParams) -> None:
        location = params.response.headers.get("Location")
        if location:
            check_host(params.url.join(URL(location)), allow)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(starting)
    trace.on_request_redirect.append(redirected)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow), use_dns_cache=False, limit=100)
    return aiohttp.ClientSession(connector=connector, trace_configs=[trace])
