"""bench/cps.py's calls: a minimal AMI client on the carrier and the PBX, each call
followed from Originate to the PBX's Hangup event, and the offered load."""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field, replace

from bench.common import clock

CALL_TIMEOUT_S = 15.0


# ---- AMI -------------------------------------------------------------------------------------
class Ami:
    """A minimal asyncio AMI client: actions with ActionIDs, events to a callback."""

    def __init__(self, on_event):
        self.on_event = on_event
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self.on_response = None  # called with responses nobody awaits (e.g. async Originate)

    async def connect(self, port: int, user: str, secret: str, filters: tuple[str, ...] = ()) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        await self.reader.readline()  # "Asterisk Call Manager/..."
        self._task = asyncio.create_task(self._read())
        answer = await self.action({"Action": "Login", "Username": user, "Secret": secret, "Events": "on"})
        if answer.get("Response") != "Success":
            raise RuntimeError(f"AMI login on {port}: {answer}")
        for expression in filters:
            answer = await self.action({"Action": "Filter", "Operation": "Add", "Filter": expression})
            if answer.get("Response") != "Success":
                raise RuntimeError(f"AMI filter on {port}: {answer}")

    def send(self, fields: dict) -> None:
        self.writer.write("".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n")

    async def action(self, fields: dict, timeout: float = 10) -> dict:
        action_id = f"a{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self.send({**fields, "ActionID": action_id})
        return await asyncio.wait_for(future, timeout)

    async def _read(self) -> None:
        message: dict[str, str] = {}
        while line := await self.reader.readline():
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if text:
                key, sep, value = text.partition(": ")
                if sep and key not in message:
                    message[key] = value
                continue
            if not message:
                continue
            if "Event" in message:
                self.on_event(message)
            elif (future := self._pending.pop(message.get("ActionID", ""), None)) is not None:
                if not future.done():
                    future.set_result(message)
            elif self.on_response is not None:
                self.on_response(message)
            message = {}

    def close(self) -> None:
        self._task.cancel()
        self.writer.close()


# ---- calls -----------------------------------------------------------------------------------
@dataclass
class Call:
    id: str
    caller: str  # the caller number the PBX sees: matches its Hangup event to this call
    started: float
    answered: float | None = None
    ended: float | None = None
    originate: str = ""  # OriginateResponse: Success / Failure; "Error" if the action was refused
    reason: str = ""
    carrier_hung_up: bool = False
    pbx: tuple[str, str, str] | None = None  # (context, exten, cause) of the PBX's channel at hangup
    timed_out: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def check_done(self) -> None:
        if self.originate in ("Failure", "Error") or (self.originate == "Success" and self.carrier_hung_up):
            if self.ended is None:
                self.ended = clock()
            self.done.set()

    def outcome(self) -> str:
        if self.timed_out and not self.done.is_set():
            return "no end within 15 s"
        if self.originate != "Success":
            return f"not answered (originate {self.originate or '?'}, reason {self.reason or '?'})"
        if self.pbx is None:
            return "answered, no PBX hangup event seen"
        if self.pbx[:2] != ("pbx-apply", "announce"):
            return f"answered, but the PBX ended it in {self.pbx[0]}/{self.pbx[1]}"
        return "completed"


class Calls:
    """Every call of the run, looked up from both instances' AMI events."""

    def __init__(self):
        self.by_id: dict[str, Call] = {}
        self.by_caller: dict[str, Call] = {}
        self._n = itertools.count(1)
        self.pbx_unmatched = 0

    def new(self) -> Call:
        n = next(self._n)
        call = Call(f"bench-{n:07d}", f"90532{n:07d}", clock())
        self.by_id[call.id] = call
        self.by_caller[call.caller] = call
        return call

    def carrier_event(self, event: dict) -> None:
        name = event.get("Event")
        if name == "OriginateResponse":
            call = self.by_id.get(event.get("ActionID", ""))
            if call:
                call.originate = event.get("Response", "?")
                call.reason = event.get("Reason", "")
                if call.originate == "Success":
                    call.answered = clock()
                call.check_done()
        elif name == "Hangup":
            call = self.by_id.get(event.get("Uniqueid", ""))
            if call:
                call.carrier_hung_up = True
                call.check_done()

    def carrier_response(self, response: dict) -> None:
        call = self.by_id.get(response.get("ActionID", ""))
        if call and response.get("Response") != "Success":
            call.originate, call.reason = "Error", response.get("Message", "")
            call.check_done()

    def pbx_event(self, event: dict) -> None:
        if event.get("Event") != "Hangup":
            return
        call = self.by_caller.get(event.get("CallerIDNum", ""))
        if call is None:
            self.pbx_unmatched += 1
            return
        call.pbx = (event.get("Context", ""), event.get("Exten", ""), event.get("Cause", ""))


@dataclass
class VariantResult:
    name: str
    calls: list[Call]
    seconds: float
    cpu: dict
    round: int = 1

    def completed(self) -> list[Call]:
        return [c for c in self.calls if c.outcome() == "completed"]

    @property
    def rate(self) -> float:
        return len(self.completed()) / self.seconds if self.seconds else 0.0


async def offer(carrier_ami: Ami, calls: Calls, did: str, seconds: float, concurrency: int, hold: float) -> tuple[
        list[Call], float]:
    """`concurrency` calls always in flight for `seconds`; then waits for the last ones."""
    made: list[Call] = []
    started = clock()
    deadline = started + seconds

    async def slot() -> None:
        while clock() < deadline:
            call = calls.new()
            made.append(call)
            fields = {"Action": "Originate", "ActionID": call.id, "ChannelId": call.id,
                      "Channel": f"PJSIP/{did}@pbx", "CallerID": f'"Bench" <{call.caller}>',
                      "Timeout": "10000", "Async": "true"}
            fields |= {"Application": "Wait", "Data": f"{hold:g}"} if hold > 0 else {"Application": "Hangup"}
            carrier_ami.send(fields)
            try:
                await asyncio.wait_for(call.done.wait(), CALL_TIMEOUT_S)
            except TimeoutError:
                call.timed_out = True

    await asyncio.gather(*(slot() for _ in range(concurrency)))
    return made, clock() - started


async def watched_calls(stack, carrier, carrier_ami_port: int, pbx_watcher: str) -> tuple[Calls, Ami, Ami]:
    """Calls offered through the carrier's AMI and followed on the PBX's own (its watcher user,
    which shares the carrier's secret): what cps.py and soak.py both drive."""
    calls = Calls()
    carrier_ami = Ami(calls.carrier_event)
    carrier_ami.on_response = calls.carrier_response
    await carrier_ami.connect(carrier_ami_port, "bench", carrier.settings.ami_secret)
    pbx_ami = Ami(calls.pbx_event)
    await pbx_ami.connect(stack.settings.ami_port, pbx_watcher, carrier.settings.ami_secret)
    return calls, carrier_ami, pbx_ami
