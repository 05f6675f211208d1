"""The OpenAPI document, built from the route table and the request models."""
from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel

from pbx.api.errors import json_response
from pbx.api.routes import Route

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


def document(routes: list[Route]) -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {"Error": _ERROR}
    for route in routes:
        paths.setdefault("/api/v1" + route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Cloud PBX admin API", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
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
        "responses": _responses(route, schemas),
    }
    if route.public:
        operation["security"] = []
    if route.form:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD}}}
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(route.body, schemas)}},
        }
    return operation


def _responses(route: Route, schemas: dict) -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses = {str(route.status): {"description": route.response_description}}
    if route.response is not None:
        responses[str(route.status)]["content"] = {"application/json": {"schema": _schema_ref(route.response, schemas)}}
    errors = [("401", "unauthorized"), ("404", "not found"), ("409", "conflict"), ("422", "invalid")]
    if route.form:
        errors += [("413", "too large"), ("415", "not MP3 or WAV audio")]
    for status, text in errors:
        responses[status] = {"description": text, **error}
    if route.operator_only:
        responses["403"] = {"description": "needs an operator token", **error}
    return responses


def _schema_ref(model: type[BaseModel], schemas: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def handler(spec: dict):
    async def openapi_json(_request: web.Request) -> web.Response:
        return json_response(spec)

    return openapi_json
