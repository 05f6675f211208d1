import pytest

from pbx.domain.destinations import parse, references
from pbx.routing.to_destination import Resolved, route_destination

RESOLVED = Resolved(extensions={"101": "101-aaaa"}, prompts={7: "/srv/pbx/audio/1/abc"})


def test_extension():
    decision = route_destination(parse({"type": "extension", "extension": "101"}), RESOLVED, 1)
    assert (decision.action, decision.dial, decision.tenant_id) == ("dial", "PJSIP/101-aaaa", 1)


def test_announcement_and_hangup():
    decision = route_destination(parse({"type": "announcement", "prompt_id": 7}), RESOLVED, 1)
    assert (decision.action, decision.playback) == ("announce", "/srv/pbx/audio/1/abc")
    assert route_destination(parse({"type": "hangup"}), RESOLVED, 1).action == "hangup"


@pytest.mark.parametrize("dest", [{"type": "extension", "extension": "999"}, {"type": "announcement", "prompt_id": 8}])
def test_something_gone_fails_safely(dest):
    assert route_destination(parse(dest), RESOLVED, 1).action == "failure"


def test_references_walk_schedules():
    dest = parse({"type": "schedule", "schedule_id": 3, "open": {"type": "extension", "extension": "101"},
                  "closed": {"type": "announcement", "prompt_id": 7}})
    refs = references(dest)
    assert (refs.schedules, refs.extensions, refs.prompts) == ({3}, {"101"}, {7})


@pytest.mark.parametrize("bad", [{}, {"type": "nope"}, {"type": "extension"}, {"type": "extension", "extension": "0"},
                                 {"type": "hangup", "x": 1}, {"type": "ivr", "ivr_id": "1"}, [], "hangup"])
def test_bad_shapes(bad):
    with pytest.raises(ValueError):
        parse(bad)


def test_schedule_branches_on_the_time_of_the_call():
    from datetime import datetime, timezone

    from pbx.domain.schedules import from_stored

    hours = from_stored("Europe/Istanbul", [{"days": ["mon"], "open": "09:00", "close": "18:00"}], [])
    dest = parse({"type": "schedule", "schedule_id": 4, "open": {"type": "extension", "extension": "101"},
                  "closed": {"type": "hangup"}})
    monday_noon = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 12:00 in Istanbul
    open_ = Resolved(extensions=RESOLVED.extensions, schedules={4: hours}, now=monday_noon)
    assert route_destination(dest, open_, 1).action == "dial"
    evening = Resolved(extensions=RESOLVED.extensions, schedules={4: hours},
                       now=monday_noon.replace(hour=15))  # 18:00 in Istanbul: closed
    assert route_destination(dest, evening, 1).action == "hangup"
    assert route_destination(dest, Resolved(now=monday_noon), 1).action == "failure"  # schedule gone


def test_ring_groups():
    from pbx.routing.to_destination import Group

    together = Group(3, ("201-a", "202-b"), sequential=False, ring_seconds=20, has_next=False)
    one_by_one = Group(4, ("201-a", "202-b"), sequential=True, ring_seconds=5, has_next=True)
    resolved = Resolved(groups={3: together, 4: one_by_one, 5: Group(5, (), False, 20, False)})
    all_ = route_destination(parse({"type": "ring_group", "ring_group_id": 3}), resolved, 1)
    assert (all_.action, all_.dial, all_.ring_seconds, all_.after) == ("dial", "PJSIP/201-a&PJSIP/202-b", 20, "")
    hunt = route_destination(parse({"type": "ring_group", "ring_group_id": 4}), resolved, 1)
    assert (hunt.action, hunt.dial, hunt.after) == ("hunt", "PJSIP/201-a^PJSIP/202-b", "rg:4")
    assert route_destination(parse({"type": "ring_group", "ring_group_id": 5}), resolved, 1).action == "failure"


def test_voicemail_after_no_answer_and_as_a_destination():
    resolved = Resolved(extensions={"101": "101-aaaa"}, voicemail={"101": 7})
    dial = route_destination(parse({"type": "extension", "extension": "101"}), resolved, 1)
    assert (dial.action, dial.after) == ("dial", "vm:7")
    direct = route_destination(parse({"type": "voicemail", "extension": "101"}), resolved, 1)
    assert (direct.action, direct.voicemail_ext) == ("voicemail", 7)
    no_box = Resolved(extensions={"101": "101-aaaa"})
    assert route_destination(parse({"type": "extension", "extension": "101"}), no_box, 1).after == ""
    assert route_destination(parse({"type": "voicemail", "extension": "101"}), no_box, 1).action == "failure"
