"""`pbx users create`: the first operator of a fresh install (and any user, as an operator
would make it over the API), written straight to the database, checked by the API's rules.
The password is read from the terminal (twice) or from standard input, never from the
command line, where `ps` and the shell's history would keep it."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from pydantic import ValidationError

from pbx.config import settings_from_env
from pbx.domain.errors import PbxError, validation_message


def add_commands(commands) -> None:
    users = commands.add_parser("users", help="panel users").add_subparsers(required=True, metavar="ACTION")
    create = users.add_parser("create", help="create a user (default: an operator); prints its id")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=("operator", "tenant_admin", "agent"), default="operator")
    create.add_argument("--tenant", type=int, metavar="ID", help="the tenant of a tenant admin or agent")
    create.add_argument("--extension", metavar="NUMBER", help="an agent's extension")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(func=cmd_users_create)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    return first if getpass.getpass("again: ") == first else None


def cmd_users_create(args: argparse.Namespace) -> int:
    from pbx.api.user_schemas import UserCreate
    from pbx.db.migrate import upgrade

    password = _password(args)
    if password is None:
        print("the passwords differ", file=sys.stderr)
        return 1
    try:
        body = UserCreate.model_validate({"email": args.email, "name": args.name, "role": args.role,
                                          "tenant_id": args.tenant, "extension": args.extension,
                                          "password": password})
    except ValidationError as exc:
        print(validation_message(exc), file=sys.stderr)
        return 1
    settings = settings_from_env()
    upgrade(settings.effective_database_url)
    try:
        user_id = asyncio.run(_create(settings, body.model_dump()))
    except PbxError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(user_id)
    return 0


async def _create(settings, fields: dict) -> int:
    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.unit import Database
    from pbx.services.tokens import Principal
    from pbx.users.passwords import Passwords
    from pbx.users.service import UserService

    users = UserService(Passwords())
    fields = await users.hashed(fields)
    engine = make_engine(settings.effective_database_url)
    try:
        async with Database(make_sessionmaker(engine)).unit() as unit:
            row, _ = await users.create(unit, Principal(None), fields)
        return row.id
    finally:
        await engine.dispose()
