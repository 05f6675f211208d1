"""`pbx recordings ...`: the retention job once (optionally as of another time),
an archive sweep of the spool, the access-log check, and master key rotation,
for operators and tests."""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime, timezone

from pbx.calls.query import parse_time
from pbx.config import settings_from_env
from pbx.domain.errors import Invalid


def add_commands(commands) -> None:
    group = commands.add_parser("recordings", help="call recordings: retention, archive, access log")
    actions = group.add_subparsers(required=True, metavar="ACTION")
    retention = actions.add_parser("retention", help="destroy expired recordings once")
    retention.add_argument("--now", type=_iso_time, help="run as of this ISO 8601 time (with zone)")
    retention.set_defaults(func=cmd_retention)
    sweep = actions.add_parser("sweep", help="archive spool recordings untouched for --quiet seconds")
    sweep.add_argument("--quiet", type=float, default=120.0, metavar="SECONDS")
    sweep.set_defaults(func=cmd_sweep)
    verify = actions.add_parser("verify", help="check a tenant's access-log chain; exit 1 if broken")
    verify.add_argument("--tenant", type=int, required=True, metavar="ID")
    verify.set_defaults(func=cmd_verify)
    rotate = actions.add_parser("rotate-key", help="new master key; rewrap every data key (no audio touched)")
    rotate.set_defaults(func=cmd_rotate_key)


def _iso_time(raw: str) -> datetime:
    try:
        return parse_time(raw, "--now")
    except Invalid as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_retention(args) -> int:
    now = args.now or datetime.now(timezone.utc)
    count = asyncio.run(_with_database(lambda db, store, _spool: _purge(db, store, now)))
    print(json.dumps({"destroyed": count, "as_of": now.isoformat()}))
    return 0


def cmd_sweep(args) -> int:
    count = asyncio.run(_with_database(lambda db, store, spool: _sweep(db, store, spool, args.quiet)))
    print(json.dumps({"archived": count}))
    return 0


def cmd_rotate_key(_args) -> int:
    from pbx.recordings.keys import rotate_files
    from pbx.recordings.rotation import rewrap_all

    rotate_files(settings_from_env().recording_key_path)
    result = asyncio.run(_with_database(lambda db, store, _spool: rewrap_all(db, store.keyring)))
    print(json.dumps(result))
    return 0


def cmd_verify(args) -> int:
    result = asyncio.run(_with_database(lambda db, store, _spool: _verify(db, args.tenant)))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


async def _purge(database, store, now):
    from pbx.recordings.retention import purge_expired, remove_pending_files

    count = await purge_expired(database, store, now, actor="cli")
    await remove_pending_files(database, store)  # no control plane may be running to do it
    return count


async def _sweep(database, store, spool, quiet):
    from pbx.recordings.archive import Archiver

    return await Archiver(database, store, spool).sweep(None, quiet, time.time())


async def _verify(database, tenant_id):
    from pbx.recordings.access_log import verify

    async with database.read() as session:
        return await verify(session, tenant_id)


async def _with_database(job):
    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.migrate import upgrade
    from pbx.db.unit import Database
    from pbx.recordings.flow import archive_store

    settings = settings_from_env()
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        database = Database(make_sessionmaker(engine), serialize_writes=engine.dialect.name == "sqlite")
        return await job(database, archive_store(settings), settings.recording_spool_dir)
    finally:
        await engine.dispose()
