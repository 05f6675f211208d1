"""The OpenAPI document, built from the route table, the request models and the
response schemas (responses.py): every answer an operation can give is described."""
from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel

from pbx.api import responses
from pbx.api.errors import json_response
from pbx.api.routes import Route
from pbx.api.schemas import DESTINATION_MARK

_PARAM = re.compile(r"{(\w+)}")
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}
_UPLOAD = {
    "type": "object",
    "required": ["file", "name"],
    "properties": {"file": {"type": "string", "format": "binary"}, "name": {"type": "string", "maxLength": 100}},
}
_WRITES = ("POST", "PATCH", "PUT", "DELETE")
_SESSION = {"type": "apiKey", "in": "cookie", "name": "pbx_session",
            "description": "the panel's session (POST /session). A write made with it must also send the "
                           "session's csrf_token as the X-CSRF-Token header (else 403); a WebSocket opened "
                           "with it must come from this server's own origin"}


_HEALTH_STATUS = {
    "type": "object",
    "required": ["ok", "asterisk", "fully_booted", "sip"],
    "properties": {"ok": {"type": "boolean", "description": "the exchange can take calls"},
                   "asterisk": {"type": "boolean", "description": "AMI logged in"},
                   "fully_booted": {"type": "boolean", "description": "Asterisk has finished booting"},
                   "sip": {"type": "boolean", "description": "Asterisk answers SIP OPTIONS"}},
}
_HEALTH = {"get": {
    "summary": "Can the exchange take calls (pbx/asterisk/health.py)", "operationId": "health", "security": [],
    "responses": {status: {"description": text, "content": {"application/json": {"schema": _HEALTH_STATUS}}}
                  for status, text in (("200", "ready"), ("503", "AMI down or Asterisk still booting"))},
}}


def document(routes: list[Route]) -> dict:
    paths: dict[str, dict] = {"/api/v1/health": _HEALTH}
    schemas: dict[str, dict] = {"Error": _ERROR, **responses.destination_schemas()}
    for route in routes:
        paths.setdefault("/api/v1" + route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Cloud PBX admin API", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "session": _SESSION},
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


def _operation(route: Route, schemas: dict) -> dict:
    operation = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            for name in _PARAM.findall(route.path)
        ] + [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in route.query],
        "responses": {**_success(route), **_errors(route)},
    }
    if route.public:
        operation["security"] = []
    if route.form:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD}}}
    if route.raw_body is not None:
        operation["requestBody"] = {"required": True, "content": route.raw_body}
    if route.body is not None:
        operation["requestBody"] = {
            "required": not route.optional_body,
            "content": {"application/json": {"schema": _schema_ref(route.body, schemas)}},
        }
    return operation


def _success(route: Route) -> dict:
    if route.status == 204:
        return {"204": {"description": "done; no body"}}
    if route.status == 101:
        return {"101": {"description": "switching to WebSocket"}}
    if route.response in (responses.AUDIO, responses.SVG):
        content = {route.response: {"schema": {"type": "string", "format": "binary"}}}
    else:
        content = {route.produces: {"schema": route.response or {"type": "object"}}}
    content.update({media: {"schema": {"type": "string", "format": "binary"}} for media in route.also_produces})
    return {str(route.status): {"description": "success", "content": content}}


def _errors(route: Route) -> dict:
    """The error answers this route can give, each in the error envelope."""
    found: list[tuple[int, str]] = []
    if not route.public:
        found += [(401, "unauthorized: no, unknown or expired token"),
                  (429, "too_many_requests: too many failed authentications from this address")]
    if not route.public:  # an agent's session reaches only its own few routes (pbx/api/agents.py)
        found.append((403, "forbidden: needs an operator token; not for an agent's session; a write signed in "
                           "by cookie without X-CSRF-Token" + ("; or feature_not_in_plan" if route.gated
                                                                 or route.method in _WRITES else "")))
    if "{" in route.path:
        found.append((404, "not_found: no such object, or another tenant's"))
    if route.method in _WRITES:
        found.append((409, "conflict or plan_limit"))
    if route.body is not None or route.form or route.raw_body is not None:
        found.append((413, "too_large: the body or file is over the limit"))
    if route.form:
        found.append((415, "unsupported_media: not MP3 or WAV audio"))
    if route.body is not None or route.form or route.query or route.raw_body is not None:
        found.append((422, "invalid: the body or a query parameter"))
    found += [(int(status), text) for status, text in route.errors]
    return {str(status): _error(status, text) for status, text in sorted(dict(found).items())}


def _error(status: int, text: str) -> dict:
    answer = {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if status == 429:
        answer["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return answer


def _schema_ref(model: type[BaseModel], schemas: dict) -> dict:
    schema = _with_destinations(model.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _with_destinations(schema):
    """Request fields that carry a destination point at the one Destination oneOf."""
    if schema == DESTINATION_MARK:
        return responses.DEST
    if isinstance(schema, dict):
        return {key: _with_destinations(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_with_destinations(value) for value in schema]
    return schema


def handler(spec: dict):
    async def openapi_json(_request: web.Request) -> web.Response:
        return json_response(spec)

    return openapi_json
