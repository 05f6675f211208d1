"""How the API's HTTP server treats connections before a handler runs: slow or
malformed requests get the contract's error envelope and say nothing about the
software behind it."""
from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from pbx.api.errors import error_body, http_code

# A connection must deliver a complete request head within this many seconds of
# opening (or of its previous response): a client trickling header lines
# (slowloris) is closed instead of holding a connection for an hour.
HEADER_SECONDS = 10.0

log = logging.getLogger(__name__)


class _Anonymous(web.Response):
    """aiohttp adds `Server: Python/x aiohttp/y` while preparing headers; the app's
    response hook (app.py) removes it from handler responses, this from the rest."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.popall("Server", None)


class _ApiRequestHandler(RequestHandler):
    def handle_error(self, request, status: int = 500, exc=None, message=None) -> web.StreamResponse:
        """A request that could not be parsed (bad request line, header bytes, sizes):
        the error envelope, never the offending bytes echoed back as text/plain."""
        log.debug("malformed request from %s: %s", request.remote, message or exc)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent")
        text = "malformed HTTP request" if status < 500 else "internal error"
        response = _Anonymous(status=status, text=error_body(http_code(status), text),
                              content_type="application/json")
        response.force_close()
        return response


class _ApiServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _ApiRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    def __init__(self, app: web.Application):
        super().__init__(app, access_log=None, keepalive_timeout=HEADER_SECONDS)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its Server itself and offers no hook for the protocol class;
        # the subclass only changes which handler each connection gets.
        server.__class__ = _ApiServer
        return server
