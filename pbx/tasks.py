"""Background tasks with an owner: whoever starts them cancels and awaits them at
shutdown, so none outlives the composition root (style: aio-libs)."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine


class OwnedTasks:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []

    def spawn(self, coro: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        return task

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
