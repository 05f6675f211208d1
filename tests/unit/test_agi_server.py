"""The FastAGI server against a scripted Asterisk-side peer over a real socket."""
import asyncio

import pytest

from pbx.agi.server import AgiError, FastAgiServer, set_variable

SECRET = "s3cret-Xy_9"
HEADERS = b"agi_network: yes\nagi_network_script: s3cret-Xy_9/route\nagi_extension: 102\nagi_arg_1: 101-abc\n\n"


async def serve(routes, timeout=1.0):
    server = FastAgiServer(routes, call_timeout=timeout, secret=SECRET)
    await server.start("127.0.0.1", 0)
    port = server._server.sockets[0].getsockname()[1]
    return server, port


@pytest.mark.parametrize("line_by_line", [False, True], ids=["one write", "a write per line, as Asterisk"])
async def test_handler_sets_variables(line_by_line):
    seen = {}

    async def route(request):
        seen.update(request.headers)
        await set_variable(request, "PBX_ACTION", "dial")

    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in HEADERS.splitlines(keepends=True) if line_by_line else [HEADERS]:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.005 if line_by_line else 0)
    command = await reader.readline()
    assert command == b'SET VARIABLE PBX_ACTION "dial"\n'
    writer.write(b"200 result=1\n")
    assert await reader.read() == b""  # the server closes when the handler is done
    assert seen["agi_extension"] == "102" and seen["agi_arg_1"] == "101-abc"
    await server.close()


@pytest.mark.parametrize("replies, expected", [
    ([b"100 result=0 Trying...\n", b"200 result=0\n"], {"status_code": 200, "result": ("0", "")}),
    ([b"520-Invalid command syntax.  Proper usage follows:\n", b"Usage: EXEC\n"],
     {"status_code": 520, "error": "AGIUsageError"}),
    ([b"200 result=-1\n"], {"error": "AGIAppError"}),
])
async def test_replies_are_read_as_panoramisk_reads_them(replies, expected):
    results = []

    async def route(request):
        results.append(await request.send_command("EXEC Wait 1"))

    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await reader.readline() == b"EXEC Wait 1\n"
    for reply in replies:  # apart, so the second may come while the first is being handled
        writer.write(reply)
        await writer.drain()
        await asyncio.sleep(0.01)
    assert await reader.read() == b""
    assert expected.items() <= results[0].items()
    await server.close()


async def test_asterisk_closing_mid_command_ends_the_handler_with_a_connection_error(caplog):
    async def route(request):
        await request.send_command("EXEC Wait 1")
        raise AssertionError("a reply was made up")

    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await reader.readline()
    writer.close()
    for _ in range(100):
        if "closed the AGI session" in caplog.text:
            break
        await asyncio.sleep(0.01)
    assert "closed the AGI session" in caplog.text and not server._tasks
    await server.close()


@pytest.mark.parametrize("script", [b"route", b"s3cret-Xy_8/route", b"/route", b"s3cret-Xy_9x/route",
                                    b"s3cret-Xy_/route", b"route/s3cret-Xy_9"],
                         ids=["no secret", "wrong secret", "empty secret", "longer", "shorter", "after the route"])
async def test_a_header_block_without_the_secret_gets_no_decision(script):
    """Any local process can reach the FastAGI port; without the secret from the dialplan's
    AGI URL it gets nothing, and no handler runs (issue 13, item 8)."""
    called = []

    async def route(request):
        called.append(request.headers)
        await set_variable(request, "PBX_DIAL", "PJSIP/other-tenant")

    route.decide_now = lambda request: called.append(request.headers) or [("PBX_DIAL", "PJSIP/other-tenant")]
    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS.replace(b"s3cret-Xy_9/route", script))
    assert await asyncio.wait_for(reader.read(), 3) == b""
    assert called == []
    await server.close()


@pytest.mark.parametrize("payload", [b"", b"agi_network: yes\n", b"agi_network_script: nowhere\n\n", b"x" * 20000])
async def test_bad_peers_get_the_connection_closed(payload):
    server, port = await serve({})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 3) == b""
    await server.close()


@pytest.mark.parametrize("timeout, sent", [(0.3, HEADERS), (10, HEADERS + b"200 result=1 " * 10000)],
                         ids=["past the call's deadline", "flooding after its headers"])
async def test_a_stuck_handler_is_cut_off(timeout, sent):
    async def route(request):
        await asyncio.sleep(30)

    server, port = await serve({"route": route}, timeout=timeout)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    try:  # closed with bytes unread, the peer gets a reset
        assert await asyncio.wait_for(reader.read(), 3) == b""
    except ConnectionResetError:
        pass
    await server.close()


@pytest.mark.parametrize("value", ['a"b', "a\nb", "a\\b", "a\x00b"])
async def test_unsafe_values_are_never_sent(value):
    class Request:
        async def send_command(self, command):
            raise AssertionError("sent")

    with pytest.raises(AgiError):
        await set_variable(Request(), "PBX_DIAL", value)


class ReadyHandler:
    """A handler whose decision is ready at once (decide_now), or not (None: __call__ runs)."""

    def __init__(self, pairs):
        self.pairs, self.called = pairs, False

    def decide_now(self, request):
        return self.pairs

    async def __call__(self, request):
        self.called = True
        await set_variable(request, "PBX_ACTION", "slow")


@pytest.mark.parametrize("replies, warned", [([b"200 result=0\n"], False),
                                            ([b"100 result=0 Trying...\n", b"200 result=0\n"], False),
                                            ([b"200 result=-1\n"], True)])
async def test_a_decision_ready_at_once_is_one_mset_and_no_task(replies, warned, caplog):
    handler = ReadyHandler([("PBX_TENANT", "7"), ("PBX_ACTION", "dial")])
    server, port = await serve({"route": handler})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await reader.readline() == b'EXEC MSet "PBX_TENANT=7,PBX_ACTION=dial"\n'
    assert not server._tasks and not handler.called
    for reply in replies:
        writer.write(reply)
        await writer.drain()
        await asyncio.sleep(0.01)
    assert await asyncio.wait_for(reader.read(), 3) == b""
    assert ("MSet failed" in caplog.text) == warned
    await server.close()


@pytest.mark.parametrize("pairs", [None, [("PBX_NOTICE", "a b,c"), ("PBX_ACTION", "dial")]],
                         ids=["not ready", "not plain enough for MSet"])
async def test_otherwise_the_handler_runs_as_a_task(pairs):
    handler = ReadyHandler(pairs)
    server, port = await serve({"route": handler})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await reader.readline() == b'SET VARIABLE PBX_ACTION "slow"\n'
    writer.write(b"200 result=1\n")
    assert await asyncio.wait_for(reader.read(), 3) == b"" and handler.called
    await server.close()


async def test_a_ready_decision_left_unanswered_is_cut_off_at_the_deadline(caplog):
    server, port = await serve({"route": ReadyHandler([("PBX_ACTION", "dial")])}, timeout=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await reader.readline()
    assert await asyncio.wait_for(reader.read(), 3) == b""
    assert "deadline" in caplog.text
    await server.close()


@pytest.mark.parametrize("error, logged", [(ValueError("bad agi_arg_1"), "AGI request failed: bad agi_arg_1"),
                                           (KeyError("bug"), "AGI handler error")])
async def test_a_decision_that_raises_ends_the_session_and_is_logged(error, logged, caplog):
    class Broken(ReadyHandler):
        def decide_now(self, request):
            raise error

    server, port = await serve({"route": Broken(None)})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await asyncio.wait_for(reader.read(), 3) == b"" and logged in caplog.text
    await server.close()
