from pbx.domain.destinations import parse
from pbx.routing import ivr
from pbx.routing.decision import Decision

MENU = ivr.Menu(ivr_id=5, tenant_id=1, greeting="/srv/pbx/audio/1/g", timeout_seconds=4, max_attempts=3,
                options={"2": parse({"type": "extension", "extension": "102"}), "#": parse({"type": "hangup"})},
                timeout_destination=parse({"type": "announcement", "prompt_id": 9}))


def test_entering_plays_the_greeting():
    decision = ivr.enter(MENU)
    assert (decision.action, decision.playback, decision.ivr_id, decision.attempt, decision.timeout_s) == (
        "ivr", "/srv/pbx/audio/1/g", 5, 1, 4)


def test_a_known_key_leads_to_its_destination():
    assert ivr.choose(MENU, "2", 1) == MENU.options["2"]
    assert ivr.choose(MENU, "#", 3) == MENU.options["#"]


def test_no_key_tries_again_quietly_and_an_invalid_key_says_so():
    again = ivr.choose(MENU, "", 1)
    assert isinstance(again, Decision) and (again.attempt, again.notice) == (2, "")
    invalid = ivr.choose(MENU, "9", 2)
    assert (invalid.attempt, invalid.notice) == (3, ivr.INVALID_KEY_SOUND)


def test_after_the_last_attempt_the_timeout_destination():
    assert ivr.choose(MENU, "", 3) == MENU.timeout_destination
    assert ivr.choose(MENU, "9", 3) == MENU.timeout_destination


def test_without_a_timeout_destination_the_call_ends_politely():
    from dataclasses import replace

    end = ivr.choose(replace(MENU, timeout_destination=None), "", 3)
    assert (end.action, end.notice) == ("hangup", ivr.GOODBYE_SOUND)
