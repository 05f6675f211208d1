"""The one background-loop shape (pbx/tasks.py), driven step by step by a clock
that moves only when the test says so: no test here waits for real time."""
from __future__ import annotations

import asyncio

import pytest

from pbx.tasks import Clock, KeyedTasks, WakeableLoop


class StepClock(Clock):
    """Writes what the loop waits for into `steps`; an interval passes, or a sleep
    ends, only when the test calls pass_interval() or end_sleep()."""

    def __init__(self, steps: list[str]):
        self.steps = steps
        self.waiting = asyncio.Event()
        self.sleeping = asyncio.Event()
        self._interval_over = asyncio.Event()
        self._sleep_over = asyncio.Event()

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        self.steps.append(f"wait {timeout_s:g}")
        self.waiting.set()
        poked = asyncio.ensure_future(event.wait())
        over = asyncio.ensure_future(self._interval_over.wait())
        done, pending = await asyncio.wait({poked, over}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        self.waiting.clear()
        self._interval_over.clear()
        return poked in done

    async def sleep(self, seconds: float) -> None:
        self.steps.append(f"sleep {seconds:g}")
        self.sleeping.set()
        await self._sleep_over.wait()
        self._sleep_over.clear()
        self.sleeping.clear()

    async def pass_interval(self) -> None:
        self._interval_over.set()
        await self.next_wait()

    async def end_sleep(self) -> None:
        self._sleep_over.set()
        await asyncio.sleep(0)
        await self.settled()

    async def next_wait(self) -> None:
        """Until the loop waits again (or sleeps): everything before it has run."""
        self.waiting.clear()
        await self.settled()

    async def settled(self) -> None:
        waits = [asyncio.ensure_future(self.waiting.wait()), asyncio.ensure_future(self.sleeping.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()


def loop_with(steps: list[str], work=None, **options) -> tuple[WakeableLoop, StepClock]:
    clock = StepClock(steps)

    async def record() -> None:
        steps.append("run")

    return WakeableLoop("test", work or record, interval_s=60, clock=clock, **options), clock


async def test_a_burst_of_pokes_is_one_run_after_the_debounce():
    steps: list[str] = []
    loop, clock = loop_with(steps, debounce_s=0.3)
    loop.start()
    await clock.settled()
    loop.poke()
    await clock.next_wait()  # now in the debounce sleep
    loop.poke()
    loop.poke()
    await clock.end_sleep()
    await loop.stop()
    assert steps == ["wait 60", "sleep 0.3", "run", "wait 60"]


async def test_a_poke_while_the_work_runs_is_one_more_run():
    steps: list[str] = []
    loop, clock = None, None

    async def work() -> None:
        steps.append("run")
        if steps.count("run") == 1:
            loop.poke()  # a change committed while the work was under way

    loop, clock = loop_with(steps, work)
    loop.start()
    await clock.settled()
    loop.poke()
    await clock.next_wait()
    await clock.next_wait()
    await loop.stop()
    assert steps == ["wait 60", "run", "wait 60", "run", "wait 60"]


async def test_without_a_poke_the_interval_runs_it_with_no_debounce():
    steps: list[str] = []
    loop, clock = loop_with(steps, debounce_s=0.3)
    loop.start()
    await clock.settled()
    await clock.pass_interval()
    await clock.pass_interval()
    await loop.stop()
    assert steps == ["wait 60", "run", "wait 60", "run", "wait 60"]


async def test_run_at_start_runs_before_any_wait():
    steps: list[str] = []
    loop, clock = loop_with(steps, debounce_s=2.5, run_at_start=True)
    loop.start()
    await clock.settled()
    await loop.stop()
    assert steps == ["run", "wait 60"]


async def test_a_failed_run_is_logged_and_retried_after_retry_s(caplog):
    steps: list[str] = []

    async def flaky() -> None:
        steps.append("run")
        if steps.count("run") == 1:
            raise OSError("the database is away")

    loop, clock = loop_with(steps, flaky, retry_s=1)
    loop.start()
    await clock.settled()
    loop.poke()
    await clock.next_wait()  # the retry sleep
    await clock.end_sleep()
    await loop.stop()
    assert steps == ["wait 60", "run", "sleep 1", "wait 60", "run", "wait 60"]
    assert "test failed; retrying in 1 s" in caplog.text


async def test_without_retry_s_a_failure_waits_for_the_next_poke_and_the_loop_lives_on():
    steps: list[str] = []

    async def failing() -> None:
        steps.append("run")
        raise RuntimeError("boom")

    loop, clock = loop_with(steps, failing)
    loop.start()
    await clock.settled()
    loop.poke()
    await clock.next_wait()
    loop.poke()
    await clock.next_wait()
    await loop.stop()
    assert steps == ["wait 60", "run", "wait 60", "run", "wait 60"]


async def test_a_loop_started_twice_is_refused_and_starts_again_after_stop():
    """Two loops over the same work would run it side by side (the webhook dispatcher was started
    twice once, and its two rounds raced over the same webhooks)."""
    steps: list[str] = []
    loop, clock = loop_with(steps)
    loop.start()
    with pytest.raises(RuntimeError, match="started twice"):
        loop.start()
    await loop.stop()
    loop.start()
    await loop.stop()
async def test_keyed_tasks_run_one_per_key_and_an_end_removes_only_itself(caplog):
    ends, gates, runs = [], {"a": asyncio.Event(), "b": asyncio.Event()}, []
    tasks = KeyedTasks("hook", on_end=lambda: ends.append(sorted(tasks.busy())))

    async def work(key: str, n: int) -> None:
        runs.append((key, n))
        await gates[key].wait()
        if key == "b":
            raise RuntimeError("the peer went away")

    tasks.start("a", lambda: work("a", 1))
    tasks.start("b", lambda: work("b", 1))
    tasks.start("a", lambda: work("a", 2))  # "a" still runs: left alone, not started twice
    await asyncio.sleep(0)
    assert runs == [("a", 1), ("b", 1)] and tasks.busy() == {"a", "b"}
    gates["b"].set()
    for _ in range(10):  # b runs to its end and its done callback: a few loop turns, no real time
        await asyncio.sleep(0)
    assert tasks.busy() == {"a"} and "hook b failed" in caplog.text  # b's end removed b only
    assert ends == []  # a failure waits for the owner's interval, not a poke
    gates["a"].set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert ends == [[]]  # a completed: its next work may be due
    gates["b"].clear()
    tasks.start("b", lambda: work("b", 2))
    await asyncio.sleep(0)
    await tasks.cancel()  # shutdown: b still waits on its peer
    assert runs[-1] == ("b", 2) and tasks.busy() == set() and ends == [[]]
