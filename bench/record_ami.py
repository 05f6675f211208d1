"""Records a real AMI event stream, raw, for bench/ingest.py to replay.

Connects (retrying until Asterisk is up), logs in and writes every byte Asterisk
sends until --seconds have passed. Run it beside anything that makes real calls,
e.g. the live tests, whose Asterisk listens on AMI 25038 + PBX_TEST_PORT_OFFSET
with the secret "test-secret":

    PBX_TEST_PORT_OFFSET=300 .venv/bin/pytest -q tests/test_calls_live.py &
    .venv/bin/python bench/record_ami.py --port 25338 --secret test-secret --seconds 60 \
        --out bench/fixtures/ami-calls.txt
"""
from __future__ import annotations

import argparse
import socket
import time


def connect(host: str, port: int, deadline: float) -> socket.socket:
    while True:
        try:
            return socket.create_connection((host, port), timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="pbx")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    sock = connect(args.host, args.port, deadline)
    sock.sendall(f"Action: Login\r\nUsername: {args.user}\r\nSecret: {args.secret}\r\n\r\n".encode())
    with open(args.out, "wb") as out:
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            out.write(data)
    sock.close()


if __name__ == "__main__":
    main()
