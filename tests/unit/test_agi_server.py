"""The FastAGI server against a scripted Asterisk-side peer over a real socket."""
import asyncio

import pytest

from pbx.agi.server import AgiError, FastAgiServer, set_variable

HEADERS = b"agi_network: yes\nagi_network_script: route\nagi_extension: 102\nagi_arg_1: 101-abc\n\n"


async def serve(routes, timeout=1.0):
    server = FastAgiServer(routes, call_timeout=timeout)
    await server.start("127.0.0.1", 0)
    port = server._server.sockets[0].getsockname()[1]
    return server, port


async def test_handler_sets_variables():
    seen = {}

    async def route(request):
        seen.update(request.headers)
        await set_variable(request, "PBX_ACTION", "dial")

    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    command = await reader.readline()
    assert command == b'SET VARIABLE PBX_ACTION "dial"\n'
    writer.write(b"200 result=1\n")
    assert await reader.read() == b""  # the server closes when the handler is done
    assert seen["agi_extension"] == "102"
    await server.close()


async def test_headers_written_a_line_at_a_time_as_asterisk_does():
    seen = {}

    async def route(request):
        seen.update(request.headers)
        await set_variable(request, "PBX_ACTION", "dial")

    server, port = await serve({"route": route})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in HEADERS.splitlines(keepends=True):
        writer.write(line)
        await writer.drain()
        await asyncio.sleep(0.005)
    assert await reader.readline() == b'SET VARIABLE PBX_ACTION "dial"\n'
    writer.write(b"200 result=1\n")
    assert await reader.read() == b""
    assert seen["agi_arg_1"] == "101-abc"
    await server.close()


async def test_a_peer_that_floods_after_its_headers_is_cut_off():
    async def route(request):
        await asyncio.sleep(30)

    server, port = await serve({"route": route}, timeout=10)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS + b"200 result=1 " * 10000)
    try:  # closed with bytes unread: the peer gets a reset
        assert await asyncio.wait_for(reader.read(), 3) == b""
    except ConnectionResetError:
        pass
    await server.close()


@pytest.mark.parametrize("payload", [b"", b"agi_network: yes\n", b"agi_network_script: nowhere\n\n", b"x" * 20000])
async def test_bad_peers_get_the_connection_closed(payload):
    server, port = await serve({})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 3) == b""
    await server.close()


async def test_a_slow_handler_is_cut_off():
    async def route(request):
        await asyncio.sleep(30)

    server, port = await serve({"route": route}, timeout=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await asyncio.wait_for(reader.read(), 3) == b""
    await server.close()


@pytest.mark.parametrize("value", ['a"b', "a\nb", "a\\b", "a\x00b"])
async def test_unsafe_values_are_never_sent(value):
    class Request:
        async def send_command(self, command):
            raise AssertionError("sent")

    with pytest.raises(AgiError):
        await set_variable(Request(), "PBX_DIAL", value)
