"""The `pbx` command: up, serve, migrate, token create, asterisk-root, recordings, backup, restore, import, jobs,
users."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

import uvloop

from pbx.config import settings_from_env
from pbx.security.files import PRIVATE_UMASK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.umask(PRIVATE_UMASK)  # whatever a command writes (database, configuration, recordings) is owner-only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return args.func(args) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pbx", description="Cloud PBX control plane")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="run Asterisk and the control plane, each restarted if it exits")
    up.add_argument("--no-asterisk", action="store_true", help="do not start Asterisk (it runs elsewhere)")
    up.set_defaults(func=cmd_up)
    serve = commands.add_parser("serve", help="run the control plane alone in the foreground (Asterisk runs apart)")
    serve.set_defaults(func=cmd_serve)
    worker = commands.add_parser("worker", help="the outbound worker (the control plane starts it: pbx/worker.py)")
    worker.add_argument("--fd", type=int, required=True, help="its end of the control plane's socket pair")
    worker.set_defaults(func=cmd_worker)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    token = commands.add_parser("token", help="API tokens").add_subparsers(required=True, metavar="ACTION")
    create = token.add_parser("create", help="print a new token (the token alone, one line)")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--operator", action="store_true")
    who.add_argument("--tenant", type=int, metavar="ID")
    create.set_defaults(func=cmd_token_create)
    root = commands.add_parser("asterisk-root", help="build the cached Asterisk root folder if missing")
    root.set_defaults(func=cmd_asterisk_root)
    from pbx.recordings.cli import add_commands as add_recording_commands

    add_recording_commands(commands)
    from pbx.backup.cli import add_commands as add_backup_commands

    add_backup_commands(commands)
    from pbx.jobs.cli import add_commands as add_job_commands

    add_job_commands(commands)
    from pbx.users.cli import add_commands as add_user_commands

    add_user_commands(commands)
    from pbx.cluster.cli import add_commands as add_cluster_commands

    add_cluster_commands(commands)
    return parser


def cmd_migrate(_args) -> int:
    from pbx.db.migrate import upgrade

    upgrade(settings_from_env().effective_database_url)
    return 0


def cmd_token_create(args) -> int:
    from pbx.db.migrate import upgrade

    settings = settings_from_env()
    upgrade(settings.effective_database_url)
    token = asyncio.run(_create_token(settings, None if args.operator else args.tenant))
    if token is None:
        print(f"no tenant {args.tenant}", file=sys.stderr)
        return 1
    print(token)
    return 0


async def _create_token(settings, tenant_id: int | None) -> str | None:
    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.models import Tenant
    from pbx.db.unit import Database
    from pbx.services.tokens import create_token

    engine = make_engine(settings.effective_database_url)
    try:
        async with Database(make_sessionmaker(engine)).unit() as unit:
            if tenant_id is not None and await unit.session.get(Tenant, tenant_id) is None:
                return None
            return (await create_token(unit.session, tenant_id))[0]
    finally:
        await engine.dispose()


def cmd_asterisk_root(_args) -> int:
    from pbx.asterisk.root import ensure_root

    print(ensure_root(settings_from_env().asterisk_root))
    return 0


def cmd_up(args) -> int:
    if args.no_asterisk or not settings_from_env().manage_asterisk:
        return cmd_serve(args)
    from pbx.asterisk.runner import AsteriskProcess
    from pbx.supervisor import ControlPlaneChild, Supervisor

    settings = _prepared_settings()
    return Supervisor(AsteriskProcess(settings), ControlPlaneChild()).run()


def cmd_serve(_args) -> int:
    from pbx.app import serve

    settings = _prepared_settings()
    # uvloop: asyncio's per-connection work is most of a FastAGI decision's cost.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(settings))
    return 0


def cmd_worker(args) -> int:
    from pbx.worker import lower_priority

    settings = settings_from_env()
    lower_priority(settings.worker_priority)  # first: its imports and start-up already at that priority
    from pbx.app import serve_worker

    for handler in logging.getLogger().handlers:  # its lines interleave with the control plane's
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [worker] %(name)s: %(message)s"))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_worker(settings, args.fd))
    return 0


def _prepared_settings():
    """Settings with the AMI secret, the schema up to date and Asterisk's configuration written:
    the control plane owns that configuration, wherever Asterisk runs."""
    from pbx.asterisk.runner import write_config
    from pbx.db.migrate import upgrade
    from pbx.security.files import lock_down

    settings = settings_from_env().with_secret()
    lock_down(settings.data_dir, settings.audio_dir, settings.recording_archive_dir)
    upgrade(settings.effective_database_url)
    write_config(settings)
    return settings


if __name__ == "__main__":
    sys.exit(main())
