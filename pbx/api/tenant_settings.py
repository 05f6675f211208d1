"""A tenant admin's settings: GET|PATCH /tenants/{tid}/settings (pbx/services/tenant_settings.py)."""
from __future__ import annotations

from aiohttp import web

from pbx.api.context import DATABASE, principal, visible_tenant_id
from pbx.api.errors import json_body, json_response
from pbx.api.responses import BOOL, obj
from pbx.api.routes import Route
from pbx.api.schemas import Body, changes
from pbx.services.tenant_settings import read_settings, settings_of, update_settings

PATH = "/tenants/{tenant_id}/settings"
SETTINGS = obj(record_calls={**BOOL, "description": "new extensions record their calls unless created otherwise "
                                                   "(only on a plan that records)"},
               recording_notice={**BOOL, "description": "inbound callers hear the KVKK notice that the call may "
                                                        "be recorded (played only while something records)"})


class SettingsPatch(Body):
    record_calls: bool = None
    recording_notice: bool = None


async def get_settings(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    async with request.app[DATABASE].read() as session:
        tenant = await read_settings(session, principal(request), tenant_id)
        answer = settings_of(tenant)
    return json_response(answer)


async def patch_settings(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    body = SettingsPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        tenant = await update_settings(unit, principal(request), tenant_id, changes(body))
        answer = settings_of(tenant)
    return json_response(answer)


ROUTES = [
    Route("GET", PATH, get_settings, "The tenant's own settings: the recording default of new extensions and "
          "the KVKK recording notice (a tenant admin's; not an agent's)", response=SETTINGS),
    Route("PATCH", PATH, patch_settings, "Change the fields sent; record_calls=true on a plan without recording "
          "is 403 feature_not_in_plan and changes nothing. Existing extensions keep their own record_calls",
          body=SettingsPatch, response=SETTINGS),
]
