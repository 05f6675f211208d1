"""What the live tests share: extensions with registered phones, an answered call
between two of them, and polling for what arrives a moment after a call."""
from __future__ import annotations

import time

from tests.support.phone import Phone, Phones


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.5):
    """predicate()'s first truthy value, or its last one once `timeout` has passed
    (the caller asserts on it, so a failure shows what was there)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def registered_extensions(stack, phones: Phones, api, tenant_id: int, numbers=("101", "102"),
                          **fields) -> list[Phone]:
    """An extension per number ("Ext <number>"), each with a real phone registered to it."""
    registered = []
    for number in numbers:
        ext = api.ok("POST", f"/tenants/{tenant_id}/extensions", {"number": number, "name": f"Ext {number}", **fields})
        phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
        registered.append(phone)
        assert phone.wait_registered() == 200
    return registered


def answered_call(caller: Phone, callee: Phone, target: str = "102", *, seconds: float = 0.0,
                  caller_tone: float | None = 800.0, callee_tone: float | None = None) -> None:
    """caller dials target, callee answers; for `seconds` each side plays its tone (None:
    silent, so a recording's loudest tone is the other side's); then the caller hangs up."""
    call = caller.call(target)
    incoming = callee.wait_incoming(timeout=10)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    if seconds:
        for leg, tone in ((call, caller_tone), (incoming, callee_tone)):
            if tone is not None:
                leg.play_tone(tone)
        time.sleep(seconds)
    call.hangup()
    incoming.wait_disconnected(timeout=10)


def call_between_new_phones(stack, phones: Phones, api, tenant_id: int, *, seconds: float,
                            caller_tone: float = 1000.0) -> None:
    """Extensions 101 and 102 of the tenant, each with a phone; 101 calls 102, which
    answers; the caller's tone plays for `seconds`; then the phones go."""
    caller, callee = registered_extensions(stack, phones, api, tenant_id)
    try:
        answered_call(caller, callee, seconds=seconds, caller_tone=caller_tone)
    finally:
        caller.remove()
        callee.remove()
