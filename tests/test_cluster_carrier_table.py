"""Kamailio's carrier table kept equal to the trunks (pbx/cluster/carriers.py), against the
product's own kamailio.cfg on loopback: loaded, changed by difference (a stale entry removed,
a changed match replaced), and refilled after a Kamailio restart has emptied it. A second."""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from pbx.cluster.carriers import HTABLE, CarrierTable, parse_htable
from pbx.cluster.kamailio import Kamailio, KamailioConfig
from pbx.db.models import Trunk
from tests.support.database import run_on_fresh_database

OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))

pytestmark = pytest.mark.skipif(shutil.which("kamailio") is None,
                                reason="Kamailio (Debian kamailio: scripts/setup --test)")


def test_the_carrier_table_follows_the_trunks_and_survives_a_kamailio_restart(tmp_path):
    kamailio = Kamailio(KamailioConfig("127.0.0.1", 40095 + OFFSET, tmp_path / "kamailio", "secret"))

    def held() -> dict[str, str]:
        return parse_htable(kamailio.rpc("htable.dump", HTABLE))

    async def main(database):
        table = CarrierTable(database, f"unix:{kamailio.config.ctl_socket}")
        async with database.unit() as unit:
            unit.session.add_all([
                Trunk(name="A", host="192.0.2.1", port=5060, match=["192.0.2.1/32", "192.0.2.8/31"],
                      sip_id="trunk-a"),
                Trunk(name="B", host="198.51.100.7", port=5060, match=["198.51.100.7/32"], sip_id="trunk-b")])
        await table.sync_once()
        assert held() == {"192.0.2.1": "trunk-a", "192.0.2.8": "trunk-a", "192.0.2.9": "trunk-a",
                          "198.51.100.7": "trunk-b"}
        kamailio.rpc("htable.sets", HTABLE, "203.0.113.5", "trunk-gone")  # e.g. a trunk deleted meanwhile
        async with database.unit() as unit:
            trunk_b = await unit.session.scalar(select(Trunk).where(Trunk.sip_id == "trunk-b"))
            trunk_b.match = ["198.51.100.9/32"]
            await unit.session.delete(await unit.session.scalar(select(Trunk).where(Trunk.sip_id == "trunk-a")))
        await table.sync_once()
        assert held() == {"198.51.100.9": "trunk-b"}
        kamailio.stop()
        kamailio.start()  # a restarted Kamailio knows no carrier until the next sync
        assert held() == {}
        await table.sync_once()
        assert held() == {"198.51.100.9": "trunk-b"}

    kamailio.start()
    try:
        run_on_fresh_database(tmp_path, main)
    finally:
        kamailio.stop()
