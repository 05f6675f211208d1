"""The usage sampler on the AMI hot path: a DialBegin costs a set lookup, and only a
circuit-priced tenant's call leads to one GROUP_COUNT (its own) and one row written."""
from __future__ import annotations

from sqlalchemy import select

from pbx.billing.usage import UsageSampler, dialling_tenant
from pbx.db.billing_tables import BillingAccount, MonthlyUsage
from pbx.db.models import Tenant
from tests.support.database import run_on_fresh_database


class CountingAmi:
    def __init__(self, counts: dict[int, int]):
        self.counts, self.asked = counts, []

    async def action(self, action: dict):
        self.asked.append(action["Variable"])
        tenant = int(action["Variable"].split("(t")[1].split("@")[0])
        return [{"Response": "Success", "Value": str(self.counts.get(tenant, 0))}]


def dial(tenant: int, prefix: str = "") -> dict:
    return {"Event": "DialBegin", prefix + "ChanVariable": [f"PBX_TENANT={tenant}", "PBX_ROUTE=outbound"]}


def run(tmp_path, scenario):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add(Tenant(id=1, name="Devre A.Ş.", plan="kobi", extra_extensions=2))
            unit.session.add(Tenant(id=2, name="Paket Ltd", plan="kobi", extra_extensions=1))
            await unit.session.flush()
            unit.session.add(BillingAccount(tenant_id=1, timezone="Europe/Istanbul", circuit_pricing=True,
                                            trial_converted=False, reminders_sent=[]))
            unit.session.add(BillingAccount(tenant_id=2, timezone="Europe/Istanbul", circuit_pricing=False,
                                            trial_converted=False, reminders_sent=[]))
        ami = CountingAmi({1: 3, 2: 5})
        return await scenario(database, ami, UsageSampler(database, ami, interval_s=3600))

    return run_on_fresh_database(tmp_path, main)


async def usage(database) -> dict[int, tuple[int, int]]:
    async with database.read() as session:
        return {u.tenant_id: (u.max_circuits, u.max_extra_extensions) for u in await session.scalars(select(MonthlyUsage))}


def test_the_dialling_tenant_is_the_calling_channels_or_for_an_originate_the_dialled_ones():
    assert dialling_tenant(dial(7)) == 7
    assert dialling_tenant(dial(8, "Dest")) == 8
    assert dialling_tenant({"Event": "DialBegin"}) is None
    assert dialling_tenant({"ChanVariable": "PBX_TENANT=x1"}) is None


def test_a_full_sample_measures_circuit_priced_tenants_only_and_every_tenants_extras(tmp_path):
    async def scenario(database, ami, sampler):
        await sampler.sample()
        return ami.asked, await usage(database), sampler.circuit_zones

    asked, rows, zones = run(tmp_path, scenario)
    assert asked == ["GROUP_COUNT(t1@pbx-calls)"]
    assert rows == {1: (3, 2), 2: (0, 1)}
    assert zones == {1: "Europe/Istanbul"}


def test_a_call_of_a_tenant_not_circuit_priced_costs_nothing(tmp_path):
    async def scenario(database, ami, sampler):
        await sampler.sample()
        ami.asked.clear()
        assert sampler.on_dial(None, dial(2)) is None  # not a coroutine: nothing waits in the AMI callback
        assert sampler.on_dial(None, {"Event": "DialBegin"}) is None
        assert not sampler.dial_loop.poked and sampler.dialled == set()
        await sampler.sample_dialled()
        return ami.asked

    assert run(tmp_path, scenario) == []


def test_a_call_of_a_circuit_priced_tenant_samples_that_tenants_circuits_alone(tmp_path):
    async def scenario(database, ami, sampler):
        await sampler.sample()
        ami.asked.clear()
        ami.counts[1], ami.counts[2] = 9, 9
        async with database.unit() as unit:  # a change the interval sample covers, not the call's
            (await unit.session.get(Tenant, 1)).extra_extensions = 6
        for _ in range(3):  # a burst of dials is one sample
            sampler.on_dial(None, dial(1))
        assert sampler.dial_loop.poked and sampler.dialled == {1}
        await sampler.sample_dialled()
        peak = await usage(database)
        ami.counts[1] = 1  # the call ended: the stored maximum is never lowered
        sampler.on_dial(None, dial(1))
        await sampler.sample_dialled()
        return ami.asked, peak, await usage(database)

    asked, peak, after = run(tmp_path, scenario)
    assert asked == ["GROUP_COUNT(t1@pbx-calls)"] * 2
    assert peak == after == {1: (9, 2), 2: (0, 1)}
