"""Node membership, as the control plane sees and changes it: Kamailio's dispatcher set, over
its control socket (`PBX_CLUSTER_CONTROL`: unix:/path or tcp:host:port). Adding a node here
makes Kamailio offer it calls once its probes answer; starting the node itself (its Asterisk
and control plane) is the host's job (`pbx cluster up`, or the node's own `pbx up`)."""
from __future__ import annotations

import asyncio
import subprocess

from pbx.cluster.kamailio import SET, control_rpc, parse_states
from pbx.domain.errors import Conflict, NotFound, ProxyUnavailable


class Membership:
    def __init__(self, control: str):
        self.control = control

    async def _rpc(self, *command: str) -> str:
        if not self.control:
            raise NotFound("this exchange is not part of a cluster (PBX_CLUSTER_CONTROL is not set)")
        try:
            return await asyncio.to_thread(control_rpc, self.control, *command)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # an answer, not a 500
            raise ProxyUnavailable(f"Kamailio does not answer at {self.control}: {exc}") from exc

    async def nodes(self) -> list[dict]:
        states = parse_states(await self._rpc("dispatcher.list"))
        return [{"uri": uri, "state": state} for uri, state in sorted(states.items())]

    async def node(self, uri: str) -> dict:
        for found in await self.nodes():
            if found["uri"] == uri:
                return found
        raise NotFound(f"no node {uri} in the cluster")

    async def add(self, uri: str) -> dict:
        if any(n["uri"] == uri for n in await self.nodes()):
            raise Conflict(f"node {uri} is already a member")
        await self._rpc("dispatcher.add", str(SET), uri, "0")
        return await self.node(uri)

    async def set_state(self, uri: str, drained: bool) -> dict:
        await self.node(uri)
        await self._rpc("dispatcher.set_state", "d" if drained else "a", str(SET), uri)
        return await self.node(uri)

    async def remove(self, uri: str) -> None:
        await self.node(uri)
        await self._rpc("dispatcher.remove", str(SET), uri)
