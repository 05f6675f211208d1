"""Asterisk restarts under the control plane: AMI reconnects by itself."""
from __future__ import annotations

import pytest

from tests.support.calls import wait_for

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def test_ami_reconnects_after_asterisk_restart(stack, phones):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    status_path = f"/tenants/{tenant['id']}/extensions/{ext['id']}/status"
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    assert phone.wait_registered() == 200
    assert api.ok("GET", status_path)["registered"] is True

    stack.asterisk.stop()
    down = api.get(status_path)
    assert down.status_code == 503 and down.json()["error"]["code"] == "asterisk_unavailable"
    assert stack.operator.ok("GET", "/health")["asterisk"] is False

    stack.asterisk.start()
    stack.wait_ami()
    phone.reregister()
    assert phone.wait_registered() == 200
    assert wait_for(lambda: api.ok("GET", status_path)["registered"])

    phone.unregister()
    assert wait_for(lambda: not api.ok("GET", status_path)["registered"])
    phone.remove()
