"""What the astdb publishers share (pbx/services/fallback.py, pbx/asterisk/trunk_publisher.py):
one astdb family kept equal to the database, published again after each committed change of
its tables (debounced: one publish for a burst), when AMI (re)connects, and every interval."""
from __future__ import annotations

from pbx.tasks import WakeableLoop


class AstdbPublisher:
    """Subclasses write publish_once. `_published` is what astdb holds as far as this process
    knows, so a publish can compare or send only the difference; None: unknown."""

    def __init__(self, name: str, ami, *, interval_s: float, debounce_s: float, **loop_options):
        self.ami = ami
        self._published: dict[str, str] | None = None
        self._loop = WakeableLoop(name, self.publish_once, interval_s=interval_s, debounce_s=debounce_s,
                                  **loop_options)

    def changed(self, _written=None) -> None:
        """A commit listener of the family's tables."""
        self._loop.poke()

    def resync(self) -> None:
        """AMI (re)connected: Asterisk may have restarted or been changed meanwhile."""
        self._published = None
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def publish_once(self) -> None:
        raise NotImplementedError
