"""Builds the admin web application."""
from __future__ import annotations

from aiohttp import web

from pbx.api import (
    calls,
    context,
    events,
    extensions,
    ivrs,
    numbers,
    openapi,
    prompts,
    recordings,
    ring_groups,
    schedules,
    tenants,
    trunks,
    voicemail,
    webhooks,
)
from pbx.api.auth import auth_middleware
from pbx.api.errors import error_middleware, json_response
from pbx.api.routes import Route, add_routes

MAX_REQUEST_BYTES = 1024 * 1024  # bodies read whole; prompt uploads stream past this (api/uploads.py)


async def health(request: web.Request) -> web.Response:
    return json_response({"ok": True, "asterisk": request.app[context.AMI].connected})


def all_routes() -> list[Route]:
    return (tenants.ROUTES + extensions.ROUTES + prompts.ROUTES + numbers.ROUTES + ivrs.ROUTES
            + schedules.ROUTES + ring_groups.ROUTES + trunks.ROUTES + voicemail.ROUTES
            + recordings.ROUTES + calls.ROUTES + events.ROUTES + webhooks.ROUTES)


def build_web_app(settings, database, ami, extension_service, prompt_service,
                  voicemail_service, recording_service, tenant_service, *, webhook_service=None,
                  event_hub=None) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware], client_max_size=MAX_REQUEST_BYTES)
    app[context.SETTINGS] = settings
    app[context.DATABASE] = database
    app[context.AMI] = ami
    app[context.EXTENSIONS] = extension_service
    app[context.PROMPTS] = prompt_service
    app[context.VOICEMAIL] = voicemail_service
    app[context.RECORDINGS] = recording_service
    app[context.TENANTS] = tenant_service
    app[context.WEBHOOKS] = webhook_service
    app[context.EVENT_HUB] = event_hub
    routes = all_routes()
    add_routes(app, routes)
    app.router.add_get("/api/v1/openapi.json", openapi.handler(openapi.document(routes)))
    app.router.add_get("/api/v1/health", health)
    return app
