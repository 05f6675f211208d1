"""Webhooks: /tenants/{tid}/webhooks[/{id}] and each one's delivery log."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, Field, StringConstraints

from pbx.api import crud
from pbx.api.context import DATABASE, WEBHOOKS, path_id, principal
from pbx.api.errors import json_response
from pbx.api.present import timestamp
from pbx.api.responses import BOOL, INT, STR, TIME, items, nullable, obj
from pbx.api.routes import Route
from pbx.api.schemas import Body, _printable
from pbx.eventing.types import EVENT_TYPES
from pbx.eventing.webhooks import WebhookService

BASE = "/tenants/{tenant_id}/webhooks"


def _known_events(names: list[str]) -> list[str]:
    unknown = [n for n in names if n != "*" and n not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {unknown[:3]}; known: *, {', '.join(sorted(EVENT_TYPES))}")
    return list(dict.fromkeys(names))


Url = Annotated[str, StringConstraints(min_length=8, max_length=2000), AfterValidator(_printable)]
EventNames = Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(min_length=1, max_length=20),
                       AfterValidator(_known_events)]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=200), AfterValidator(_printable)]


class WebhookCreate(Body):
    url: Url
    events: EventNames
    secret: Secret | None = None


class WebhookPatch(Body):
    url: Url = None
    events: EventNames = None
    secret: Secret = None
    enabled: bool = None


WEBHOOK = obj(id=INT, url=STR, events={"type": "array", "items": STR}, secret=STR, enabled=BOOL)
DELIVERY = obj(id=INT, event_id=STR, event_type=STR, seq=INT,
               status={"type": "string", "enum": ["pending", "delivered", "gone", "failed"],
                       "description": "pending | delivered | gone (410) | failed (webhook disabled)"},
               attempts=INT, last_status=nullable(INT), last_error=nullable(STR),
               next_attempt_at=nullable(TIME), delivered_at=nullable(TIME))


def present(row) -> dict:
    # The secret is shown back: the tenant needs it to verify, and it is theirs.
    return {"id": row.id, "url": row.url, "events": row.events, "secret": row.secret, "enabled": row.enabled}


def _delivery(row, event_type: str) -> dict:
    return {"id": row.id, "event_id": row.event_id, "event_type": event_type, "seq": row.seq, "status": row.status,
            "attempts": row.attempts, "last_status": row.last_status, "last_error": row.last_error,
            "next_attempt_at": timestamp(row.next_attempt_at), "delivered_at": timestamp(row.delivered_at)}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "webhook_id")


async def list_webhook_deliveries(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await request.app[WEBHOOKS].deliveries(session, principal(request), *_ids(request))
    return json_response({"items": [_delivery(row, event_type) for row, event_type in rows]})


ONE = BASE + "/{webhook_id}"
ROUTES = crud.routes(crud.Resource(
    BASE, "webhook_id", "webhook", "webhook", WebhookCreate, WebhookPatch, present,
    WebhookService.list, WebhookService.get, WebhookService.create, WebhookService.update, WebhookService.delete,
    schema=WEBHOOK, service=WEBHOOKS, summaries={
        "list": "List the tenant's webhooks",
        "create": "Create a webhook (a secret is generated if none is sent); its URL must "
                  "not resolve to a loopback, private or link-local address",
        "patch": "Change only the fields sent; enabled=true re-enables a disabled one",
        "delete": "Delete a webhook; its pending deliveries go with it"},
)) + [
    Route("GET", ONE + "/deliveries", list_webhook_deliveries, "The webhook's last 100 deliveries, newest first",
          response=items(DELIVERY)),
]
