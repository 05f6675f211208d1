"""JSON Schemas of what the API answers, for the OpenAPI document (openapi.py);
schemathesis checks every answer against them (tests/test_api_fuzz.py)."""
from __future__ import annotations

from pbx.domain.destinations import DESTINATION

STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TIME = {"type": "string", "format": "date-time"}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True} if "$ref" not in schema else {"allOf": [schema], "nullable": True}


def obj(**properties) -> dict:
    """An object with exactly these properties, all present (nullable where so declared)."""
    return {"type": "object", "required": sorted(properties), "properties": properties,
            "additionalProperties": False}


def items(schema: dict, paged: bool = False) -> dict:
    listing = {"items": {"type": "array", "items": schema}}
    return obj(**listing, next=nullable(STR)) if paged else obj(**listing)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def destination_schemas() -> dict[str, dict]:
    """The contract's destinations as a oneOf over `type`, from the models that validate them."""
    schema = DESTINATION.json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    defs["Destination"] = schema
    return defs


DEST = ref("Destination")
TENANT = obj(id=INT, name=STR, plan=STR, extra_extensions=INT, international_calls=BOOL,
             extension_limit=nullable(INT), recording_retention_days=nullable(INT), record_calls=BOOL,
             recording_notice=BOOL, max_concurrent_calls=INT, max_international_minutes=INT,
             max_call_attempts_per_minute=INT, created_at=TIME)
TOKEN = obj(id=INT, created_at=TIME, expires_at=nullable(TIME), last_used_at=nullable(TIME))
NEW_TOKEN = obj(token=STR, **TOKEN["properties"])
TRANSPORT = obj(protocol={"type": "string", "enum": ["udp", "tls"]}, server=STR)
SIP = {"type": "object", "required": ["username", "server", "transport", "transports", "srtp"],
       "additionalProperties": False,
       "properties": {"username": STR, "password": STR, "server": STR, "transport": STR,
                      "transports": {"type": "array", "items": TRANSPORT}, "srtp": STR}}
EXTENSION = obj(id=INT, number=STR, name=STR, email=nullable(STR), voicemail=BOOL, record_calls=BOOL, sip=SIP,
                created_at=TIME)
EXTENSION_STATUS = obj(registered=BOOL, contacts={"type": "array", "items": {"type": "object"}})
PROMPT = obj(id=INT, name=STR, duration_ms=INT, source_format={"type": "string", "enum": ["mp3", "wav"]},
             created_at=TIME)
NUMBER = obj(id=INT, number=STR, destination=DEST)
ALLOCATION = obj(id=INT, number=STR, created_at=TIME)
HELD_NUMBER = obj(id=INT, number=STR, created_at=TIME, tenant_id=INT, tenant_name=STR, routed=BOOL)
IVR = obj(id=INT, name=STR, greeting_prompt_id=INT, options={"type": "object", "additionalProperties": DEST},
          timeout_seconds=INT, max_attempts=INT, timeout_destination=nullable(DEST), created_at=TIME)
SCHEDULE = obj(id=INT, name=STR, timezone=STR, weekly={"type": "array", "items": {"type": "object"}},
               holidays={"type": "array", "items": {"type": "object"}}, created_at=TIME)
RING_GROUP = obj(id=INT, name=STR, extensions={"type": "array", "items": STR}, strategy=STR, ring_seconds=INT,
                 next_destination=nullable(DEST), created_at=TIME)
TRUNK_FIGURES = obj(window_s=INT, calls=INT, answer_ratio=nullable(NUM), setup_failures=INT,
                    jitter_ms=nullable(NUM), loss_percent=nullable(NUM))
TRUNK = obj(id=INT, name=STR, host=STR, port=INT, match={"type": "array", "items": STR}, default_outbound=BOOL)
VOICEMAIL = obj(id=INT, caller=STR, created_at=TIME, duration_ms=nullable(INT))
RECORDING = obj(id=INT, call_id=nullable(INT), started_at=TIME, duration_s=INT, caller=STR, callee=STR,
                size_bytes=INT, sha256=STR, expires_at=TIME)
