"""`pbx cluster up --nodes N`: PostgreSQL, Kamailio and N Asterisk nodes (each with its own
control plane) on one machine, every node in its own network namespace. Ports and the /24
come from a base offset (PBX_TEST_PORT_OFFSET in tests), so several clusters can share a
machine. Whatever is started is stopped, and every namespace and link removed, on every exit
path: `Cluster.close` runs from `finally`, and SIGTERM/SIGINT end the foreground command
through it."""
from __future__ import annotations

import ipaddress
import logging
import secrets
import shutil
import time
from dataclasses import replace
from pathlib import Path

import requests

from pbx.cluster.kamailio import Kamailio, KamailioConfig
from pbx.cluster.netns import Fabric
from pbx.cluster.node import Node, NodeAsterisk
from pbx.cluster.postgres import LocalPostgres
from pbx.config import Settings
from pbx.db.migrate import upgrade

log = logging.getLogger(__name__)


class Cluster:
    def __init__(self, base: Settings, directory: Path, *, offset: int = 0, ping_interval: int = 1):
        self.base = base
        self.dir = directory
        self.offset = offset
        self.fabric = Fabric(f"pbxc{offset // 100}", ipaddress.ip_network(f"10.200.{offset // 100}.0/24"))
        self.host = self.fabric.host_address
        self.postgres = LocalPostgres(directory / "postgres", self.host, 40032 + offset)
        self.secret = secrets.token_urlsafe(18)
        self.kamailio = Kamailio(KamailioConfig(
            self.host, 40060 + offset, directory / "kamailio", self.secret, ping_interval=ping_interval,
            ban_failures=base.sip_ban_failures, ban_window_s=int(base.sip_ban_window_s),
            ban_seconds=int(base.sip_ban_seconds)))
        self.nodes: dict[int, Node] = {}
        self.planned = 0  # nodes named as each other's AMI peers (extension status)

    @property
    def proxy(self) -> str:
        """Where phones register and call: the cluster's one SIP address."""
        return f"{self.host}:{self.kamailio.config.listen_port}"

    @property
    def ping_interval(self) -> int:
        return self.kamailio.config.ping_interval

    def up(self, count: int, timeout: float = 120) -> None:
        try:
            self.dir.chmod(0o711)  # PostgreSQL's own user must pass through to its folder
            self.fabric.open()
            upgrade(self.postgres.start())
            self.kamailio.start()
            self.planned = count
            for index in range(1, count + 1):
                self.add_node(index, wait=False)
            for node in self.nodes.values():
                self.wait_healthy(node, timeout)
            self.wait_dispatcher(timeout)
        except BaseException:
            self.close()
            raise

    def node_settings(self, index: int) -> Settings:
        shared = self.dir / "shared"
        return replace(
            self.base, data_dir=self.dir / f"node{index}", database_url=self.postgres.url,
            audio_dir=shared / "ivr_audio", recordings_dir=str(shared / "recordings"),
            recording_key_file=str(shared / "recording.key"),
            sip_host=self.fabric.node_address(index), sip_port=5060, public_sip_server=self.proxy,
            ami_host=self.fabric.node_address(index), ami_port=5038, ami_secret=self.secret,
            agi_host=self.host, agi_port=40020 + self.offset + index, agi_secret=self.secret,
            # API on the bridge address, not loopback: outgoing connections take loopback ports of this range
            api_host=self.host, api_port=40010 + self.offset + index, rtp_start=20000, rtp_end=20999,
            cluster_proxy=self.proxy, cluster_secret=self.secret, cluster_primary=index == 1,
            cluster_control=f"unix:{self.kamailio.config.ctl_socket}",
            cluster_peers=",".join(f"{self.fabric.node_address(i)}:5038" for i in range(1, self.planned + 1)
                                   if i != index))

    def add_node(self, index: int, *, wait: bool = True, timeout: float = 120) -> Node:
        """A new member: its namespace, Asterisk and control plane; then Kamailio's list."""
        netns = self.fabric.add_node(index)
        settings = self.node_settings(index)
        node = Node(index, settings, NodeAsterisk(settings, netns, self.host), self.dir / f"node{index}.log")
        self.nodes[index] = node
        node.asterisk.launch()
        node.start_control()
        self.write_members()
        if wait:
            self.wait_healthy(node, timeout)
            self.wait_dispatcher(timeout)
        return node

    def write_members(self) -> None:
        self.kamailio.config.write_members(
            {n.uri: "D" if n.state == "drained" else "A" for n in self.nodes.values()})
        self.kamailio.reload_members()

    def drain(self, index: int, timeout: float = 300) -> None:
        """No new calls or registrations from now on; once its calls in progress have ended,
        the node is removed (its Asterisk and control plane stopped, its namespace deleted)."""
        node = self.nodes[index]
        node.state = "drained"
        self.kamailio.set_state(node.uri, "d")
        deadline = time.monotonic() + timeout
        while node.asterisk.channel_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.remove(index)

    def remove(self, index: int) -> None:
        node = self.nodes.pop(index)
        self.write_members()
        node.stop()
        self.fabric.remove_node(index)

    def kill(self, index: int) -> None:
        self.nodes[index].kill()

    def revive(self, index: int, timeout: float = 120) -> None:
        """A killed node started again: its control plane sweeps the spool it left (start-up
        and AMI login), and Kamailio's probes bring it back into the dispatcher set."""
        node = self.nodes[index]
        node.asterisk.launch()
        node.start_control()
        self.wait_healthy(node, timeout)
        self.wait_dispatcher(timeout)

    def states(self) -> dict[int, str]:
        by_uri = self.kamailio.states()
        return {i: by_uri.get(n.uri, "absent") for i, n in self.nodes.items()}

    def wait_dispatcher(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states()
            if all(states[i] == ("drained" if n.state == "drained" else "active") for i, n in self.nodes.items()):
                return
            time.sleep(0.2)
        raise TimeoutError(f"Kamailio does not see every node yet: {self.states()}")

    def wait_healthy(self, node: Node, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.control.poll() is not None:
                raise RuntimeError(f"node {node.index}'s control plane exited: {node.log_path}")
            try:
                if requests.get(node.api_base + "/health", timeout=5).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"node {node.index} did not become healthy")

    def close(self) -> None:
        for node in list(self.nodes.values()):
            try:
                node.stop()
            except Exception:  # the rest must still go
                log.exception("stopping node %s", node.index)
        self.kamailio.stop()
        self.postgres.stop()
        self.fabric.close()


def shared_dir_reset(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
