"""The `pbx` command as an operator uses it: up (Asterisk + control plane), token create."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.stack import TEST_PORTS, settings_env, stack_settings

pytestmark = [pytest.mark.asterisk]
CLI_PORTS = {name: port + 101 for name, port in TEST_PORTS.items()}


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_token_create_prints_one_line(tmp_path):
    env = settings_env(stack_settings(tmp_path, ports=CLI_PORTS))
    out = subprocess.run([sys.executable, "-m", "pbx", "token", "create", "--operator"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.count("\n") == 1 and out.startswith("pbx_") and len(out.strip()) > 40
    missing = subprocess.run([sys.executable, "-m", "pbx", "token", "create", "--tenant", "999"], env=env,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stdout == ""


def test_up_runs_both_and_ctrl_c_stops_both(tmp_path):
    settings = stack_settings(tmp_path, ports=CLI_PORTS)
    env = settings_env(settings) | {"PBX_AMI_SECRET": ""}  # generated and kept in the data dir
    up = subprocess.Popen([sys.executable, "-m", "pbx", "up"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    try:
        health = f"http://127.0.0.1:{CLI_PORTS['api_port']}/api/v1/health"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(health, timeout=1).json()["asterisk"]:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("pbx up did not become healthy")
        assert processes_mentioning(str(settings.data_dir / "asterisk"))  # bwrap + asterisk
        assert (settings.data_dir / "ami.secret").stat().st_mode & 0o077 == 0
        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert processes_mentioning(str(settings.data_dir / "asterisk")) == []


def test_up_without_asterisk_still_writes_its_configuration(tmp_path):
    """In containers Asterisk runs elsewhere and reads what the control plane wrote."""
    settings = stack_settings(tmp_path, ports=CLI_PORTS)
    up = subprocess.Popen([sys.executable, "-m", "pbx", "up", "--no-asterisk"], env=settings_env(settings),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = f"http://127.0.0.1:{CLI_PORTS['api_port']}/api/v1/health"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                assert requests.get(health, timeout=1).json()["asterisk"] is False
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        etc = settings.data_dir / "asterisk" / "etc"
        assert {"asterisk.conf", "pjsip.conf", "extensions.conf", "manager.conf"} <= {p.name for p in etc.iterdir()}
        up.terminate()
        assert up.wait(15) == 0
    finally:
        if up.poll() is None:
            up.kill()
