"""Records a real AMI event stream, raw, for bench/ingest.py to replay.

Connects (retrying until Asterisk is up), logs in and writes every byte Asterisk
sends until --seconds have passed. Run it beside anything that makes real calls,
e.g. the live tests, whose Asterisk listens on AMI 25038 + PBX_TEST_PORT_OFFSET
with the secret "test-secret":

    PBX_TEST_PORT_OFFSET=300 .venv/bin/pytest -q tests/test_calls_live.py &
    .venv/bin/python bench/record_ami.py --port 25338 --secret test-secret --seconds 60 \
        --out bench/fixtures/ami-calls.txt

With --action (header lines, e.g. --action "Action: Status" --action "Variables:
PBX_RECORDING") it also sends that action once, --action-after seconds in, with the
ActionID that panoramisk.testing.Manager gives its first action, so that the capture
replays as its answer (tests/support/ami_replay.py).
"""
from __future__ import annotations

import argparse
import socket
import time

REPLAYED_ACTION_ID = "action/transaction_uid/1/1"  # panoramisk.testing's first ActionID


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
    parser.add_argument("--action", action="append", default=[], help="a header line of an action to send")
    parser.add_argument("--action-after", type=float, default=1.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    sock = connect(args.host, args.port, deadline)
    sock.sendall(f"Action: Login\r\nUsername: {args.user}\r\nSecret: {args.secret}\r\n\r\n".encode())
    send_at = time.monotonic() + args.action_after if args.action else None
    with open(args.out, "wb") as out:
        while time.monotonic() < deadline:
            if send_at is not None and time.monotonic() >= send_at:
                lines = args.action + [f"ActionID: {REPLAYED_ACTION_ID}"]
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
                send_at = None
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
