"""Builds the admin web application."""
from __future__ import annotations

from aiohttp import web

from pbx.api import (
    billing,
    billing_terms,
    calls,
    click_to_call,
    context,
    crm,
    events,
    extensions,
    holidays,
    ivrs,
    jobs,
    number_allocations,
    numbers,
    openapi,
    porting,
    prompts,
    provisioning,
    recordings,
    resellers,
    ring_groups,
    schedules,
    sip_bans,
    tenant_settings,
    cluster,
    tenants,
    trunks,
    voicemail,
    webhooks,
    operations,
    ops_reports,
)
from pbx.api import session as web_session
from pbx.api import users as user_routes
from pbx.api.agents import agent_scope_middleware
from pbx.api.auth import access_log_middleware, auth_middleware
from pbx.api.throttle import AuthThrottle, SignInThrottle
from pbx.api.errors import error_middleware, json_response
from pbx.api.operations import metrics as metrics_handler
from pbx.api.routes import Route, add_routes
from pbx.panel import add_panel_routes

MAX_REQUEST_BYTES = 1024 * 1024  # bodies read whole; prompt uploads stream past this (api/uploads.py)


async def health(request: web.Request) -> web.Response:
    """200 while the exchange can take calls (AMI up, Asterisk fully booted, SIP answering), else 503
    (pbx/asterisk/health.py decides)."""
    status = request.app[context.HEALTH].status()
    return json_response(status, status=200 if status["ok"] else 503)


def all_routes() -> list[Route]:
    return (jobs.ROUTES + tenants.ROUTES + extensions.ROUTES + prompts.ROUTES + numbers.ROUTES
            + number_allocations.ROUTES + ivrs.ROUTES + schedules.ROUTES + ring_groups.ROUTES + trunks.ROUTES
            + voicemail.ROUTES + recordings.ROUTES + calls.ROUTES + sip_bans.ROUTES + events.ROUTES
            + webhooks.ROUTES + billing.ROUTES + billing_terms.ROUTES + resellers.ROUTES + porting.ROUTES
            + click_to_call.ROUTES + crm.ROUTES
            + web_session.ROUTES + user_routes.ROUTES + provisioning.ROUTES + holidays.ROUTES
            + cluster.ROUTES + operations.ROUTES + ops_reports.ROUTES
            + tenant_settings.ROUTES)


async def _anonymous(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.popall("Server", None)  # which software and version answers is not the client's business


def build_web_app(settings, database, ami, *, extensions, prompts, voicemail, recordings, tenants, jobs,
                  sealer, sip_bans, exchange_health, webhooks, event_hub, billing, plan_changes, terms, porting,
                  click_to_call, crm_connections, crm_lookups, users, sessions,
                  cluster, operations) -> web.Application:
    app = web.Application(middlewares=[access_log_middleware, error_middleware, auth_middleware,
                                       agent_scope_middleware],
                          client_max_size=MAX_REQUEST_BYTES)
    app.on_response_prepare.append(_anonymous)
    app[context.SETTINGS] = settings
    app[context.THROTTLE] = AuthThrottle()
    app[context.DATABASE] = database
    app[context.AMI] = ami
    app[context.EXTENSIONS] = extensions
    app[context.PROMPTS] = prompts
    app[context.VOICEMAIL] = voicemail
    app[context.RECORDINGS] = recordings
    app[context.TENANTS] = tenants
    app[context.SIP_BANS] = sip_bans
    app[context.JOBS] = jobs
    app[context.SEALER] = sealer
    app[context.HEALTH] = exchange_health
    app[context.WEBHOOKS] = webhooks
    app[context.EVENT_HUB] = event_hub
    app[context.BILLING] = billing
    app[context.PLAN_CHANGES] = plan_changes
    app[context.TERMS] = terms
    app[context.PORTING] = porting
    app[context.CLICK_TO_CALL] = click_to_call
    app[context.CRM_CONNECTIONS] = crm_connections
    app[context.CRM_LOOKUPS] = crm_lookups
    app[context.USERS] = users
    app[context.SESSIONS] = sessions
    app[context.SIGN_IN_THROTTLE] = SignInThrottle()
    app[context.CLUSTER] = cluster
    app[context.OPERATIONS] = operations
    routes = all_routes()
    add_routes(app, routes)
    app.router.add_get("/api/v1/openapi.json", openapi.handler(openapi.document(routes)))
    app.router.add_get("/api/v1/health", health)
    add_panel_routes(app)
    app.router.add_get("/metrics", metrics_handler)  # where Prometheus looks by default (operator token)
    return app
