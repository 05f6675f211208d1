"""Schedules: business hours and holidays decide where a live call goes."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pbx.domain.schedules import from_stored, is_open
from tests.support.audio import dominant_frequency
from tests.test_ivr import prompt

pytestmark = [pytest.mark.asterisk]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def window(hours_from: float, hours_to: float, now: datetime | None = None) -> dict:
    """Opening hours from now + hours_from to now + hours_to, every day (Istanbul time). Near
    midnight this is an overnight rule (close before open), which the schedules allow."""
    now = now or datetime.now(ZoneInfo("Europe/Istanbul"))
    return {"days": ALL_DAYS, "open": (now + timedelta(hours=hours_from)).strftime("%H:%M"),
            "close": (now + timedelta(hours=hours_to)).strftime("%H:%M")}


@pytest.mark.parametrize("clock", ["12:00", "21:30", "22:00", "23:00", "23:59", "00:00", "00:30", "01:59"])
def test_the_windows_of_this_test_hold_at_any_time_of_day(clock):
    now = datetime.fromisoformat(f"2026-11-23T{clock}:30+03:00")
    around, later = from_stored("Europe/Istanbul", [window(-2, 2, now)], []), \
        from_stored("Europe/Istanbul", [window(2, 3, now)], [])
    assert is_open(around, now) and is_open(around, now + timedelta(minutes=1)) and not is_open(later, now)


def heard_frequency(stack, carrier, did: str, tmp_path) -> float:
    call = carrier.call(f"sip:{did}@127.0.0.1:{stack.sip_port}")
    call.wait_confirmed(timeout=10)
    call.start_recording(str(tmp_path / f"{time.monotonic_ns()}.wav"))
    time.sleep(1.5)
    heard = call.stop_recording()
    call.hangup()
    call.wait_disconnected()
    return dominant_frequency(heard, skip_seconds=0.5)


@pytest.mark.phone
def test_open_then_closed_then_holiday(stack, carrier, tmp_path):
    tenant, api = stack.new_tenant("kobi")
    tid = tenant["id"]
    open_prompt, closed_prompt = prompt(api, tid, 1000.0, 3.0), prompt(api, tid, 600.0, 3.0)
    schedule = api.ok("POST", f"/tenants/{tid}/schedules",
                      {"name": "Mesai", "timezone": "Europe/Istanbul", "weekly": [window(-2, 2)]})
    did = "+908505552001"
    stack.operator.ok("POST", f"/tenants/{tid}/numbers", {"number": did, "destination": {
        "type": "schedule", "schedule_id": schedule["id"],
        "open": {"type": "announcement", "prompt_id": open_prompt},
        "closed": {"type": "announcement", "prompt_id": closed_prompt}}})
    assert abs(heard_frequency(stack, carrier, did, tmp_path) - 1000) < 20

    api.ok("PATCH", f"/tenants/{tid}/schedules/{schedule['id']}", {"weekly": [window(2, 3)]})
    assert abs(heard_frequency(stack, carrier, did, tmp_path) - 600) < 20

    today = datetime.now(ZoneInfo("Europe/Istanbul")).date().isoformat()
    api.ok("PATCH", f"/tenants/{tid}/schedules/{schedule['id']}",
           {"weekly": [window(-2, 2)], "holidays": [{"date": today, "name": "Bayram"}]})
    assert abs(heard_frequency(stack, carrier, did, tmp_path) - 600) < 20


def test_schedule_api(stack):
    small, small_api = stack.new_tenant("girisimci")
    refused = small_api.post(f"/tenants/{small['id']}/schedules", json={"name": "x", "weekly": []})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "feature_not_in_plan"
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/schedules"
    good = {"days": ["mon"], "open": "09:00", "close": "18:00"}
    for bad in ({"timezone": "Mars/Base"}, {"timezone": "../../etc"}, {"weekly": [{**good, "days": ["xyz"]}]},
                {"weekly": [{**good, "open": "25:00"}]}, {"weekly": [{**good, "close": "9:00"}]},
                {"weekly": [{**good, "open": "09:00", "close": "09:00"}]},
                {"holidays": [{"date": "2026-02-30"}]}, {"holidays": [{"date": "yesterday"}]}):
        assert api.post(path, json={"name": "x", "weekly": [good], **bad}).status_code == 422, bad
    schedule = api.ok("POST", path, {"name": "Mesai", "weekly": [good, {"days": ["fri"], "open": "22:00",
                                                                         "close": "24:00"}]})
    assert schedule["timezone"] == "Europe/Istanbul" and schedule["holidays"] == []
    number = stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers", {"number": "+908505552002", "destination": {
        "type": "schedule", "schedule_id": schedule["id"], "open": {"type": "hangup"}, "closed": {"type": "hangup"}}})
    assert api.delete(f"{path}/{schedule['id']}").status_code == 409
    api.ok("DELETE", f"/tenants/{tenant['id']}/numbers/{number['id']}", status=204)
    api.ok("DELETE", f"{path}/{schedule['id']}", status=204)
