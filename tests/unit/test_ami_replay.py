"""What the control plane makes of a real Asterisk's AMI traffic, replayed from a
capture (tests/support/ami_replay.py): the parts that were tested only live."""
from __future__ import annotations

from pbx.asterisk.recordings import active_recordings, recording_finished_handler
from pbx.calls.recorder import CallRecorder
from pbx.domain.recording import parse_stem
from tests.support.ami_replay import replay_ami, replay_events

CALL = "recorded-call.txt"
STEM = "t1_20261201T085452Z_101_102_3d4510dc33c34451d39a0ca071aec4e8"


async def test_status_names_the_one_stem_being_recorded():
    """Two channels are up; only the caller's has PBX_RECORDING (the callee's says "(null)")."""
    with replay_ami(CALL) as ami:
        assert await active_recordings(ami) == {STEM}
    assert parse_stem(STEM) is not None  # one the archive will take


async def test_the_calls_cdr_events_wake_the_sweeper_and_become_legs_naming_the_recording():
    pokes: list[str] = []
    recorder = CallRecorder(database=None, cdr_file=None)
    with replay_ami(CALL) as ami:
        ami.on_event("Cdr", recording_finished_handler(lambda: pokes.append("recorded call ended")))
        ami.on_event("Cdr", recorder.on_cdr)
        replay_events(ami, CALL)
    legs = [recorder.queue.get_nowait() for _ in range(recorder.queue.qsize())]
    assert pokes == ["recorded call ended"] * 2
    assert {leg.recording for leg in legs} == {STEM[-32:]}
    assert [(leg.tenant_id, leg.caller, leg.dialled) for leg in legs][0] == (1, "101", "102")
