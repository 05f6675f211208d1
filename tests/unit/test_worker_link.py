"""The control plane <-> outbound worker protocol (pbx/worker.py) over a real socket pair; the
processes themselves are tested in tests/test_outbound_worker.py."""
from __future__ import annotations

import asyncio
import json
import socket

from pbx.config import Settings
from pbx.worker import ControlPlaneLink, WorkerProcess


async def _pair() -> tuple[WorkerProcess, ControlPlaneLink, asyncio.StreamReader, list[dict]]:
    ours, theirs = socket.socketpair()
    events: list[dict] = []
    process = WorkerProcess(Settings(), on_event=events.append)
    reader, process._writer = await asyncio.open_unix_connection(sock=ours)
    link = ControlPlaneLink(theirs.detach())
    await link.open()
    return process, link, reader, events


async def test_a_burst_of_pokes_is_one_line_per_kind_and_the_worker_hands_them_on():
    process, link, _reader, _ = await _pair()
    got, stop = [], asyncio.Event()
    serving = asyncio.create_task(link.serve(got.append, stop))
    for kind in ("webhooks", "notices", "webhooks", "webhooks", "voicemail"):
        process.poke(kind)
    await asyncio.sleep(0.1)
    assert sorted(got) == ["notices", "voicemail", "webhooks"]
    process._writer.write(b"not json\n" + b'{"other": 1}\n' + b'{"poke": "webhooks"}\n')  # the bad ones logged
    await asyncio.sleep(0.1)
    assert got[-1] == "webhooks" and len(got) == 4
    process._writer.close()  # the control plane is gone: the worker's serve ends
    await asyncio.wait_for(serving, 5)
    await link.close()


async def test_the_workers_events_reach_the_control_planes_sink_and_garbage_does_not():
    process, link, reader, events = await _pair()
    link.send_event({"id": "e1", "seq": 7, "type": "webhook.disabled", "data": {"webhook_id": 3, "url": "x\ny"}})
    process._received(await reader.readline())
    process._received(b"\xff\xfe\n")
    process._received(json.dumps({"poke": "webhooks"}).encode() + b"\n")
    assert events == [{"id": "e1", "seq": 7, "type": "webhook.disabled", "data": {"webhook_id": 3, "url": "x\ny"}}]
    await link.close()
    process._writer.close()


async def test_a_poke_while_no_worker_runs_is_dropped_without_error():
    errors = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: errors.append(context))
    process = WorkerProcess(Settings(), on_event=lambda _e: None)
    process.poke("webhooks")
    await asyncio.sleep(0.01)  # the flush has run (an error in it goes to the loop's handler)
    assert errors == [] and process._pending == set()
