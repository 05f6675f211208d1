"""Issue 13, item 1: ids are never reused, so a new tenant inherits nothing of a
deleted one; what outlives a tenant is for operators only (real stack)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pbx.domain.recording import new_spool_name
from tests.support.audio import write_tone_wav
from tests.support.stack import settings_env

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]  # realtime: run again on PostgreSQL


def sweep(stack) -> None:
    done = subprocess.run([sys.executable, "-m", "pbx", "recordings", "sweep", "--quiet", "0"],
                          env=settings_env(stack.settings), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def spool_recording(stack, tenant_id: int) -> str:
    name = new_spool_name(tenant_id, "101", "102")
    write_tone_wav(str(stack.settings.recording_spool_dir / f"{name.stem}.wav"), 700.0, 1.0)
    return name.file_id


def test_a_deleted_tenants_id_and_traces_go_to_no_new_tenant(stack):
    old, old_api = stack.new_tenant("kobi")  # the highest id: the one SQLite would hand out again
    spool_recording(stack, old["id"])
    sweep(stack)
    [recording] = old_api.ok("GET", f"/tenants/{old['id']}/recordings")["items"]
    assert old_api.get(f"/tenants/{old['id']}/recordings/{recording['id']}/audio").status_code == 200
    ext = old_api.ok("POST", f"/tenants/{old['id']}/extensions", {"number": "101", "name": "A"})
    stack.operator.ok("DELETE", f"/tenants/{old['id']}", status=204)

    new, new_api = stack.new_tenant("kobi")
    assert new["id"] > old["id"]
    assert new_api.ok("POST", f"/tenants/{new['id']}/extensions", {"number": "101", "name": "B"})["id"] > ext["id"]
    log_path = f"/tenants/{old['id']}/recordings/{recording['id']}/access-log"
    assert new_api.get(log_path).status_code == 404
    assert new_api.get(f"/tenants/{old['id']}/recordings/access-log/verify").status_code == 404
    assert [e["action"] for e in stack.operator.ok("GET", log_path)["items"]] == ["read", "tenant_deleted"]
    assert stack.operator.ok("GET", f"/tenants/{old['id']}/recordings/access-log/verify")["ok"] is True
    destroyed = f"/tenants/{old['id']}/recordings/destructions"
    assert new_api.get(destroyed).status_code == 404
    assert [d["reason"] for d in stack.operator.ok("GET", destroyed)["items"]] == ["tenant_deleted"]

    late = spool_recording(stack, old["id"])  # a call of the old tenant that ends only now
    sweep(stack)
    assert new_api.ok("GET", f"/tenants/{new['id']}/recordings")["items"] == []
    assert [(d["file_id"], d["reason"]) for d in stack.operator.ok("GET", destroyed)["items"]][0] == (
        late, "tenant_deleted")
    assert not list(stack.settings.recording_spool_dir.glob(f"t{old['id']}_*"))
