"""The CRM client's own SSRF guard (pbx/crm/client.py): an address literal, which aiohttp
never hands the guarded resolver, is checked before the request, and so is a redirect's
target; a test receiver on loopback is reached only because loopback is allowed here."""
from __future__ import annotations

import ipaddress

import pytest
from aiohttp import web
from yarl import URL

from pbx.crm.client import check_host, guarded_session
from pbx.crm.errors import CrmError
from pbx.crm.providers import KNOWN, registry

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "http://10.0.0.7:8080/", "http://[::1]/",
                                 "http://[::ffff:10.0.0.7]/", "http://[fe80::1%25eth0]/", "http://0.0.0.0/"])
def test_an_address_inside_our_network_is_refused(url):
    with pytest.raises(CrmError, match="may not reach"):
        check_host(URL(url), ())


def test_names_are_left_to_the_resolver_and_allowed_networks_pass():
    check_host(URL("https://example.my.salesforce.com/services"), ())  # resolved (and checked) at connect
    check_host(URL("http://127.0.0.1:9/"), LOOPBACK)
    check_host(URL("https://93.184.216.34/"), ())


async def test_a_redirect_into_our_network_is_not_followed():
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.0.0.7/latest/meta-data")

    app = web.Application()
    app.router.add_get("/", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with guarded_session(LOOPBACK) as http:
            with pytest.raises(CrmError, match="10.0.0.7"):
                await http.get(f"http://127.0.0.1:{port}/")
    finally:
        await runner.cleanup()


def test_every_known_provider_is_registered():
    assert sorted(registry()) == sorted(KNOWN)
