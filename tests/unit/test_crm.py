"""CRM pure logic: the answer cache, the circuit breaker, the number forms a CRM is
searched with, plan gates, the Zoho criteria, and call events held for a contact."""
from __future__ import annotations

import asyncio

import pytest

from pbx.crm.base import number_forms
from pbx.crm.connections import check_credentials
from pbx.crm.providers import check_plan
from pbx.crm.protection import AnswerCache, CircuitBreaker
from pbx.crm import hubspot, zoho
from pbx.domain.errors import FeatureNotInPlan, Invalid
from pbx.eventing.calls import CallEvents


def test_the_cache_answers_until_its_ttl_and_stays_bounded():
    cache = AnswerCache(ttl_s=60, max_entries=3)
    assert cache.get((1, "+90532"), 0) is AnswerCache.MISS
    cache.put((1, "+90532"), None, 0)  # "nobody" is an answer too
    assert cache.get((1, "+90532"), 59.9) is None
    assert cache.get((1, "+90532"), 60) is AnswerCache.MISS
    for n in range(5):
        cache.put((1, str(n)), n, 100)
    assert [cache.get((1, str(n)), 100) for n in range(5)] == [AnswerCache.MISS] * 2 + [2, 3, 4]
    cache.put((2, "x"), "other tenant", 100)
    cache.forget(1)
    assert cache.get((1, "4"), 100) is AnswerCache.MISS and cache.get((2, "x"), 100) == "other tenant"


def test_the_breaker_opens_after_failures_then_lets_one_trial_through():
    breaker = CircuitBreaker(threshold=3, open_s=30)
    for t in range(2):
        assert breaker.allow(t)
        breaker.failed(t)
    assert breaker.allow(2) and breaker.state == "closed"
    breaker.failed(2)
    assert breaker.state == "open" and not breaker.allow(3) and not breaker.allow(31.9)
    assert breaker.allow(32.1) and not breaker.allow(32.2)  # one trial at a time
    breaker.failed(33)  # the trial failed: open again at once
    assert not breaker.allow(40) and breaker.allow(63.1)
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow(64) and breaker.failures == 0


def test_a_success_between_failures_keeps_the_breaker_closed():
    breaker = CircuitBreaker(threshold=2, open_s=30)
    breaker.failed(0)
    breaker.succeeded()
    breaker.failed(1)
    assert breaker.allow(2)


def test_number_forms_are_the_spellings_a_turkish_crm_holds():
    forms = number_forms("+905321234567")
    assert forms[:2] == ["+905321234567", "905321234567"]
    assert {"05321234567", "5321234567", "0532 123 45 67", "0532 123 4567", "+90 532 123 45 67"} <= set(forms)
    assert len(forms) == len(set(forms))
    assert number_forms("+442079460958") == ["+442079460958", "442079460958"]


def test_zoho_criteria_stay_within_its_ten_conditions():
    criteria = zoho.criteria("+905321234567")
    assert criteria.startswith("((Phone:equals:+905321234567)or(Mobile:equals:+905321234567)or")
    assert criteria.count(":equals:") == 10 and "(Phone:equals:05321234567)" in criteria


def test_plan_gates_and_required_credentials():
    with pytest.raises(FeatureNotInPlan):
        check_plan("girisimci", "hubspot")
    for provider in ("salesforce", "dynamics"):
        with pytest.raises(FeatureNotInPlan):
            check_plan("kobi", provider)
        check_plan("enterprise", provider)
    check_plan("kobi", "zoho")
    check_credentials(hubspot, {"access_token": "x"})
    with pytest.raises(Invalid, match="refresh_token"):
        check_credentials(zoho, {"client_id": "a", "client_secret": "b", "refresh_token": ""})


def _dial(event: str, linkedid: str, dest: str = "PJSIP/101-abcdefgh-00000001", **extra) -> dict:
    return {"Event": event, "DestChannel": dest, "Linkedid": linkedid, "DestUniqueid": f"{linkedid}.{dest[-2:]}",
            "CallerIDNum": "05321234567", "ChanVariable": ["PBX_TENANT=7", "PBX_ROUTE=inbound",
                                                           "PBX_DIALLED=+908505550000"], **extra}


def test_ringing_waits_for_its_contact_and_the_calls_later_events_wait_behind_it():
    async def scenario():
        answer = asyncio.get_running_loop().create_future()

        async def contacts(tenant_id, caller):
            assert (tenant_id, caller) == (7, "05321234567")
            return await answer

        events = CallEvents(None, None, contacts=contacts)
        events.on_dial(None, _dial("DialBegin", "L1"))
        events.on_dial(None, _dial("DialEnd", "L1", DialStatus="ANSWER"))
        events.on_dial(None, _dial("DialBegin", "L2", ChanVariable=["PBX_TENANT=7", "PBX_ROUTE=internal"]))
        await asyncio.sleep(0)
        assert [(p.type, p.data["call_id"]) for p in events.queue._queue] == [("call.ringing", "L2")]
        answer.set_result({"name": "Ayşe"})
        await asyncio.sleep(0.01)
        queued = list(events.queue._queue)[1:]
        assert [(p.type, p.data.get("contact")) for p in queued] == [("call.ringing", {"name": "Ayşe"}),
                                                                      ("call.answered", None)]
        assert events._held == {}

    asyncio.run(scenario())


async def _ringing_held_for_ever() -> CallEvents:
    """Call events whose one call rings while its contact look-up never answers."""
    async def never(_tenant, _caller):
        await asyncio.sleep(3600)

    events = CallEvents(None, None, contacts=never)
    events.on_dial(None, _dial("DialBegin", "L1"))
    await asyncio.sleep(0)
    return events


def test_a_call_ended_before_its_contact_came_releases_its_events_without_it():
    async def scenario():
        events = await _ringing_held_for_ever()
        [ringing] = events._release("L1")
        assert ringing.type == "call.ringing" and "contact" not in ringing.data and events._release("L1") == []

    asyncio.run(scenario())


def test_stop_ends_the_contact_lookups_still_under_way():
    async def scenario():
        events = await _ringing_held_for_ever()
        [lookup] = [held.task for held in events._held.values()]
        await events.stop()
        assert lookup.done() and events._held == {}  # none outlives the control plane's stop

    asyncio.run(scenario())
