"""Health as Prometheus metrics (prometheus-client, the official library), gathered when
scraped: trunk reachability and RTT (from the monitor's AMI-fed state), per-trunk call
figures over the last hour, registered extensions per tenant (Asterisk's registrations in
astdb), open faults by priority."""
from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from pbx.db.models import Extension, Trunk
from pbx.db.ops_tables import Fault, TrunkStatus
from pbx.domain.errors import AsteriskUnavailable
from pbx.ops.deadlines import PRIORITIES
from pbx.ops.trunk_calls import trunk_figures

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self, database, ami, monitor):
        self.database, self.ami, self.monitor = database, ami, monitor

    async def render(self) -> bytes:
        registry = CollectorRegistry()
        gauge = _gauges(registry)
        async with self.database.read() as session:
            trunks = list(await session.execute(select(Trunk.id, Trunk.name, TrunkStatus.reachable)
                                                .outerjoin(TrunkStatus, TrunkStatus.trunk_id == Trunk.id)))
            figures = await trunk_figures(session)
            open_faults = dict(list(await session.execute(
                select(Fault.priority, func.count(Fault.id)).where(Fault.status == "open").group_by(Fault.priority))))
            registered = await self._registered(session)
        for trunk_id, name, reachable in trunks:
            labels = (str(trunk_id), name)
            gauge["reachable"].labels(*labels).set(1 if reachable else 0)
            if (rtt := self.monitor.rtt_ms.get(trunk_id)) is not None:
                gauge["rtt"].labels(*labels).set(rtt)
            for key, value in figures.get(trunk_id, {}).items():
                if value is not None:
                    gauge[key].labels(*labels).set(value)
        for priority in PRIORITIES:
            gauge["faults"].labels(priority).set(open_faults.get(priority, 0))
        for tenant_id, count in registered.items():
            gauge["registered"].labels(str(tenant_id)).set(count)
        return generate_latest(registry)

    async def _registered(self, session) -> Counter:
        """Registrations are astdb's registrar/contact/<endpoint>;@<hash> keys: one read of the
        family, mapped to tenants through the extensions table."""
        try:
            keys = await self.ami.family("registrar")
        except AsteriskUnavailable:
            return Counter()
        endpoints = {key.split("/", 1)[1].split(";@", 1)[0] for key in keys if key.startswith("contact/")}
        if not endpoints:
            return Counter()
        rows = await session.execute(select(Extension.tenant_id).where(Extension.sip_username.in_(endpoints)))
        return Counter(tenant_id for (tenant_id,) in rows)


def _gauges(registry) -> dict[str, Gauge]:
    trunk = ("trunk_id", "trunk")
    return {
        "reachable": Gauge("pbx_trunk_reachable", "1 while the trunk answers SIP OPTIONS", trunk, registry=registry),
        "rtt": Gauge("pbx_trunk_rtt_ms", "round-trip time of the last OPTIONS", trunk, registry=registry),
        "calls": Gauge("pbx_trunk_calls", "calls through the trunk, last hour", trunk, registry=registry),
        "answer_ratio": Gauge("pbx_trunk_answer_ratio", "answered share of its calls, last hour", trunk,
                              registry=registry),
        "setup_failures": Gauge("pbx_trunk_setup_failures", "calls it could not set up, last hour", trunk,
                                registry=registry),
        "jitter_ms": Gauge("pbx_trunk_jitter_ms", "mean RTCP jitter of its calls, last hour", trunk,
                           registry=registry),
        "loss_percent": Gauge("pbx_trunk_loss_percent", "mean RTCP loss of its calls, last hour", trunk,
                              registry=registry),
        "faults": Gauge("pbx_faults_open", "open fault records", ("priority",), registry=registry),
        "registered": Gauge("pbx_tenant_registered_extensions", "extensions registered now", ("tenant_id",),
                            registry=registry),
    }
