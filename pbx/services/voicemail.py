"""Voicemail: a message row is made when a caller is sent to record; Asterisk
records into the instance's voicemail spool; a message is listed once its
recording is complete (closed and longer than a moment)."""
from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import time
from pathlib import Path

import soundfile as sf
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk import configgen
from pbx.db.models import Extension, VoicemailMessage
from pbx.db.unit import Database, Unit
from pbx.domain.errors import NotFound
from pbx.services.tenants import visible_tenant
from pbx.services.tokens import Principal

SPOOL = "spool/pbx-voicemail"
SETTLED_S = 2.0  # a recording untouched this long is finished
MIN_BYTES = 44 + 8000  # a WAV header and half a second of 8 kHz audio
_CALLER = re.compile(r"[^0-9+*#]")


def caller_number(raw: str) -> str:
    """Caller ID as it arrives from the network, reduced to dialable characters."""
    return _CALLER.sub("", raw)[:32] or "unknown"


class VoicemailService:
    def __init__(self, instance_dir: Path, database: Database):
        self.root = instance_dir / SPOOL
        self.database = database

    def path(self, row: VoicemailMessage) -> Path:
        return self.root / str(row.tenant_id) / f"{row.file_id}.wav"

    async def start_message(self, tenant_id: int, extension_id: int, caller: str) -> str:
        """Makes the row; returns where Asterisk records (its view, without extension)."""
        file_id = secrets.token_hex(12)
        (self.root / str(tenant_id)).mkdir(parents=True, exist_ok=True)
        async with self.database.unit() as unit:
            unit.session.add(VoicemailMessage(tenant_id=tenant_id, extension_id=extension_id, file_id=file_id,
                                              caller=caller_number(caller)))
        return f"{configgen.INSTANCE}/{SPOOL}/{tenant_id}/{file_id}"

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int) -> list[dict]:
        await self._extension(session, principal, tenant_id, ext_id)
        rows = await session.scalars(select(VoicemailMessage).where(
            VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.extension_id == ext_id
        ).order_by(VoicemailMessage.id))
        return [m for m in [await asyncio.to_thread(self._complete, row) for row in rows] if m]

    def _complete(self, row: VoicemailMessage) -> dict | None:
        duration_ms = self.completed(row)
        return None if duration_ms is None else {"row": row, "duration_ms": duration_ms}

    def completed(self, row: VoicemailMessage) -> int | None:
        """The message's length in ms once its recording is complete (closed, settled and
        longer than a moment), else None. Blocking: call it in a thread."""
        path = self.path(row)
        try:
            stat = path.stat()
            if stat.st_size < MIN_BYTES or time.time() - stat.st_mtime < SETTLED_S:
                return None
            return round(sf.info(str(path)).duration * 1000)
        except (OSError, RuntimeError):
            return None

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int,
                  message_id: int) -> VoicemailMessage:
        await self._extension(session, principal, tenant_id, ext_id)
        row = await session.scalar(select(VoicemailMessage).where(
            VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.extension_id == ext_id,
            VoicemailMessage.id == message_id))
        if row is None or not await asyncio.to_thread(self._complete, row):
            raise NotFound("no such message")
        return row

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, ext_id: int, message_id: int) -> None:
        row = await self.get(unit.session, principal, tenant_id, ext_id, message_id)
        path = self.path(row)
        await unit.session.delete(row)
        unit.after_commit(lambda: asyncio.to_thread(path.unlink, True))

    async def forget_extension(self, unit: Unit, tenant_id: int, extension_id: int) -> None:
        """The extension's messages go with it: rows cascade, files go after commit."""
        rows = await unit.session.scalars(select(VoicemailMessage).where(
            VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.extension_id == extension_id))
        paths = [self.path(row) for row in rows]
        unit.after_commit(lambda: asyncio.to_thread(_unlink_all, paths))

    async def forget_tenant(self, unit: Unit, tenant_id: int) -> None:
        folder = self.root / str(tenant_id)
        unit.after_commit(lambda: asyncio.to_thread(shutil.rmtree, folder, True))

    @staticmethod
    async def _extension(session: AsyncSession, principal: Principal, tenant_id: int, ext_id: int) -> None:
        await visible_tenant(session, principal, tenant_id)
        if await session.scalar(select(Extension.id).where(Extension.tenant_id == tenant_id,
                                                           Extension.id == ext_id)) is None:
            raise NotFound("no such extension")


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
