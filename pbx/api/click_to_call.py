"""Click-to-call: POST /tenants/{tid}/calls (contract: "Click-to-call")."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from pbx.api.agents import own_extension
from pbx.api.context import CLICK_TO_CALL, DATABASE, principal, visible_tenant_id
from pbx.api.errors import json_body, json_response
from pbx.api.responses import STR, obj
from pbx.api.routes import Route
from pbx.api.schemas import Body, ExtensionNumber
from pbx.domain.errors import Forbidden


class ClickToCallBody(Body):
    extension: ExtensionNumber
    # Checked and brought to the dialled form by the service (pbx/services/click_to_call.py).
    to: Annotated[str, StringConstraints(min_length=2, max_length=32)]


async def click_to_call(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    body = ClickToCallBody.model_validate(await json_body(request))
    own = own_extension(principal(request))
    if own is not None and body.extension != own:  # an agent's phone is the only one it may ring
        raise Forbidden("an agent places calls from its own extension only")
    call_id = await request.app[CLICK_TO_CALL].place(request.app[DATABASE], principal(request), tenant_id,
                                                     body.extension, body.to)
    return json_response({"call_id": call_id}, status=202)


ROUTES = [
    Route("POST", "/tenants/{tenant_id}/calls", click_to_call,
          "Click-to-call: ring the extension, then dial `to` by the tenant's rules (call_id = the events' call_id); "
          "an agent's session rings its own extension only (403 for another)",
          body=ClickToCallBody, status=202,
          response=obj(call_id={**STR, "description": "the call's id in its call.* events and its call record"}),
          errors=(("503", "asterisk_unavailable: Asterisk is not connected"),)),
]
