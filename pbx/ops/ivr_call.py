"""An IVR notice: a call over AMI through a reachable trunk to the contact's phone, playing
a Turkish message made for this fault (pbx/ops/speech.py). The trunk at fault is not used;
the default outbound trunk is preferred among the reachable others."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pbx.db.models import Trunk
from pbx.db.ops_tables import Fault, Notice, TrunkStatus
from pbx.db.unit import Database
from pbx.ops import notices
from pbx.ops.speech import notice_audio


class NoTrunk(RuntimeError):
    pass


class IvrCaller:
    def __init__(self, database: Database, ami, audio_dir: Path, caller_id: str = "santral"):
        self.database = database
        self.ami = ami
        self.audio_dir = audio_dir
        self.caller_id = caller_id

    async def call(self, notice: Notice, fault: Fault) -> str:
        trunk = await self._trunk(fault.trunk_id)
        sound = await notice_audio(self.audio_dir, f"fault-{fault.id}-{notice.event}", notices.speech(fault, notice.event))
        failure = await self.ami.originate_playback(trunk, notice.address, sound, self.caller_id)
        if failure:
            raise RuntimeError(failure)
        return f"answered via {trunk}, played {sound}"

    async def _trunk(self, not_this: int | None) -> str:
        async with self.database.read() as session:
            rows = (await session.execute(
                select(Trunk.sip_id, Trunk.default_outbound).join(TrunkStatus, TrunkStatus.trunk_id == Trunk.id)
                .where(TrunkStatus.reachable.is_(True), Trunk.id != (not_this or 0))
                .order_by(Trunk.default_outbound.desc(), Trunk.id))).all()
        if not rows:
            raise NoTrunk("no reachable trunk to call through")
        return rows[0][0]
