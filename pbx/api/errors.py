"""Every non-2xx answer is {"error": {"code", "message"}}; bad input is never a 500."""
from __future__ import annotations

import json
import logging

from aiohttp import web
from pydantic import ValidationError

from pbx.domain.errors import Invalid, PbxError, TooLarge, validation_message

MAX_JSON_BYTES = 64 * 1024

log = logging.getLogger(__name__)

_HTTP_CODES = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
               415: "unsupported_media", 422: "invalid", 429: "too_many_requests"}


def json_response(data, status: int = 200) -> web.Response:
    """UTF-8 JSON with Turkish letters as they are, not \\u escapes."""
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def error_body(code: str, message: str) -> str:
    return _dumps({"error": {"code": code, "message": message}})


def error_response(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status=status)


def http_code(status: int) -> str:
    return _HTTP_CODES.get(status, "invalid" if status < 500 else "internal")


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except PbxError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except ValidationError as exc:
        return error_response(422, "invalid", validation_message(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, http_code(exc.status), exc.reason)
        if "Allow" in exc.headers:  # a 405 says which methods the path has
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")


async def json_body(request: web.Request) -> dict:
    if request.content_length and request.content_length > MAX_JSON_BYTES:
        raise TooLarge("the request body is too large")
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
        raise Invalid("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body
