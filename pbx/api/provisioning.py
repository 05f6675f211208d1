"""A QR code that sets a mobile softphone up: the extension's SIP account as one
`sip:user:password@server;transport=udp` URI. The password is stored only as a digest,
so the panel sends back the one it was just shown (creation or a reset); the server
draws the code (qrcode, SVG: no image library) and keeps nothing."""
from __future__ import annotations

import io
from typing import Annotated
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from aiohttp import web
from pydantic import StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, EXTENSIONS, SETTINGS, path_id, principal, visible_tenant_id
from pbx.api.errors import json_body
from pbx.api.routes import Route
from pbx.api.schemas import Body

SipPassword = Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class QrRequest(Body):
    password: SipPassword


def sip_uri(username: str, password: str, server: str) -> str:
    """userinfo per RFC 3261 (user:password), each part escaped so no character breaks the URI."""
    return f"sip:{quote(username, safe='')}:{quote(password, safe='')}@{server};transport=udp"


def qr_svg(text: str) -> bytes:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


async def provisioning_qr(request: web.Request) -> web.Response:
    tenant_id, ext_id = await visible_tenant_id(request), path_id(request, "extension_id")
    body = QrRequest.model_validate(await json_body(request))
    async with request.app[DATABASE].read() as session:
        row = await request.app[EXTENSIONS].get(session, principal(request), tenant_id, ext_id)
    svg = qr_svg(sip_uri(row.sip_username, body.password, request.app[SETTINGS].sip_server))
    return web.Response(body=svg, content_type="image/svg+xml", headers={"Cache-Control": "no-store"})


ROUTES = [
    Route("POST", "/tenants/{tenant_id}/extensions/{extension_id}/qr", provisioning_qr,
          "A QR code (SVG) of the extension's SIP account, sip:user:password@server;transport=udp, for a "
          "mobile softphone; the body carries the password shown at creation or reset (nothing is stored)",
          body=QrRequest, response=responses.SVG),
]
