"""The web panel: static files served at / on the API's own port. The browser code
(pbx/panel/static) talks only to /api/v1; nothing here reads the database."""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"  # Preact and htm, copied from npm packages by scripts/setup (git-ignored)
_INLINE_SCRIPT = re.compile(rb"<script type=\"importmap\">(.*?)</script>", re.S)


def _csp(index: bytes) -> str:
    """Scripts only from here, plus the one inline import map, named by its hash."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                      for m in _INLINE_SCRIPT.findall(index))
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' blob: data:; "
            "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def _preloads() -> bytes:
    """Every module, announced up front: the browser fetches them in parallel instead of
    discovering each import one round trip after its importer (bench/panel.py)."""
    modules = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.*js"))
    return "".join(f'<link rel="modulepreload" href="/panel/{m}">\n' for m in modules).encode()


def add_panel_routes(app: web.Application) -> None:
    index = (STATIC / "index.html").read_bytes().replace(b"<!-- modulepreload -->\n", _preloads())
    headers = {"Content-Security-Policy": _csp(index), "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin", "Cache-Control": "no-cache"}

    async def serve_index(_request: web.Request) -> web.Response:
        return web.Response(body=index, content_type="text/html", charset="utf-8", headers=headers)

    app.router.add_get("/", serve_index)
    app.router.add_static("/panel/", STATIC, append_version=False)
