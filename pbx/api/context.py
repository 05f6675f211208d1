"""Typed keys for what the composition root puts on the aiohttp application."""
from __future__ import annotations

from aiohttp import web

from pbx.api.throttle import AuthThrottle
from pbx.asterisk.ami import Ami
from pbx.asterisk.health import ExchangeHealth
from pbx.config import Settings
from pbx.db.base import MAX_ID
from pbx.db.unit import Database
from pbx.jobs.engine import JobEngine
from pbx.jobs.sealing import Sealer
from pbx.eventing.hub import Hub
from pbx.eventing.webhooks import WebhookService
from pbx.recordings.service import RecordingService
from pbx.security.bans import SipBans
from pbx.services.extensions import ExtensionService
from pbx.services.prompts import PromptService
from pbx.services.tenants import TenantService
from pbx.services.tokens import Principal
from pbx.services.voicemail import VoicemailService

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
AMI = web.AppKey("ami", Ami)
EXTENSIONS = web.AppKey("extensions", ExtensionService)
PROMPTS = web.AppKey("prompts", PromptService)
VOICEMAIL = web.AppKey("voicemail", VoicemailService)
RECORDINGS = web.AppKey("recordings", RecordingService)
TENANTS = web.AppKey("tenants", TenantService)
SIP_BANS = web.AppKey("sip_bans", SipBans)
THROTTLE = web.AppKey("throttle", AuthThrottle)
JOBS = web.AppKey("jobs", JobEngine)
SEALER = web.AppKey("sealer", Sealer)
HEALTH = web.AppKey("health", ExchangeHealth)
WEBHOOKS = web.AppKey("webhooks", WebhookService)
EVENT_HUB = web.AppKey("event_hub", Hub)
OPERATIONS = web.AppKey("operations", object)  # pbx.ops.Operations: monitor, faults, notices, metrics
PRINCIPAL = "pbx.principal"  # per request


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def path_id(request: web.Request, name: str) -> int:
    """Ids in paths are positive integers; anything else names nothing (404)."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        raise web.HTTPNotFound(reason=f"no such {name.removesuffix('_id')}")
    return int(raw)
