"""One table of routes: aiohttp serves it and the OpenAPI document describes it."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    summary: str
    body: type[BaseModel] | None = None
    optional_body: bool = False  # the body may be left out (all its fields have defaults)
    status: int = 200
    operator_only: bool = False
    public: bool = False
    form: bool = False  # multipart upload (file + name) instead of JSON
    query: tuple[str, ...] = ()  # optional string query parameters (documented, checked by the handler)
    response: dict | str | None = None  # the 2xx body: a JSON Schema, or a media type (pbx/api/responses.py)
    produces: str = "application/json"  # media type of a JSON Schema'd success body (text/csv for exports)
    gated: bool = False  # may answer 403 feature_not_in_plan although it writes nothing
    raw_body: dict | None = None  # request body by media type, when it is not one JSON model (CSV uploads)
    errors: tuple[tuple[str, str], ...] = ()  # further error statuses: (status, description)
    also_produces: tuple[str, ...] = ()  # binary documents the same answer comes as, by Accept (application/pdf)


def add_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        app.router.add_route(route.method, "/api/v1" + route.path, route.handler)
