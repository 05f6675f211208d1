"""Background tasks with an owner: whoever starts them cancels and awaits them at
shutdown, so none outlives the composition root (style: aio-libs).

`WakeableLoop` is the one shape of the control plane's background loops (fallback
publisher, archive sweeper, call-record reconciler): wait for a poke or an
interval, let a burst of pokes settle, run once."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine

log = logging.getLogger(__name__)


class OwnedTasks:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []

    def spawn(self, coro: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        return task

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


class KeyedTasks:
    """At most one task per key (a webhook, a tenant), so a slow peer holds up only its own
    work: `start` leaves a key that is still running alone; a task's end removes only itself;
    a task that completed calls `on_end` (its key's next work may be due), one that failed is
    logged and left to the owner's next interval (a poke would redo the same work at once, and
    again, while e.g. the database refuses the write); `cancel` at shutdown."""

    def __init__(self, name: str, on_end: Callable[[], None]) -> None:
        self.name, self.on_end = name, on_end
        self._tasks: dict[object, asyncio.Task] = {}

    def busy(self) -> set:
        return set(self._tasks)

    def start(self, key, work: Callable[[], Coroutine]) -> None:
        if key in self._tasks:
            return
        task = self._tasks[key] = asyncio.create_task(work(), name=f"{self.name}-{key}")
        task.add_done_callback(lambda done: self._ended(key, done))

    def _ended(self, key, task: asyncio.Task) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("%s %s failed", self.name, key, exc_info=task.exception())
        else:
            self.on_end()

    async def idle(self) -> None:
        """Until none is running (tests, benches)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()


class Clock:
    """The two waits of a loop; tests pass one they drive step by step."""

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        """True when the event was set, False when the timeout passed first."""
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can drop a cancel that lands
        # as the event is set, and the loop then outlives its owner's stop().
        try:
            async with asyncio.timeout(timeout_s):
                await event.wait()
        except TimeoutError:
            return False
        return True

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class WakeableLoop:
    """Runs `work` when poked, and every `interval_s` without a poke.

    After a poke it waits `debounce_s` before running, so a burst of pokes is one
    run; a poke that comes while the work runs is one more run after it (the flag
    is cleared just before the work starts). A failing run is logged; with
    `retry_s` it is tried again that much later, else at the next poke or interval.
    `run_at_start`: the first run is at once, before any wait.
    """

    def __init__(self, name: str, work: Callable[[], Awaitable[object]], *, interval_s: float,
                 debounce_s: float = 0.0, retry_s: float | None = None, run_at_start: bool = False,
                 clock: Clock | None = None):
        self.name = name
        self.work = work
        self.interval_s = interval_s
        self.debounce_s = debounce_s
        self.retry_s = retry_s
        self.clock = clock or Clock()
        self.run_at_start = run_at_start
        self._poked = asyncio.Event()
        self._tasks = OwnedTasks()

    def poke(self) -> None:
        self._poked.set()

    @property
    def poked(self) -> bool:
        """A run is due (for tests and logs)."""
        return self._poked.is_set()

    def start(self) -> None:
        """Once until stop(): a second loop would run the same work alongside the first."""
        if self._tasks.running:
            raise RuntimeError(f"{self.name}: started twice")
        self._tasks.spawn(self._run(), self.name)

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _run(self) -> None:
        if self.run_at_start:
            await self._run_once()  # at once: nothing to let settle yet
        while True:
            if await self.clock.wait(self._poked, self.interval_s) and self.debounce_s:
                await self.clock.sleep(self.debounce_s)
            self._poked.clear()
            await self._run_once()

    async def _run_once(self) -> None:
        try:
            await self.work()
        except Exception:
            log.exception("%s failed; %s", self.name,
                          f"retrying in {self.retry_s} s" if self.retry_s is not None else "trying again later")
            if self.retry_s is not None:
                await self.clock.sleep(self.retry_s)
                self.poke()
