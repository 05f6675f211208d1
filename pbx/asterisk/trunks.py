"""A trunk in Asterisk: its PJSIP endpoint (no auth: identified by address) and AOR (a static
contact, qualified with SIP OPTIONS) live in astdb, family pbx_trunks, as sorcery's astdb
wizard stores objects (sorcery.conf); the identify row that matches its addresses is a
realtime row. Asterisk qualifies only AORs, and endpoints, it can list whole, which the
extensions' realtime tables never allow (allow_unqualified_fetch=no): hence astdb, small
and read whole at start and on every PJSIP reload (pbx/asterisk/trunk_publisher.py)."""
from __future__ import annotations

import json

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk.endpoints import TRANSPORT
from pbx.db.realtime import PsEndpointIdIp

FAMILY = "pbx_trunks"
INBOUND_CONTEXT = "pbx-inbound"
TRUNK_CODECS = "ulaw,alaw,g722"
# Every trunk is qualified with OPTIONS this often; an answer later than the timeout counts
# as none. Asterisk reports each result as an AMI ContactStatus (pbx/ops/monitor.py).
QUALIFY_SECONDS = 10
QUALIFY_TIMEOUT_S = 3.0
# Behind a cluster's Kamailio every request comes from Kamailio's address, so a node cannot
# identify a trunk by its source: Kamailio, which sees the carrier's real address, names the
# trunk in this header (and strips it from every other request: pbx/cluster/carriers.py).
CARRIER_HEADER = "X-Pbx-Carrier"


def _contact(host: str, port: int) -> str:
    return f"sip:{host}:{port}"


def _via_proxy(cluster_proxy: str) -> dict[str, str]:
    """A cluster node reaches carriers through Kamailio (loose routing), so a carrier sees one address."""
    return {"outbound_proxy": f"sip:{cluster_proxy};lr"} if cluster_proxy else {}


def endpoint_fields(sip_id: str, cluster_proxy: str = "") -> dict[str, str]:
    # Order matters: Asterisk applies fields as listed (disallow before allow).
    return {"transport": TRANSPORT, "aors": sip_id, "context": INBOUND_CONTEXT,
            "disallow": "all", "allow": TRUNK_CODECS, "direct_media": "no", "dtmf_mode": "rfc4733",
            "rtp_symmetric": "yes", "force_rport": "yes", "rewrite_contact": "no", "language": "en",
            **_via_proxy(cluster_proxy)}


def aor_fields(host: str, port: int, qualify_s: int = QUALIFY_SECONDS, cluster_proxy: str = "") -> dict[str, str]:
    # The qualify settings before the contact: a static contact copies them when it is made.
    return {"qualify_frequency": str(qualify_s), "qualify_timeout": str(QUALIFY_TIMEOUT_S),
            "max_contacts": "1", "remove_existing": "no", **_via_proxy(cluster_proxy),
            "contact": _contact(host, port)}


def astdb_entries(trunks, qualify_s: int = QUALIFY_SECONDS, *, cluster_proxy: str = "") -> dict[str, str]:
    """Keys of family pbx_trunks -> sorcery's JSON of each object. cluster_proxy (a cluster
    node's Kamailio, host:port): each trunk is reached through it, and identified by the
    CARRIER_HEADER with which Kamailio names it."""
    entries = {}
    for trunk in trunks:
        entries[f"endpoint/{trunk.sip_id}"] = json.dumps(endpoint_fields(trunk.sip_id, cluster_proxy))
        entries[f"aor/{trunk.sip_id}"] = json.dumps(aor_fields(trunk.host, trunk.port, qualify_s, cluster_proxy))
        if cluster_proxy:
            entries[f"identify/{trunk.sip_id}-carrier"] = json.dumps(
                {"endpoint": trunk.sip_id, "match_header": f"{CARRIER_HEADER}: {trunk.sip_id}"})
    return entries


def add_rows(session: AsyncSession, sip_id: str, match: list[str]) -> None:
    session.add(PsEndpointIdIp(id=sip_id, endpoint=sip_id, match=",".join(match)))


async def update_rows(session: AsyncSession, sip_id: str, match: list[str]) -> None:
    (await session.get(PsEndpointIdIp, sip_id)).match = ",".join(match)


async def delete_rows(session: AsyncSession, sip_id: str) -> None:
    await session.execute(delete(PsEndpointIdIp).where(PsEndpointIdIp.id == sip_id))
