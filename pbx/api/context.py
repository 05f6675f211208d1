"""Typed keys for what the composition root puts on the aiohttp application."""
from __future__ import annotations

from aiohttp import web

from pbx.api.throttle import AuthThrottle, SignInThrottle
from pbx.asterisk.ami import Ami
from pbx.billing.plan_change import PlanChanges
from pbx.billing.service import BillingService
from pbx.billing.terms_job import TermsJob
from pbx.numbers.porting import Porting
from pbx.asterisk.health import ExchangeHealth
from pbx.cluster.membership import Membership
from pbx.config import Settings
from pbx.crm.connections import CrmConnections
from pbx.crm.lookup import CrmLookups
from pbx.db.base import MAX_ID
from pbx.db.unit import Database
from pbx.jobs.engine import JobEngine
from pbx.jobs.sealing import Sealer
from pbx.eventing.hub import Hub
from pbx.eventing.webhooks import WebhookService
from pbx.recordings.service import RecordingService
from pbx.security.bans import SipBans
from pbx.services.click_to_call import ClickToCall
from pbx.services.extensions import ExtensionService
from pbx.services.prompts import PromptService
from pbx.services.tenants import TenantService, visible_tenant
from pbx.services.tokens import Principal
from pbx.services.voicemail import VoicemailService
from pbx.users.service import UserService
from pbx.users.sessions import Sessions

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
BILLING = web.AppKey("billing", BillingService)
PLAN_CHANGES = web.AppKey("plan_changes", PlanChanges)
TERMS = web.AppKey("terms", TermsJob)
PORTING = web.AppKey("porting", Porting)
CLICK_TO_CALL = web.AppKey("click_to_call", ClickToCall)
CRM_CONNECTIONS = web.AppKey("crm_connections", CrmConnections)
CRM_LOOKUPS = web.AppKey("crm_lookups", CrmLookups)
USERS = web.AppKey("users", UserService)
SESSIONS = web.AppKey("sessions", Sessions)
SIGN_IN_THROTTLE = web.AppKey("sign_in_throttle", SignInThrottle)
CLUSTER = web.AppKey("cluster", Membership)
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


async def visible_tenant_id(request: web.Request) -> int:
    """The path's tenant once the caller may see it: another's tenant answers 404 before
    the request's body or query is judged (a 422 would tell it the tenant exists)."""
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        await visible_tenant(session, principal(request), tenant_id)
    return tenant_id
