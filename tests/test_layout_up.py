"""The README's layout (`pbx up`: a supervisor with Asterisk and the control plane as siblings)
survives a kill -9 of either process: calls go on from the fallback while the control plane is
down, it comes back and attaches to the same Asterisk; a killed Asterisk is started again, and
/health says 503 until it can take calls."""
from __future__ import annotations

import csv
import os
import signal
import time

import pytest

from pbx.asterisk import cdrfields
from tests.support.phone import answer_and_hang_up
from tests.support.stack import TEST_PORTS
from tests.support.up import PbxUp, children, registered_desks, running

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]

# Beside the session's stack (TEST_PORTS) and test_cli.py's (+101); RTP in this suite's own window.
LAYOUT_PORTS = {name: port + 202 for name, port in TEST_PORTS.items()}
LAYOUT_PORTS.update(rtp_start=TEST_PORTS["rtp_start"] + 600, rtp_end=TEST_PORTS["rtp_end"])


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def cdr_rows(up: PbxUp) -> list[dict]:
    """Asterisk's own CSV copy of its CDRs: there whether or not the control plane was up."""
    path = cdrfields.csv_path(up.settings.asterisk_instance_dir)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [dict(zip(cdrfields.KEYS, row)) for row in csv.reader(f)]


def routes(up: PbxUp, tenant_id: int, dialled: str) -> dict[str, str]:
    """linkedid -> how each call to `dialled` was routed: the action the control plane decided
    ("dial"), or "" when the fallback routed it (a call may have several CDR rows)."""
    found: dict[str, str] = {}
    for row in cdr_rows(up):
        if row["PbxDialled"] == dialled and row["PbxTenant"] == str(tenant_id):
            found[row["PbxLinkedid"]] = found.get(row["PbxLinkedid"]) or row["PbxAction"]
    return found


def routed_by(up: PbxUp, tenant_id: int, dialled: str, before: dict[str, str]) -> str:
    """How the one call made since `before` (routes() then) was routed."""
    new = wait_for(lambda: {k: v for k, v in routes(up, tenant_id, dialled).items() if k not in before} or None,
                   15, "the call's CDR")
    assert len(new) == 1, new
    return next(iter(new.values()))


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    with running(tmp_path_factory.mktemp("layout-up"), LAYOUT_PORTS) as layout:
        yield layout


@pytest.fixture(scope="module")
def desks(up, phones):
    """Tenant with extensions 701 and 702, each a registered phone; the fallback snapshot in astdb."""
    tenant_id, desk = registered_desks(up, phones, "Düzen", ("701", "702"))
    wait_for(lambda: f"/pbx-fallback/ext/{tenant_id}/702" in up.asterisk.cli("database show pbx-fallback"),
             what="the fallback snapshot")
    yield tenant_id, desk[0], desk[1]
    for phone in desk:
        phone.remove()


def test_kill_9_of_the_control_plane_leaves_asterisk_serving_calls_from_the_fallback(up, desks):
    tenant_id, a, b = desks
    asterisk, before = up.asterisk_pid(), routes(up, tenant_id, "702")
    killed = up.kill_control_plane()

    answer_and_hang_up(a.call("702"), b)  # placed at once: the supervisor waits 1 s before a restart
    assert routed_by(up, tenant_id, "702", before) == ""  # no decision from the control plane: the fallback's

    assert up.wait_control_plane(not_pid=killed) != killed
    assert up.asterisk_pid() == asterisk  # the same Asterisk, not a second one
    assert len(children(up.process.pid)) == 2
    before = routes(up, tenant_id, "702")
    answer_and_hang_up(a.call("702"), b)
    assert routed_by(up, tenant_id, "702", before) == "dial"
    # The fallback's call record is not lost: the new control plane reads it from Asterisk's CSV.
    calls = wait_for(lambda: len(up.operator.ok("GET", f"/tenants/{tenant_id}/calls")["items"]) >= 2 or None,
                     what="both call records")
    assert calls
    assert "control plane exited (killed by SIGKILL)" in up.log()


def test_kill_9_of_asterisk_is_restarted_and_health_says_503_until_it_can_take_calls(up, desks):
    tenant_id, a, b = desks
    control = up.control_pid()
    killed = up.kill_asterisk()
    up.wait_health(503, 15)
    up.wait_health(200, 90)
    assert up.asterisk_pid() not in (None, killed)
    assert up.control_pid() == control  # the control plane stayed and reconnected
    log = up.log()
    assert "asterisk exited" in log
    assert wait_for(lambda: "event asterisk.restarted" in up.log(), what="the asterisk.restarted event")
    a.reregister()
    assert a.wait_registered() == 200
    before = routes(up, tenant_id, "702")
    answer_and_hang_up(a.call("702"), b)
    assert routed_by(up, tenant_id, "702", before) == "dial"


def test_chaos_kills_lose_and_duplicate_no_call_record_and_no_recording(up, phones):
    """bench/chaos.py, small: 20 calls (every third recorded), 3 kill -9s at random moments."""
    from bench.chaos import UpLayout, print_report, run

    report = run(UpLayout(up), phones, calls=20, faults=3, seed=7)
    print_report(report, "up")
    assert len(report.faults) == 3
    for name in ("call records", "recordings"):
        figures = report.figures[name]
        assert figures["expected"] > 0 and figures["lost"] == 0 and figures["duplicated"] == 0, (name, figures)
    fallback = report.figures["fallback"]
    assert fallback["answered by the fallback"] + fallback["routed by the control plane anyway"] == \
        fallback["calls while control plane down"]


def test_sigterm_stops_the_supervisor_and_both_children(up, desks):
    pids = children(up.process.pid)
    assert len(pids) == 2
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(40) == 0
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read()
