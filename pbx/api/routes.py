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
    status: int = 200
    operator_only: bool = False
    public: bool = False
    form: bool = False  # multipart upload (file + name) instead of JSON
    query: tuple[str, ...] = ()  # optional string query parameters (documented, checked by the handler)
    response: type[BaseModel] | None = None  # the success body's schema, where the route declares it
    response_description: str = "success"


def add_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        app.router.add_route(route.method, "/api/v1" + route.path, route.handler)
