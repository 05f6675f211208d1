"""A three-node cluster for the tests: Kamailio, PostgreSQL and three Asterisk nodes in their
own network namespaces (pbx/cluster/), each with its control plane; phones on the bridge's
host address register and call through Kamailio."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import soundfile as sf

from pbx.cluster.up import Cluster
from pbx.config import settings_from_env
from tests.support.audio import dominant_frequency
from tests.support.stack import Api, operator_token

OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))


def why_no_cluster() -> str:
    """Why a cluster cannot run here, or "" when it can."""
    if shutil.which("kamailio") is None:
        return "Kamailio is not installed (Debian package 'kamailio', scripts/setup --test)"
    if os.geteuid() != 0:
        return "network namespaces need root"
    return ""


def start_cluster(nodes: int = 3) -> tuple[Cluster, Api]:
    directory = Path(tempfile.mkdtemp(prefix="pbx-cluster-"))
    base = settings_from_env(env={}, outbound_allow_networks="127.0.0.0/8")
    cluster = Cluster(base, directory, offset=OFFSET, ping_interval=1)
    cluster.up(nodes)
    first = cluster.nodes[1]
    return cluster, Api(first.api_base, operator_token(first.settings))


def registered_on(cluster: Cluster) -> dict[str, int]:
    """SIP id -> the node index its registration is on, as Kamailio recorded it."""
    out = cluster.kamailio.rpc("htable.dump", "loc")
    by_address = {n.settings.sip_host: i for i, n in cluster.nodes.items()}
    found, name = {}, None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("value:") and name:
            host = line.split(":", 1)[1].strip().removeprefix("sip:").rsplit(":", 1)[0]
            found[name] = by_address.get(host, 0)
    return found


def talk(caller, callee, target: str, tmp: Path, seconds: float = 2.0) -> tuple[float, float]:
    """caller dials target, callee answers, each plays its own tone and records the other;
    returns (the tone the callee heard, the tone the caller heard)."""
    call = caller.call(target)
    incoming = callee.wait_incoming(timeout=20)
    incoming.answer()
    call.wait_confirmed(timeout=20)
    call.play_tone(800)
    incoming.play_tone(1200)
    call.start_recording(str(tmp / "caller.wav"))
    incoming.start_recording(str(tmp / "callee.wav"))
    time.sleep(seconds)
    call.hangup()
    incoming.wait_disconnected(timeout=20)
    call.wait_disconnected(timeout=20)
    heard = [dominant_frequency(str(tmp / f"{who}.wav"), skip_seconds=0.5) for who in ("callee", "caller")]
    assert sf.info(str(tmp / "callee.wav")).duration > seconds / 2
    return heard[0], heard[1]
