"""Makes a SIP peer stop answering OPTIONS, and nothing else: an nftables rule (our own
table) drops the OPTIONS requests Asterisk sends to that address and port, so the peer's
calls still work. Needs root (CAP_NET_ADMIN) and nft."""
from __future__ import annotations

import os
import subprocess

TABLE = f"pbx_test_options_{os.environ.get('PBX_TEST_PORT_OFFSET', '0')}"
OPTIONS_HEX = "0x" + b"OPTIONS".hex()  # the first 7 bytes of a SIP OPTIONS request


class OptionsBlock:
    def __init__(self, address: str, port: int):
        self.address, self.port = address, port

    def __enter__(self) -> "OptionsBlock":
        self.on()
        return self

    def __exit__(self, *exc) -> None:
        self.off()

    def on(self) -> None:
        # @th,64,56: 56 bits from the transport header's 64th bit, i.e. the UDP payload's first 7 bytes.
        _nft(f"table inet {TABLE} {{\n chain out {{\n  type filter hook output priority 0; policy accept;\n"
             f"  ip daddr {self.address} udp dport {self.port} @th,64,56 {OPTIONS_HEX} drop\n }}\n}}\n")

    def off(self) -> None:
        _nft(f"delete table inet {TABLE}\n", check=False)


def _nft(script: str, check: bool = True) -> None:
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=check, capture_output=True)
