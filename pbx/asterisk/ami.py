"""The control plane's AMI connection (panoramisk), reconnecting on its own."""
from __future__ import annotations

import asyncio
import logging
import re

from panoramisk import Manager

from pbx.config import Settings
from pbx.domain.errors import AsteriskUnavailable

log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _checked(identifier: str) -> str:
    # AMI is a line protocol: anything we put in a header must be a plain token.
    if not _SAFE_ID.match(identifier):
        raise ValueError(f"unsafe AMI identifier {identifier!r}")
    return identifier


class Ami:
    def __init__(self, settings: Settings, *, action_timeout: float = 5.0, manager: Manager | None = None):
        """`manager`: another panoramisk Manager, e.g. its testing one replaying a capture."""
        self.action_timeout = action_timeout
        self._ready = asyncio.Event()
        self.login_callbacks: list = []  # called on every (re)login
        self.disconnect_callbacks: list = []  # called whenever the connection is lost
        self.manager = manager or Manager(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret,
            ping_delay=5,
            ping_interval=5,
            reconnect_timeout=1,
            log=log,
        )
        self.manager.on_login, self.manager.on_disconnect = self._on_login, self._on_disconnect

    def _on_login(self, _manager) -> None:
        log.info("AMI logged in")
        self._ready.set()
        for callback in self.login_callbacks:
            callback()

    def _on_disconnect(self, _manager, _exc) -> None:
        log.warning("AMI connection lost; reconnecting")
        self._ready.clear()
        for callback in self.disconnect_callbacks:
            callback()

    def on_event(self, name: str, callback) -> None:
        """callback(manager, message) for every AMI event of that name."""
        self.manager.register_event(name, callback)

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        self.manager.loop = asyncio.get_running_loop()
        self.manager.connect()

    async def wait_connected(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see pbx/tasks.py Clock.wait
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self._ready.clear()
        self.manager.on_disconnect = lambda *_: None
        self.manager.close()
        # panoramisk schedules a reconnect from connection_lost; stop it reconnecting.
        self.manager.connect = lambda *a, **k: None

    async def action(self, action: dict, timeout_s: float | None = None) -> list:
        """timeout_s: for an answer known to be long (a whole astdb family); else action_timeout."""
        if not self.connected:
            raise AsteriskUnavailable("Asterisk's manager interface is not connected")
        # asyncio.timeout, not wait_for: Python 3.11's wait_for drops a cancel that lands as the
        # reply arrives, and a loop of 200,000 astdb actions then ran on after shutdown.
        try:
            async with asyncio.timeout(timeout_s or self.action_timeout):
                reply = await self.manager.send_action(action)
        except (TimeoutError, ConnectionError, AttributeError) as exc:
            raise AsteriskUnavailable(f"Asterisk did not answer {action['Action']}") from exc
        return reply if isinstance(reply, list) else [reply]

    async def contacts(self, endpoint: str) -> list[dict]:
        """Registered contacts of an endpoint, as Asterisk sees them now."""
        return [
            {"uri": m.get("URI"), "status": m.get("Status"), "user_agent": m.get("UserAgent") or None,
             "expires_at": _int(m.get("RegExpire")), "via": m.get("ViaAddress") or None}
            for m in await self._contact_details(endpoint)
        ]

    async def _contact_details(self, endpoint: str) -> list:
        messages = await self.action({"Action": "PJSIPShowEndpoint", "Endpoint": _checked(endpoint)})
        return [m for m in messages if m.get("Event") == "ContactStatusDetail" and m.get("URI")]

    async def contact_ids(self, endpoint: str) -> list[str]:
        """Asterisk's ids of the endpoint's registrations; they can only be looked up
        while the endpoint still exists."""
        try:
            return [m["Id"] for m in await self._contact_details(endpoint) if m.get("Id")]
        except AsteriskUnavailable:
            return []  # nothing to drop that Asterisk could still use: its endpoint is going away

    async def drop_endpoint(self, endpoint: str, contact_ids: list[str]) -> None:
        """After an extension is deleted: end its calls and forget its registrations
        (contacts live in astdb as registrar/contact/<contact id>)."""
        endpoint = _checked(endpoint)
        await self.action({"Action": "Hangup", "Channel": f"/^PJSIP/{re.escape(endpoint)}-/"})
        for contact_id in contact_ids:
            if contact_id.startswith(f"{endpoint};@") and "\n" not in contact_id:
                await self.action({"Action": "DBDel", "Family": "registrar", "Key": f"contact/{contact_id}"})


    async def originate(self, endpoint: str, context: str, exten: str, *, channel_id: str, caller_id: str,
                        variables: dict[str, str], ring_s: int) -> None:
        """Rings the endpoint; once it answers, its channel enters `context`/`exten` (a
        click-to-call). Every value is a checked token: none can carry a header or a
        dialplan separator. Async: Asterisk answers at once; the call's progress comes as
        its Dial events and its CDR. channel_id becomes the channel's uniqueid (and linkedid)."""
        for value in (exten, caller_id, *variables.values()):
            _checked(value)
        action = {"Action": "Originate", "Channel": f"PJSIP/{_checked(endpoint)}", "Context": _checked(context),
                  "Exten": exten, "Priority": "1", "CallerID": f"{caller_id} <{caller_id}>",
                  "Timeout": str(ring_s * 1000), "Async": "true", "ChannelId": _checked(channel_id),
                  "Variable": [f"{_checked(name)}={value}" for name, value in variables.items()]}
        if not self.connected:
            raise AsteriskUnavailable("Asterisk's manager interface is not connected")
        try:  # as_list=False: the OriginateResponse event that would follow is filtered out (manager.conf)
            async with asyncio.timeout(self.action_timeout):
                reply = await self.manager.send_action(action, as_list=False)
        except (TimeoutError, ConnectionError, AttributeError) as exc:
            raise AsteriskUnavailable("Asterisk did not answer Originate") from exc
        if str(reply.get("Response", "")).lower() != "success":
            raise AsteriskUnavailable(f"Asterisk refused to originate: {reply.get('Message', '')}")

    async def replace_family(self, family: str, entries: dict[str, str], known: dict[str, str] | None = None) -> None:
        """Makes an astdb family hold exactly these entries: new values first, then
        stale keys removed, so a reader never finds the family empty. `known` is what the
        family held after the last call; without it (after a (re)connect, Asterisk's copy is
        unknown) the family is read first. Either way only the difference is sent: after a
        control-plane restart Asterisk usually still has it all (100,000 extensions are
        200,000 entries)."""
        if known is None:
            known = await self._family(family)
        for key, value in entries.items():
            if known.get(key) != value:
                await self.action({"Action": "DBPut", "Family": family, "Key": key, "Val": value})
        for key in known:
            if key not in entries:
                await self.action({"Action": "DBDel", "Family": family, "Key": key})

    async def update_family(self, family: str, put: dict[str, str], delete: set[str]) -> None:
        """Puts and deletes these keys only: new values first, as replace_family does."""
        for key, value in put.items():
            await self.action({"Action": "DBPut", "Family": family, "Key": key, "Val": value})
        for key in delete:
            await self.action({"Action": "DBDel", "Family": family, "Key": key})

    async def originate_playback(self, endpoint: str, number: str, sound: str, caller_id: str,
                                 ring_s: float = 45.0) -> str:
        """Calls `number` through a trunk's endpoint and plays `sound` once answered. Waits for
        Asterisk's OriginateResponse; returns its Reason when the call was not answered."""
        if not re.fullmatch(r"\+?[0-9]{3,16}", number) or not re.fullmatch(r"[A-Za-z0-9_./-]{1,200}", sound):
            raise ValueError("unsafe originate argument")
        action = {"Action": "Originate", "Channel": f"PJSIP/{number}@{_checked(endpoint)}",
                  "Application": "Playback", "Data": sound, "Async": "true", "Timeout": str(int(ring_s * 1000)),
                  "CallerID": caller_id if re.fullmatch(r"\+?[0-9]{3,16}", caller_id) else "santral"}
        if not self.connected:
            raise AsteriskUnavailable("Asterisk's manager interface is not connected")
        try:
            async with asyncio.timeout(ring_s + 15):
                reply = await self.manager.send_action(action)
        except (TimeoutError, ConnectionError, AttributeError) as exc:
            raise AsteriskUnavailable("Asterisk did not answer the Originate") from exc
        for message in reply if isinstance(reply, list) else [reply]:
            if message.get("Event") == "OriginateResponse":
                return "" if message.get("Response") == "Success" else f"not answered (reason {message.get('Reason')})"
        return "originate refused"

    async def family(self, family: str, timeout_s: float | None = None) -> dict[str, str]:
        """What astdb holds under a family now: key (without the family) -> value."""
        return await self._family(family, timeout_s)

    async def contact_statuses(self, endpoint: str) -> list[dict]:
        """Qualify state of an endpoint's contacts: status (Reachable, Unreachable, ...) and RTT."""
        return [{"status": m.get("Status"), "rtt_usec": m.get("RoundtripUsec")}
                for m in await self._contact_details(endpoint)]

    async def _family(self, family: str, timeout_s: float | None = None) -> dict[str, str]:
        prefix = f"/{family}/"
        answer = await self.action({"Action": "DBGetTree", "Family": family}, timeout_s)
        return {str(m["Key"])[len(prefix):]: str(m.get("Val", "")) for m in answer
                if m.get("Event") == "DBGetTreeResponse" and str(m.get("Key", "")).startswith(prefix)}


def channel_variables(message, prefix: str = "") -> dict[str, str]:
    """The channel variables manager.conf's `channelvars` puts on an event (PBX_TENANT, ...):
    `ChanVariable` for the event's channel, `DestChanVariable` for its peer."""
    raw = message.get(prefix + "ChanVariable") or []
    items = raw if isinstance(raw, list) else [raw]
    return dict(item.split("=", 1) for item in items if "=" in item)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
