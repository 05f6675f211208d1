"""Domain errors. The API turns each into one HTTP status and error code (api/errors.py)."""
from __future__ import annotations

from pydantic import ValidationError


def validation_message(exc: ValidationError, field: str | None = None) -> str:
    """Where and what, in the client's terms: no pydantic internals (validator names
    such as `tagged-union[...]` in the location, documentation links)."""
    parts = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in ([field] if field else []) + list(error["loc"]) if not _internal(p))
        where = where or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _internal(loc_part) -> bool:
    return isinstance(loc_part, str) and "[" in loc_part


class PbxError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unauthorized(PbxError):
    status, code = 401, "unauthorized"


class Forbidden(PbxError):
    status, code = 403, "forbidden"


class FeatureNotInPlan(PbxError):
    status, code = 403, "feature_not_in_plan"


class NotFound(PbxError):
    status, code = 404, "not_found"


class Conflict(PbxError):
    status, code = 409, "conflict"


class PlanLimit(PbxError):
    status, code = 409, "plan_limit"


class TooLarge(PbxError):
    status, code = 413, "too_large"


class UnsupportedMedia(PbxError):
    status, code = 415, "unsupported_media"


class Invalid(PbxError):
    status, code = 422, "invalid"


class AsteriskUnavailable(PbxError):
    status, code = 503, "asterisk_unavailable"


class ProxyUnavailable(PbxError):
    """The cluster's Kamailio does not answer on its control socket."""
    status, code = 503, "proxy_unavailable"
