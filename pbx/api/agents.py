"""What an agent's session may reach: deny by default. An agent sees its own extension's
calls, their recordings, voicemail and events, its own extension and user, and its tenant's
name; it places click-to-calls from its own extension; it writes nothing of the tenant's
configuration (403). Another tenant's path is 404 before anything, so ids cannot be probed.
The handlers narrow what they answer to the agent's extension (pbx/api/calls.py,
pbx/api/events.py, pbx/api/click_to_call.py); a route added later is closed to agents until it
is listed here."""
from __future__ import annotations

from aiohttp import web

from pbx.api.context import PRINCIPAL, path_id
from pbx.domain.errors import Forbidden, NotFound

ANY, OWN_EXTENSION, SELF = "any", "own extension", "self"
_EXT = "/api/v1/tenants/{tenant_id}/extensions/{extension_id}"
AGENT_ROUTES = {
    ("GET", "/api/v1/session"): ANY,
    ("DELETE", "/api/v1/session"): ANY,
    ("GET", "/api/v1/tenants"): ANY,  # lists its own tenant only
    ("GET", "/api/v1/tenants/{tenant_id}"): ANY,
    ("GET", "/api/v1/tenants/{tenant_id}/calls"): OWN_EXTENSION,  # narrowed by the handler
    ("POST", "/api/v1/tenants/{tenant_id}/calls"): OWN_EXTENSION,  # click-to-call: the handler refuses another's
    ("GET", "/api/v1/tenants/{tenant_id}/events/stream"): OWN_EXTENSION,  # narrowed by the handler
    ("GET", _EXT): OWN_EXTENSION,
    ("GET", _EXT + "/status"): OWN_EXTENSION,
    ("GET", _EXT + "/voicemail"): OWN_EXTENSION,
    ("GET", _EXT + "/voicemail/{message_id}/audio"): OWN_EXTENSION,
    ("DELETE", _EXT + "/voicemail/{message_id}"): OWN_EXTENSION,
    # Recordings of its own calls, narrowed by the handler (pbx/api/recordings.py); each play logged.
    ("GET", "/api/v1/tenants/{tenant_id}/recordings"): OWN_EXTENSION,
    ("GET", "/api/v1/tenants/{tenant_id}/recordings/{recording_id}/audio"): OWN_EXTENSION,
    ("GET", "/api/v1/users/{user_id}"): SELF,
    ("PATCH", "/api/v1/users/{user_id}"): SELF,  # its name and password (pbx/users/service.py)
}


@web.middleware
async def agent_scope_middleware(request: web.Request, handler):
    principal = request.get(PRINCIPAL)
    if principal is None or not principal.is_agent:
        return await handler(request)
    resource = request.match_info.route.resource
    if resource is None:  # no such path or method: the router's own 404/405
        return await handler(request)
    params = request.match_info
    if "tenant_id" in params and path_id(request, "tenant_id") != principal.tenant_id:
        raise NotFound("no such tenant")
    rule = AGENT_ROUTES.get((request.method, resource.canonical))
    if rule is None:
        raise Forbidden("an agent may not do this")
    if rule == OWN_EXTENSION and principal.extension_id is None:
        raise Forbidden("this agent has no extension any more")
    if rule == OWN_EXTENSION and "extension_id" in params and path_id(request, "extension_id") != principal.extension_id:
        raise NotFound("no such extension")
    if rule == SELF and path_id(request, "user_id") != principal.user_id:
        raise NotFound("no such user")
    return await handler(request)


def own_extension(principal) -> str | None:
    """The extension an agent's answers are narrowed to; None for everyone else. Checked again
    here, not only in the middleware: an agent without one must never fall through to 'all'."""
    if not principal.is_agent:
        return None
    if not principal.extension:
        raise Forbidden("this agent has no extension any more")
    return principal.extension
