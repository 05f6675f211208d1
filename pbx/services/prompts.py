"""IVR prompts: convert an upload, store the audio atomically, then the row."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.audio import convert as audio
from pbx.audio.store import NARROWBAND, WIDEBAND, PromptStore, new_file_id
from pbx.db.models import Prompt
from pbx.db.unit import Database, Unit
from pbx.domain.errors import Conflict, TooLarge, UnsupportedMedia
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal

# Who still uses a prompt: (session, tenant_id, prompt_id) -> a description, or None.
PromptUser = Callable[[AsyncSession, int, int], Awaitable[str | None]]


@dataclass
class PromptService:
    store: PromptStore
    limits: audio.Limits
    users: list[PromptUser] = field(default_factory=list)

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int) -> list[Prompt]:
        return await scoped_list(session, principal, Prompt, tenant_id)

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, prompt_id: int) -> Prompt:
        return await scoped_get(session, principal, Prompt, tenant_id, prompt_id, "prompt")

    async def create(self, database: Database, principal: Principal, tenant_id: int, name: str,
                     upload: Path) -> Prompt:
        async with database.read() as session:
            await visible_tenant(session, principal, tenant_id)  # refuse before the costly part
        file_id = new_file_id()
        # Converting and storing run in one worker thread that cleans up after itself.
        # Shielded: should this request be cancelled, the thread still runs to its end,
        # and what it stored is then removed (there will be no row for it).
        stored = asyncio.ensure_future(asyncio.to_thread(self._convert_and_save, upload, tenant_id, file_id))
        try:
            converted = await asyncio.shield(stored)
        except asyncio.CancelledError:
            stored.add_done_callback(lambda done: self._discard(done, tenant_id, file_id))
            raise
        try:
            async with database.unit() as unit:
                await visible_tenant(unit.session, principal, tenant_id)
                prompt = Prompt(tenant_id=tenant_id, name=name, file_id=file_id, duration_ms=converted.duration_ms,
                                source_format=converted.source_format)
                unit.session.add(prompt)
                await unit.session.flush()
        except BaseException:
            self.store.remove(tenant_id, file_id)  # no row, no files: nothing half-stored
            raise
        return prompt

    def _discard(self, done: asyncio.Future, tenant_id: int, file_id: str) -> None:
        if not done.cancelled():
            done.exception()  # retrieved: the request that wanted it is gone
        self.store.remove(tenant_id, file_id)

    def _convert_and_save(self, upload: Path, tenant_id: int, file_id: str) -> audio.Converted:
        """Converts into the store's incoming directory, then moves the two outputs into
        place; whatever happens, no converted file is left behind in incoming."""
        converted = self._convert(upload)
        try:
            self.store.save(tenant_id, file_id, converted.narrowband, converted.wideband)
        finally:  # save moves or removes them; this covers anything before it got to
            converted.narrowband.unlink(missing_ok=True)
            converted.wideband.unlink(missing_ok=True)
        return converted

    def _convert(self, upload: Path) -> audio.Converted:
        try:
            return audio.convert(upload, self.store.incoming_dir(), self.limits)
        except audio.TooLarge as exc:
            raise TooLarge(exc.reason) from exc
        except audio.AudioRejected as exc:
            raise UnsupportedMedia(exc.reason) from exc

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, prompt_id: int) -> None:
        prompt = await self.get(unit.session, principal, tenant_id, prompt_id)
        for user in self.users:
            if used_by := await user(unit.session, tenant_id, prompt_id):
                raise Conflict(f"the prompt is still used by {used_by}")
        await unit.session.delete(prompt)
        unit.after_commit(lambda: asyncio.to_thread(self.store.remove, tenant_id, prompt.file_id))

    def audio_path(self, prompt: Prompt, wideband: bool = False) -> Path:
        return self.store.path(prompt.tenant_id, prompt.file_id, WIDEBAND if wideband else NARROWBAND)
