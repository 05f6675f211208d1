"""Keeps astdb's pbx_trunks family equal to the trunks table (pbx/asterisk/trunks.py) and,
after a change, asks Asterisk to reload PJSIP: only then does it list the trunks' objects
again and (re)start qualifying them."""
from __future__ import annotations

import logging

from sqlalchemy import select

from pbx.asterisk import trunks
from pbx.asterisk.astdb_publisher import AstdbPublisher
from pbx.db.models import Trunk
from pbx.db.unit import Database
from pbx.domain.errors import AsteriskUnavailable

log = logging.getLogger(__name__)

TABLES = ("trunks",)


class TrunkPublisher(AstdbPublisher):
    def __init__(self, database: Database, ami, *, qualify_s: int = trunks.QUALIFY_SECONDS,
                 cluster_proxy: str = ""):
        super().__init__("trunk-publisher", ami, interval_s=300, debounce_s=0.05, retry_s=2.0, run_at_start=True)
        self.database = database
        self.qualify_s = qualify_s
        self.cluster_proxy = cluster_proxy  # a cluster node: trunks reached through Kamailio, named by it
        self.published_listeners: list = []  # after each publish that changed something

    async def publish_once(self) -> None:
        if not self.ami.connected:
            return  # published again on login
        async with self.database.read() as session:
            entries = trunks.astdb_entries(await session.scalars(select(Trunk)), self.qualify_s,
                                           cluster_proxy=self.cluster_proxy)
        known, self._published = self._published, None
        if known is None:
            known = await self.ami.family(trunks.FAMILY)
        if known == entries:
            self._published = entries
            return
        try:
            await self.ami.replace_family(trunks.FAMILY, entries, known)
            await self.ami.action({"Action": "Reload", "Module": "res_pjsip.so"})
        except AsteriskUnavailable:
            log.warning("trunks not published to Asterisk; again on the next login")
            raise
        self._published = entries
        log.info("trunks published to Asterisk (%d objects), PJSIP reloaded", len(entries))
        for listener in self.published_listeners:
            listener()
