"""SIP readiness: only once Asterisk said FullyBooted on this AMI session and a SIP OPTIONS
got an answer; lost again with the AMI session."""
import asyncio

from pbx.asterisk.readiness import SipReadiness, options_probe


class Ami:
    connected = True


class Answering(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if data.startswith(b"OPTIONS "):
            self.transport.sendto(b"SIP/2.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", addr)


async def sip_server():
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Answering, local_addr=("127.0.0.1", 0))
    return transport, transport.get_extra_info("sockname")[1]


async def test_ready_only_after_fully_booted_and_an_answer():
    server, port = await sip_server()
    readiness = SipReadiness(Ami(), "127.0.0.1", port)
    assert not readiness.ready()  # AMI is up, but Asterisk has not said it has booted
    readiness.on_fully_booted(None, {"Event": "FullyBooted"})
    await asyncio.wait_for(readiness.wait(interval=0.01), 10)
    assert readiness.ready()
    readiness.on_disconnect()
    assert not readiness.ready()
    await readiness.stop()
    server.close()


async def test_a_silent_port_is_no_answer():
    server, port = await sip_server()
    server.close()  # nothing listens there now
    assert await options_probe("127.0.0.1", port, timeout=0.2) is False