ACCESS_ENTRY = obj(id=INT, action=STR, actor=STR, at=TIME, hash=STR)
DESTRUCTION = obj(id=INT, recording_id=nullable(INT), file_id=STR, sha256=STR, size_bytes=INT, started_at=TIME,
                  destroyed_at=TIME, reason=STR, actor=STR)
CHAIN = obj(ok=BOOL, entries=INT, broken_at=nullable(INT))
ERASED = obj(erased=INT)
QUALITY = nullable(obj(jitter_ms=nullable(NUM), loss_percent=nullable(NUM), rtt_ms=nullable(NUM)))
CALL = obj(id=INT, started_at=TIME, answered_at=nullable(TIME), ended_at=TIME,
           direction={"type": "string", "enum": ["inbound", "outbound", "internal"]}, caller=nullable(STR),
           callee=nullable(STR), number=nullable(STR),
           disposition={"type": "string", "enum": ["answered", "no_answer", "busy", "failed", "refused"]},
           duration_s=INT, billsec=INT, recording_id=nullable(INT), extension=nullable(STR), quality=QUALITY)
_COUNTS = {"calls": INT, "answered": INT, "missed": INT, "minutes": NUM}
_AVERAGES = {"average_wait_s": nullable(NUM), "average_talk_s": nullable(NUM)}


def _buckets(key: dict, name: str, averages: bool = False) -> dict:
    return {"type": "array", "items": obj(**{name: key}, **_COUNTS, **(_AVERAGES if averages else {}))}


BASIC_REPORT = obj(**{"from": TIME, "to": TIME}, days=_buckets(STR, "day"))
DETAILED_REPORT = obj(**{"from": TIME, "to": TIME}, days=_buckets(STR, "day"), per_hour=_buckets(INT, "hour"),
                      per_extension=_buckets(STR, "extension", True), per_number=_buckets(STR, "number", True),
                      **_AVERAGES, missed_calls={"type": "array", "items": CALL})
HEALTH = obj(ok=BOOL, asterisk=BOOL)
SVG = "image/svg+xml"  # a drawn image (the provisioning QR code)
AUDIO = "audio/wav"  # a binary answer, described by its media type
SIP_BAN = obj(id=INT, address=STR, failures=INT, banned_at=TIME, expires_at=TIME)
SIP_BANS = obj(items={"type": "array", "items": SIP_BAN}, enforced=BOOL)
ALLOWLIST = obj(networks={"type": "array", "items": STR})
MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
INVOICE_LINE = obj(description=STR, quantity=STR, unit_price=MONEY, amount=MONEY)
_INVOICE = dict(id=nullable(INT), status={"type": "string", "enum": ["draft", "issued"]},
                kind={"type": "string", "enum": ["invoice", "credit_note"]}, month=STR,
                lines={"type": "array", "items": INVOICE_LINE}, subtotal=MONEY, kdv=MONEY, total=MONEY,
                currency={"type": "string", "enum": ["TRY"]}, issued_at=nullable(TIME), corrects_id=nullable(INT),
                reason=nullable(STR))
CREDIT_NOTE = obj(**_INVOICE)
INVOICE = obj(**_INVOICE, credit_notes={"type": "array", "items": CREDIT_NOTE})
RATE = obj(prefix=STR, destination=STR, per_minute=STR)
RATES_LOADED = obj(loaded=INT)
BILLING_TERMS = obj(tenant_id=INT, timezone=STR, circuit_pricing=BOOL, enterprise_monthly=nullable(MONEY),
                    trial_ends_at=nullable(TIME), trial_converted=BOOL, pending_plan=nullable(STR),
                    billing_email=nullable(STR), term_started_at=TIME, term_ends_at=TIME,
                    reseller_id=nullable(INT))
CLUSTER_NODE = obj(uri=STR, state={"type": "string", "enum": ["active", "inactive", "drained"]})
CLUSTER_NODES = obj(items={"type": "array", "items": CLUSTER_NODE})
