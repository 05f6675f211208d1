"""JSON Schemas of the Operations answers (pbx/api/operations.py)."""
from __future__ import annotations

from pbx.api.responses import BOOL, INT, NUM, STR, TIME, items, nullable, obj
from pbx.ops import complaints
from pbx.ops.deadlines import PRIORITIES

__all__ = ["TRUNK_STATUS", "FAULT", "FAULT_DETAIL", "CONTACTS", "PERFORMANCE", "items"]

_ENUM = lambda *values: {"type": "string", "enum": list(values)}  # noqa: E731
TRUNK_STATUS = obj(reachable=nullable(BOOL), since=nullable(TIME), rtt_ms=nullable(NUM))
_FAULT = dict(
    id=INT, title=STR, status=_ENUM("open", "resolved"), priority=_ENUM(*PRIORITIES),
    source=_ENUM("system", "operator", "complaint"), reason=nullable(STR), trunk_id=nullable(INT),
    number=nullable(STR), opened_at=TIME, respond_by=TIME, resolve_by=TIME, responded_at=nullable(TIME),
    resolved_at=nullable(TIME), cause=nullable(STR), fix=nullable(STR), prevention=nullable(STR),
    rfo_due_at=nullable(TIME), rfo_overdue=BOOL, breaches={"type": "array", "items": _ENUM("response", "resolution", "rfo")},
    **{"from": nullable(TIME), "to": nullable(TIME)},
)
FAULT = obj(**_FAULT)
_HISTORY = obj(at=TIME, status=STR, by=STR, note=nullable(STR))
_QUALITY = obj(jitter_ms=nullable(NUM), loss_percent=nullable(NUM), rtt_ms=nullable(NUM))
_CALL = obj(id=INT, started_at=TIME, direction=STR, caller=nullable(STR), callee=nullable(STR), disposition=STR,
            quality=_QUALITY)
FAULT_DETAIL = obj(**_FAULT, history={"type": "array", "items": _HISTORY}, calls={"type": "array", "items": _CALL})
_CONTACT = obj(id=INT, name=STR, phone=nullable(STR), email=nullable(STR),
               channels={"type": "array", "items": _ENUM("sms", "email", "ivr")})
CONTACTS = obj(contacts={"type": "array", "items": _CONTACT})
# OpenAPI 3.0: a nullable enum lists null among its values too
_REASON = {"type": "string", "enum": [*complaints.REASONS, None], "nullable": True,
           "description": "null: made without a reason"}
_MONTH = obj(month=STR, faults=INT, mean_resolution_hours=nullable(NUM))
PERFORMANCE = {  # availability only in a tenant's report
    "type": "object",
    "required": ["month", "tenant_id", "months", "sources", "worst_trunks", "complaint_reasons", "complaint_titles"],
    "properties": {
        "month": STR, "tenant_id": nullable(INT), "months": {"type": "array", "items": _MONTH},
        "sources": {"type": "object", "additionalProperties": INT},
        "worst_trunks": {"type": "array", "items": obj(trunk_id=INT, name=nullable(STR), faults=INT)},
        "complaint_reasons": {"type": "array", "description": "complaints counted by reason, most first",
                              "items": obj(reason=_REASON, label_tr=STR, label_en=STR, faults=INT)},
        "complaint_titles": {"type": "array", "description": "the five most frequent complaint titles",
                             "items": obj(title=STR, faults=INT)},
        "availability": obj(percent=NUM, promise=NUM, met=BOOL, downtime_minutes=NUM),
    },
}
