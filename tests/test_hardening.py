"""Issue 13's reproductions against the real stack: readable secrets on disk (item 2) and a
FastAGI server that answered any local process (item 8)."""
from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from tests.test_prompts import encode, upload

pytestmark = [pytest.mark.asterisk]


def readable_by_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)) and stat.S_IMODE(info.st_mode) & 0o077:
            found.append(f"{path} {oct(stat.S_IMODE(info.st_mode))}")
    return found


def test_the_data_directory_and_prompts_are_owner_only(stack):
    tenant, api = stack.new_tenant("kobi")
    assert upload(api, tenant["id"], encode("MP3")).status_code == 201
    data = stack.settings.data_dir
    for secret in (data / "pbx.sqlite3", data / "asterisk" / "etc" / "manager.conf",
                   data / "asterisk" / "etc" / "extensions.conf"):
        assert secret.exists(), secret
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert readable_by_others(data) == []
    assert readable_by_others(stack.settings.audio_dir) == []


def agi_session(stack, script: str) -> bytes:
    """What a local process gets for a header block that asks for another tenant's extension."""
    block = (f"agi_network: yes\nagi_network_script: {script}\nagi_request: agi://x/{script}\n"
             "agi_channel: PJSIP/x-00000001\nagi_extension: 101\nagi_callerid: 101\n"
             "agi_arg_1: t1_101\n\n").encode()
    with socket.create_connection((stack.settings.agi_host, stack.settings.agi_port), timeout=5) as conn:
        conn.sendall(block)
        received = b""
        while chunk := conn.recv(4096):
            received += chunk
            if b"\n" in received:
                conn.sendall(b"200 result=0\n")  # Asterisk's reply to the MSet
        return received


def test_fastagi_gives_nothing_without_the_secret(stack):
    assert agi_session(stack, "route") == b""
    assert agi_session(stack, "wrong/route") == b""
    assert agi_session(stack, f"{stack.settings.agi_secret}x/route") == b""
    # The same block with the secret the dialplan carries is answered (a decision, even if "failure").
    assert b"PBX_ACTION=" in agi_session(stack, f"{stack.settings.agi_secret}/route")
