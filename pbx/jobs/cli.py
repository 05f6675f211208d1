"""`pbx import extensions` and `pbx jobs ...`: clients of the running control plane's API.

They talk HTTP, not SQL: the jobs run in the control plane's workers, so only it can
follow them live, and the API applies the same token scoping (a tenant token sees its own
jobs) and checks as every other client gets. Token: --token or PBX_TOKEN; address: --api or
PBX_API_URL (default: this machine's PBX_API_HOST/PBX_API_PORT)."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pbx.config import settings_from_env

POLL_S = 0.5
console = Console()


class ApiError(Exception):
    pass


def add_commands(commands) -> None:
    importing = commands.add_parser("import", help="bulk imports through the API, followed to the end")
    what = importing.add_subparsers(required=True, metavar="WHAT")
    extensions = what.add_parser("extensions", help="import a CSV or JSON file of extensions into a tenant")
    extensions.add_argument("--tenant", type=int, required=True, metavar="ID")
    extensions.add_argument("--mode", choices=("atomic", "each"), default="atomic")
    extensions.add_argument("--result", type=Path, metavar="FILE",
                            help="save the created SIP credentials here (they can be downloaded once)")
    extensions.add_argument("file", type=Path)
    _client_options(extensions)
    extensions.set_defaults(func=cmd_import_extensions)

    jobs = commands.add_parser("jobs", help="provisioning jobs").add_subparsers(required=True, metavar="ACTION")
    listing = jobs.add_parser("list", help="recent jobs, newest first")
    listing.add_argument("--tenant", type=int, metavar="ID")
    for name, func, text in (("show", cmd_show, "a job and its failed rows"),
                             ("cancel", cmd_cancel, "cancel a queued or running job"),
                             ("result", cmd_result, "save a finished import's credentials (once)")):
        action = jobs.add_parser(name, help=text)
        action.add_argument("job_id", type=int, metavar="ID")
        if name == "result":
            action.add_argument("file", type=Path)
        _client_options(action)
        action.set_defaults(func=func)
    _client_options(listing)
    listing.set_defaults(func=cmd_list)


def _client_options(parser) -> None:
    parser.add_argument("--api", default=os.environ.get("PBX_API_URL"), help="API base URL, ending in /api/v1")
    parser.add_argument("--token", default=os.environ.get("PBX_TOKEN"), help="bearer token (or PBX_TOKEN)")


class Client:
    def __init__(self, args):
        if not args.token:
            raise ApiError("give a token: --token or PBX_TOKEN (pbx token create --operator)")
        settings = settings_from_env()
        self.base = (args.api or f"http://{settings.api_host}:{settings.api_port}/api/v1").rstrip("/")
        self.token = args.token

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(_error_text(exc)) from exc
        except urllib.error.URLError as exc:
            raise ApiError(f"the control plane at {self.base} does not answer: {exc.reason}") from exc

    def json(self, method: str, path: str, **kwargs) -> dict:
        return json.loads(self.call(method, path, **kwargs))


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.loads(exc.read())["error"]
        return f"{exc.code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code}"


def _run(action) -> int:
    try:
        return action()
    except ApiError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1


def cmd_import_extensions(args) -> int:
    def action() -> int:
        client = Client(args)
        content_type = "application/json" if args.file.suffix.lower() == ".json" else "text/csv"
        job = client.json("POST", f"/tenants/{args.tenant}/extensions/import?mode={args.mode}",
                          body=args.file.read_bytes(), content_type=content_type)["job"]
        job = follow(client, job)
        print_job(job)
        if args.result and job["status"] in ("succeeded", "cancelled"):
            save_result(client, job["id"], args.result)
        elif job["status"] == "succeeded":
            console.print(f"credentials: pbx jobs result {job['id']} FILE (downloadable once)")
        return 0 if job["status"] == "succeeded" and not job["failed"] else 1

    return _run(action)


def follow(client: Client, job: dict) -> dict:
    """Until the job ends: a bar over the rows, with the rate and the time still to go."""
    columns = (TextColumn("job {task.fields[job_id]} {task.fields[status]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("import", total=job["total"], job_id=job["id"], status=job["status"], failed=0)
        try:
            while job["status"] in ("queued", "running"):
                time.sleep(POLL_S)
                job = client.json("GET", f"/jobs/{job['id']}")
                progress.update(bar, completed=job["done"] + job["failed"], status=job["status"],
                                failed=job["failed"])
        except KeyboardInterrupt:
            console.print(f"stopped following; the job goes on (pbx jobs show {job['id']})")
    return client.json("GET", f"/jobs/{job['id']}")


def print_job(job: dict) -> None:
    console.print(f"job {job['id']} ({job['kind']}, {job['mode']}): {job['status']}: "
                  f"{job['done']} done, {job['failed']} failed of {job['total']}", highlight=False)
    if job.get("errors"):
        table = Table("row", "code", "message")
        for error in job["errors"]:
            table.add_row(str(error["row"]), error["code"], error["message"])
        console.print(table)


def save_result(client: Client, job_id: int, path: Path) -> None:
    data = client.call("GET", f"/jobs/{job_id}/result")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # SIP passwords: owner only
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    console.print(f"credentials saved to {path}")


def cmd_list(args) -> int:
    def action() -> int:
        query = f"?tenant_id={args.tenant}" if args.tenant else ""
        table = Table("id", "kind", "tenant", "status", "done", "failed", "total", "created")
        for job in Client(args).json("GET", "/jobs" + query)["items"]:
            table.add_row(str(job["id"]), job["kind"], str(job["tenant_id"] or "-"), job["status"],
                          str(job["done"]), str(job["failed"]), str(job["total"]), job["created_at"])
        console.print(table)
        return 0

    return _run(action)


def cmd_show(args) -> int:
    return _run(lambda: print_job(Client(args).json("GET", f"/jobs/{args.job_id}")) or 0)


def cmd_cancel(args) -> int:
    return _run(lambda: print_job(Client(args).json("DELETE", f"/jobs/{args.job_id}")) or 0)


def cmd_result(args) -> int:
    return _run(lambda: save_result(Client(args), args.job_id, args.file) or 0)

