"""A job survives kill -9 of the control plane: it resumes and no row is done twice.

The session's control plane is killed and restarted (small batches, so the kill lands
mid-job); it is restarted with its own settings afterwards, whatever happens."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
import requests

from tests.test_jobs_import import csv_body, result_rows, rows_of, start_import, wait_job

pytestmark = [pytest.mark.asterisk, pytest.mark.realtime]
ROWS = 2000


def wait_progress(api, job_id: int, at_least: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.ok("GET", f"/jobs/{job_id}")
        if job["done"] >= at_least or job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise TimeoutError("the job made no progress")


def wait_reachable(api, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.get("/jobs")
            return
        except requests.ConnectionError:
            time.sleep(0.2)


def asterisk_endpoints(stack, sip_ids: set[str]) -> set[str]:
    """The tenant's endpoints that Asterisk itself loads from its realtime tables, asked one by
    one (extensions are fetched by id only: `pjsip show endpoints` no longer lists them)."""
    from pbx.asterisk.ami import Ami

    async def loaded() -> set[str]:
        ami = Ami(stack.settings)
        await ami.start()
        try:
            assert await ami.wait_connected(20)
            found = set()
            for sip_id in sorted(sip_ids):
                messages = await ami.action({"Action": "PJSIPShowEndpoint", "Endpoint": sip_id})
                if any(m.get("Event") == "EndpointDetail" for m in messages):
                    found.add(sip_id)
            return found
        finally:
            ami.close()

    return asyncio.run(loaded())


def test_kill_9_mid_job_then_the_job_finishes_with_every_row_exactly_once(stack):
    tenant, api = stack.new_tenant("enterprise")
    original = stack.control.settings
    stack.control.stop()
    stack.control.settings = replace(original, job_batch_rows=20)
    stack.control.start()
    try:
        job = start_import(api, tenant["id"], csv_body(rows_of(ROWS, start=10000)))
        seen = wait_progress(api, job["id"], at_least=200)
        stack.control.process.kill()  # SIGKILL: no clean-up of any kind
        stack.control.process.wait(10)
        assert seen["status"] == "running" and seen["done"] < ROWS, seen
    finally:
        stack.control.settings = original
        if stack.control.process.poll() is not None:
            stack.control.start()
    stack.wait_ami()
    wait_reachable(api)
    done_before_restart = seen["done"]

    job = wait_job(api, job["id"], timeout=300)
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", ROWS, 0), job
    counted = stack.sql("SELECT count(*), count(DISTINCT number) FROM extensions WHERE tenant_id = :t", t=tenant["id"])
    assert counted == [(ROWS, ROWS)]
    sip_ids = {row[0] for row in stack.sql(
        "SELECT e.sip_username FROM extensions e JOIN ps_endpoints p ON p.id = e.sip_username "
        "JOIN ps_auths a ON a.id = e.sip_username WHERE e.tenant_id = :t", t=tenant["id"])}
    assert len(sip_ids) == ROWS
    assert asterisk_endpoints(stack, sip_ids) == sip_ids

    result = result_rows(api, job["id"])
    assert len(result) == ROWS and {r["sip_username"] for r in result} == sip_ids
    assert all(r["sip_password"] for r in result)  # rows done before the kill kept their passwords too
    assert 0 < done_before_restart < ROWS
