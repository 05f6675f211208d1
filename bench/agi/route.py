#!/usr/bin/python3
"""Classic AGI (one process per call) twin of the control plane's inbound route, for
bench/cps.py only: Asterisk starts this script for every call, as AGI(/tmp/bench/agi/route.py,
<trunk id>). It makes the same lookups as pbx/agi/handlers.py InboundHandler (the trunk by
its PJSIP id, the number by its E.164 form, the announcement's prompt, scoped to the tenant)
with the sqlite3 module, and sets the same channel variables through pyst2.

Only the destinations the benchmark routes are handled (announcement, hangup); anything else
sets no PBX_ACTION, so the dialplan takes its failure path, as it would for a broken decision.
It runs under Debian's python3 inside the Asterisk root; PYTHONPATH holds pyst2 and six.
"""
import json
import re
import sqlite3

from asterisk.agi import AGI

DATABASE = "/srv/pbx/data/pbx.sqlite3"  # pbx.asterisk.configgen.DATA + the database's file name
AUDIO = "/srv/pbx/audio"  # pbx.asterisk.configgen.AUDIO
DIALLED = re.compile(r"^[0-9*#+]{1,32}$")
SIP_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
SEPARATORS = re.compile(r"[ \-().]")


def to_e164(raw, country_code="90"):
    """pbx.domain.numbers.to_e164, None instead of an exception."""
    text = SEPARATORS.sub("", raw.strip())
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith("0"):
        digits = country_code + text[1:]
    elif text.startswith(country_code) and len(text) == len(country_code) + 10:
        digits = text
    else:
        return None
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
        return None
    if digits.startswith(country_code) and len(digits) != len(country_code) + 10:
        return None
    return "+" + digits


def decide(trunk_id, dialled):
    """[(variable, value)] in the order pbx.agi.handlers.apply sets them; [] = failure."""
    if not SIP_ID.match(trunk_id) or not DIALLED.match(dialled):
        return []
    e164 = to_e164(dialled)
    if e164 is None:
        return [("PBX_NOTICE", ""), ("PBX_AFTER", ""), ("PBX_ACTION", "unknown")]
    db = sqlite3.connect(DATABASE, timeout=15)
    try:
        if db.execute("SELECT id FROM trunks WHERE sip_id = ?", (trunk_id,)).fetchone() is None:
            return []
        row = db.execute("SELECT tenant_id, destination FROM numbers WHERE number = ?", (e164,)).fetchone()
        if row is None:
            return [("PBX_NOTICE", ""), ("PBX_AFTER", ""), ("PBX_ACTION", "unknown")]
        tenant_id, destination = row[0], json.loads(row[1])
        kind = destination.get("type")
        if kind == "announcement":
            prompt = db.execute("SELECT file_id FROM prompts WHERE tenant_id = ? AND id = ?",
                                (tenant_id, destination.get("prompt_id"))).fetchone()
            if prompt is None:
                return []
            return [("PBX_TENANT", str(tenant_id)), ("PBX_PLAYBACK", f"{AUDIO}/{tenant_id}/{prompt[0]}"),
                    ("PBX_NOTICE", ""), ("PBX_AFTER", ""), ("PBX_ACTION", "announce")]
        if kind == "hangup":
            return [("PBX_TENANT", str(tenant_id)), ("PBX_NOTICE", ""), ("PBX_AFTER", ""),
                    ("PBX_ACTION", "hangup")]
        return []
    finally:
        db.close()


def main():
    agi = AGI()
    for name, value in decide(agi.env.get("agi_arg_1", ""), agi.env.get("agi_extension", "")):
        agi.set_variable(name, value)


if __name__ == "__main__":
    main()
