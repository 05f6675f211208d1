"""Asterisk restarts under the control plane: AMI reconnects by itself, /health answers 503
meanwhile, and the control plane raises asterisk.restarted; a registered phone's contact
survives it, so its registration events are not repeated."""
from __future__ import annotations

import sqlite3

import pytest

from tests.support.calls import wait_for
from tests.support.events import EventStream

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def contact_on_disk(stack, aor: str) -> bool:
    astdb = stack.settings.asterisk_instance_dir / "lib" / "astdb.sqlite3"
    with sqlite3.connect(f"file:{astdb}?mode=ro", uri=True) as db:
        return bool(db.execute("SELECT 1 FROM astdb WHERE key LIKE ?", (f"/registrar/contact/{aor};@%",)).fetchall())


def test_ami_reconnects_after_asterisk_restart(stack, phones):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    status_path = f"/tenants/{tenant['id']}/extensions/{ext['id']}/status"
    stream = EventStream(stack.operator.base, tenant["id"], api.token)
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    assert api.ok("GET", status_path)["registered"] is True
    # Asterisk commits astdb writes in batches, about a second apart: stopped before the contact is
    # on disk, it would come back without it (and the control plane rightly say it ended).
    assert wait_for(lambda: contact_on_disk(stack, ext["sip"]["username"]), timeout=10)

    stack.asterisk.stop()
    down = api.get(status_path)
    assert down.status_code == 503 and down.json()["error"]["code"] == "asterisk_unavailable"
    health = stack.operator.get("/health")  # the exchange cannot take calls: 503
    assert health.status_code == 503 and health.json()["ok"] is False and health.json()["asterisk"] is False

    stack.asterisk.start()
    stack.wait_ami()
    assert stack.operator.ok("GET", "/health") == {"ok": True, "asterisk": True, "fully_booted": True, "sip": True}
    log = stack.control.log_path.read_text()
    assert wait_for(lambda: "event asterisk.restarted" in stack.control.log_path.read_text()), log[-2000:]
    phone.reregister()
    assert phone.wait_registered() == 200
    assert wait_for(lambda: api.ok("GET", status_path)["registered"])

    phone.unregister()
    assert wait_for(lambda: not api.ok("GET", status_path)["registered"])
    # Asterisk kept the contact across its restart (astdb): one registration, one unregistration.
    assert stream.wait_for(lambda e: e["type"] == "extension.unregistered"), stream.events
    assert [e["type"] for e in stream.events if e["type"].startswith("extension.")] == [
        "extension.registered", "extension.unregistered"]
    stream.close()
    phone.remove()
