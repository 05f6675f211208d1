"""Domain errors. The API turns each into one HTTP status and error code (api/errors.py)."""
from __future__ import annotations


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
