"""The outbound worker (pbx/worker.py) in the README's layout, `pbx up` with its Asterisk: the
control plane's child at a lower CPU priority; killed, it is started again and delivers what
was owed meanwhile, once; the webhook.disabled event it raises reaches the control plane's
live stream; it never outlives the control plane."""
from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.calls import wait_for
from tests.support.events import EventStream, Receiver
from tests.support.phone import answer_and_hang_up
from tests.support.stack import TEST_PORTS
from tests.support.up import children, registered_desks, running

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]

WORKER_PORTS = {name: port + 303 for name, port in TEST_PORTS.items()}
WORKER_PORTS.update(rtp_start=TEST_PORTS["rtp_start"] + 800, rtp_end=TEST_PORTS["rtp_end"])
GIVE_UP_S = 6  # a webhook failing this long is disabled (a day in production)


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    with running(tmp_path_factory.mktemp("worker-up"), WORKER_PORTS, webhook_retry=f"0.3,1,{GIVE_UP_S}") as layout:
        yield layout


@pytest.fixture(scope="module")
def office(up, phones):
    """A tenant with extensions 801 and 802, each a registered phone."""
    tenant_id, desk = registered_desks(up, phones, "Dağıtım", ("801", "802"))
    yield tenant_id, up.operator, desk[0], desk[1]
    for phone in desk:
        phone.remove()


def test_the_worker_runs_beside_the_control_plane_at_a_lower_priority(up):
    assert (worker := wait_for(up.worker_pid)), up.log()[-3000:]
    # Its first step: SCHED_IDLE, on CPU the control plane and Asterisk leave idle.
    assert wait_for(lambda: os.sched_getscheduler(worker) == os.SCHED_IDLE, timeout=10)
    assert os.sched_getscheduler(up.control_pid()) == os.SCHED_OTHER
    assert worker in children(up.control_pid())


def test_a_killed_worker_is_started_again_and_delivers_what_was_owed_then_once(up, office):
    tenant_id, api, a, b = office
    killed = []
    receiver = Receiver("w" * 32, failing=lambda n: not killed)  # 503 until the worker has died
    hook = api.ok("POST", f"/tenants/{tenant_id}/webhooks", {"url": receiver.url, "events": ["call.ended"],
                                                             "secret": "w" * 32})
    try:
        answer_and_hang_up(a.call("802"), b)
        assert wait_for(lambda: receiver.requests, timeout=60), "no first attempt"  # owed, being retried
        assert (worker := up.worker_pid()), up.log()[-3000:]
        os.kill(worker, signal.SIGKILL)
        killed.append(worker)
        assert wait_for(receiver.delivered, timeout=60), receiver.requests
        assert up.worker_pid() not in (None, worker)  # the control plane sends none: a new worker did
        time.sleep(1.5)  # nothing more comes
        assert [r["body"]["type"] for r in receiver.delivered()] == ["call.ended"]
        assert all(r["signed"] for r in receiver.requests)
        assert "outbound worker exited (killed by SIGKILL)" in up.log()
    finally:
        api.ok("DELETE", f"/tenants/{tenant_id}/webhooks/{hook['id']}", status=204)
        receiver.close()


def test_a_webhook_disabled_by_the_worker_is_told_on_the_control_planes_stream(up, office):
    tenant_id, api, a, b = office
    receiver = Receiver("d" * 32, failing=lambda n: True)
    stream = EventStream(up.base, tenant_id, api.token)
    try:
        hook = api.ok("POST", f"/tenants/{tenant_id}/webhooks", {"url": receiver.url, "events": ["call.ended"],
                                                                 "secret": "d" * 32})
        answer_and_hang_up(a.call("802"), b)
        disabled = wait_for(lambda: [e for e in stream.events if e["type"] == "webhook.disabled"],
                            timeout=GIVE_UP_S + 60)
        assert disabled, stream.events
        assert disabled[0]["data"] == {"webhook_id": hook["id"], "url": receiver.url}
        assert api.ok("GET", f"/tenants/{tenant_id}/webhooks/{hook['id']}")["enabled"] is False
        seqs = [e["seq"] for e in stream.events]
        assert seqs == sorted(set(seqs))  # once each, in order
    finally:
        stream.close()
        receiver.close()


def test_the_worker_never_outlives_its_control_plane(up):
    assert (worker := wait_for(up.worker_pid)), up.log()[-3000:]
    killed = up.kill_control_plane()
    assert wait_for(lambda: not _alive(worker), timeout=20), "the orphaned worker did not exit"
    up.wait_control_plane(not_pid=killed)
    assert wait_for(up.worker_pid) not in (None, worker)
    control, worker = up.control_pid(), up.worker_pid()
    up.process.send_signal(signal.SIGTERM)  # pbx up stops: everything it started goes
    assert up.process.wait(40) == 0
    assert not _alive(control) and not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return False
