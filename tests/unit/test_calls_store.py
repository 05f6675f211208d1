"""Legs stored and reconciled from Asterisk's CSV copy: replays change nothing."""
from __future__ import annotations

import asyncio
import os
import threading

from sqlalchemy import func, select

from pbx.asterisk import cdrfields
from pbx.calls import cdrfile
from pbx.calls.cdrfile import CdrFile
from pbx.calls.legs import parse_leg
from pbx.calls.store import store_legs
from pbx.db.models import Call, CallLeg, Number, Tenant
from tests.support.database import run_on_fresh_database
from tests.unit.test_calls_legs import fields


def csv_line(**overrides) -> str:
    values = fields(**overrides)
    return ",".join('"' + values[key].replace('"', '""') + '"' for key in cdrfields.KEYS) + "\n"


def run(tmp_path, scenario):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add(Tenant(id=7, name="T", plan="kobi"))
            unit.session.add(Tenant(id=8, name="U", plan="kobi"))
            await unit.session.flush()
            unit.session.add(Number(tenant_id=8, number="+908505550331", destination={"type": "hangup"}))
        return await scenario(database)

    return run_on_fresh_database(tmp_path, main)


async def counts(database):
    async with database.read() as session:
        return (await session.scalar(select(func.count(CallLeg.id))),
                await session.scalar(select(func.count(Call.id))))


def test_replayed_and_reordered_legs_make_one_call(tmp_path):
    async def scenario(database):
        second = parse_leg(fields(PbxSequence="4", PbxStart="1795441526.8", PbxEnd="1795441527.0"))
        first = parse_leg(fields())
        for batch in ([second], [first, first], [second, first]):
            async with database.unit() as unit:
                await store_legs(unit.session, batch)
        async with database.read() as session:
            call = await session.scalar(select(Call))
        return await counts(database), call

    (legs, calls), call = run(tmp_path, scenario)
    assert (legs, calls) == (2, 1)
    assert (call.tenant_id, call.disposition, call.wait_s, call.jitter_ms) == (7, "answered", 0, 4.0)


def test_untagged_inbound_calls_belong_to_the_numbers_holder_and_unknown_tenants_to_nobody(tmp_path):
    async def scenario(database):
        inbound = parse_leg(fields(PbxUniqueid="5.1", PbxLinkedid="5.1", PbxTenant="", PbxRoute="inbound",
                                   PbxDialled="08505550331"))
        stranger = parse_leg(fields(PbxUniqueid="6.1", PbxLinkedid="6.1", PbxTenant="999"))
        async with database.unit() as unit:
            await store_legs(unit.session, [inbound, stranger])
        async with database.read() as session:
            return dict((await session.execute(select(Call.linkedid, Call.tenant_id))).all())

    assert run(tmp_path, scenario) == {"5.1": 8, "6.1": None}


def test_the_csv_copy_is_read_once_and_again_after_rotation(tmp_path):
    path = tmp_path / "cdr-custom" / cdrfields.CSV_NAME
    path.parent.mkdir()

    async def scenario(database):
        cdr_file = CdrFile(path, database)
        assert await cdr_file.reconcile() == 0  # no file yet
        path.write_text(csv_line() + csv_line(PbxSequence="4") + '"half a li')
        read = [await cdr_file.reconcile()]
        with open(path, "a") as file:
            file.write('ne"\n' + csv_line(PbxUniqueid="9.1", PbxLinkedid="9.1"))
        read.append(await cdr_file.reconcile())
        read.append(await cdr_file.reconcile())
        os.replace(path, path.with_suffix(".old"))  # rotated: a new file, read from its start
        path.write_text(csv_line(PbxUniqueid="9.1", PbxLinkedid="9.1") + csv_line(PbxUniqueid="10.1", PbxLinkedid="10.1"))
        read.append(await cdr_file.reconcile())
        return read, await counts(database)

    read, (legs, calls) = run(tmp_path, scenario)
    assert read == [2, 1, 0, 2]  # the half line waits until it is whole; a malformed line is skipped
    assert (legs, calls) == (4, 3)


def test_a_line_longer_than_a_chunk_is_skipped_and_reading_goes_on(tmp_path):
    path = tmp_path / cdrfields.CSV_NAME
    line = csv_line()
    chunk = 4 * len(line)

    async def scenario(database):
        cdr_file = CdrFile(path, database, chunk_bytes=chunk)
        path.write_text(csv_line(PbxUniqueid="1.1", PbxLinkedid="1.1") + "x" * (3 * chunk))
        read = [await cdr_file.reconcile()]  # the long line has no end yet: wait for it
        with open(path, "a") as file:
            file.write("x\n" + csv_line(PbxUniqueid="2.1", PbxLinkedid="2.1"))
        read.append(await cdr_file.reconcile())
        with open(path, "a") as file:
            file.write(csv_line(PbxUniqueid="3.1", PbxLinkedid="3.1"))
        read.append(await cdr_file.reconcile())
        return read, await counts(database)

    read, (legs, calls) = run(tmp_path, scenario)
    assert read == [1, 1, 1]
    assert (legs, calls) == (3, 3)


def test_the_csv_copy_is_parsed_off_the_event_loop_and_outside_the_write_lock(tmp_path, monkeypatch):
    """While a reconcile parses, another writer commits: neither the loop nor SQLite's
    single-writer lock is held by the parse."""
    path = tmp_path / cdrfields.CSV_NAME
    parsing, written = threading.Event(), threading.Event()
    released_by_the_write = []
    real_parse = cdrfile.parse_lines

    def slow_parse(data: bytes):
        parsing.set()
        released_by_the_write.append(written.wait(30))
        return real_parse(data)

    monkeypatch.setattr(cdrfile, "parse_lines", slow_parse)

    async def scenario(database):
        path.write_text(csv_line())
        reconcile = asyncio.create_task(CdrFile(path, database).reconcile())
        assert await asyncio.to_thread(parsing.wait, 30)
        async with database.unit() as unit:
            unit.session.add(Tenant(id=9, name="V", plan="kobi"))
        written.set()
        return await reconcile

    assert run(tmp_path, scenario) == 1
    assert released_by_the_write[0] is True  # the write went through while the parse waited
