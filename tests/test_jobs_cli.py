"""`pbx import extensions` and `pbx jobs` against the running control plane."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.stack import settings_env
from tests.test_jobs_import import csv_body, rows_of

pytestmark = [pytest.mark.asterisk]


def pbx(stack, token: str, *args: str) -> subprocess.CompletedProcess:
    env = settings_env(stack.settings) | {"PBX_TOKEN": token, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "pbx", *args], env=env, capture_output=True, text=True, timeout=120)


def test_import_follows_the_job_prints_bad_rows_and_saves_the_credentials(stack, tmp_path):
    tenant, api = stack.new_tenant("kobi")
    rows = rows_of(12, start=900)
    rows[3]["number"] = "09"
    source = tmp_path / "ekip.csv"
    source.write_bytes(csv_body(rows, sep=";"))

    atomic = pbx(stack, api.token, "import", "extensions", "--tenant", str(tenant["id"]), str(source))
    assert atomic.returncode == 1, atomic.stdout + atomic.stderr
    assert "failed" in atomic.stdout and "invalid" in atomic.stdout and "│ 4 " in atomic.stdout

    credentials = tmp_path / "sip.csv"
    each = pbx(stack, api.token, "import", "extensions", "--tenant", str(tenant["id"]), "--mode", "each",
               "--result", str(credentials), str(source))
    assert "succeeded: 11 done, 1 failed of 12" in each.stdout, each.stdout + each.stderr
    assert credentials.stat().st_mode & 0o077 == 0
    assert len(credentials.read_text(encoding="utf-8-sig").splitlines()) == 12  # header + 11

    job_id = each.stdout.split("job ", 1)[1].split()[0]
    listed = pbx(stack, api.token, "jobs", "list")
    assert listed.returncode == 0 and job_id in listed.stdout
    shown = pbx(stack, api.token, "jobs", "show", job_id)
    assert shown.returncode == 0 and "11 done" in shown.stdout
    again = pbx(stack, api.token, "jobs", "cancel", job_id)
    assert again.returncode == 1 and "409 conflict" in again.stdout
    other_tenant, other_api = stack.new_tenant("kobi")
    hidden = pbx(stack, other_api.token, "jobs", "show", job_id)
    assert hidden.returncode == 1 and "404 not_found" in hidden.stdout
    assert "PBX_TOKEN" in pbx(stack, "", "jobs", "list").stdout
