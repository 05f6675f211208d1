"""`pbx backup [export-key OUT | verify BACKUP]` and `pbx restore BACKUP`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pbx.config import settings_from_env


def add_commands(commands) -> None:
    backup = commands.add_parser("backup", help="take a verified backup now (or: export-key, verify)")
    backup.set_defaults(func=cmd_backup)
    actions = backup.add_subparsers(metavar="ACTION")
    export = actions.add_parser("export-key", help="write the recording keys to OUT (keep it apart from backups)")
    export.add_argument("out", type=Path, metavar="OUT")
    export.set_defaults(func=cmd_export_key)
    check = actions.add_parser("verify", help="check a backup's checksums and test-restore its database")
    check.add_argument("backup", type=Path, metavar="BACKUP")
    check.set_defaults(func=cmd_verify)
    restore = commands.add_parser("restore", help="restore a backup onto a fresh data directory")
    restore.add_argument("backup", type=Path, metavar="BACKUP")
    restore.add_argument("--key", type=Path, metavar="FILE", help="the export of `pbx backup export-key`")
    restore.add_argument("--journal", type=Path, metavar="FILE",
                         help="the destruction journal (default: PBX_DESTRUCTION_JOURNAL's place)")
    restore.add_argument("--force", action="store_true", help="replace what the target already holds")
    restore.set_defaults(func=cmd_restore)


def cmd_backup(_args) -> int:
    from pbx.backup.take import take_backup

    settings = settings_from_env()
    path = take_backup(settings)
    print(json.dumps({"backup": str(path)}))
    return 0


def cmd_export_key(args) -> int:
    from pbx.backup.keyexport import export_keys

    try:
        count = export_keys(settings_from_env().recording_key_path, args.out)
    except FileExistsError:
        print(f"{args.out} exists; not overwritten", file=sys.stderr)
        return 1
    print(json.dumps({"exported": count, "to": str(args.out)}))
    return 0


def cmd_verify(args) -> int:
    from pbx.backup.take import verify

    problems = verify(settings_from_env(), args.backup)
    print(json.dumps({"ok": not problems, "problems": problems}))
    return 0 if not problems else 1


def cmd_restore(args) -> int:
    from pbx.backup.database import BackupError
    from pbx.backup.restore import restore

    try:
        result = restore(settings_from_env(), args.backup, args.key, args.journal, args.force)
    except (BackupError, ValueError) as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0 if not result["recordings_without_key"] else 2
