"""Composition root: builds every object of the control plane and owns their lifetimes."""
from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from pbx.agi.handlers import AfterHandler, InboundHandler, IvrHandler, RouteHandler
from pbx.agi.server import FastAgiServer
from pbx.api.app import build_web_app
from pbx.asterisk import cdrfields
from pbx.asterisk.ami import Ami
from pbx.asterisk.recordings import recording_finished_handler
from pbx.audio.convert import Limits
from pbx.audio.store import PromptStore
from pbx.calls.cdrfile import CdrFile
from pbx.calls.recorder import CallRecorder
from pbx.config import Settings
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.unit import Database
from pbx.eventing.calls import CallEvents
from pbx.eventing.dispatcher import WebhookDispatcher
from pbx.eventing.hub import Hub
from pbx.eventing.retry import schedule_from
from pbx.eventing.sender import Sender
from pbx.eventing.ssrf import allowed_networks
from pbx.eventing.webhooks import WebhookService
from pbx.events import EventBus
from pbx.recordings.flow import RecordingsFlow
from pbx.services import destination_checks
from pbx.services.extensions import ExtensionService
from pbx.services.fallback import FallbackPublisher
from pbx.services.prompts import PromptService
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.services.tenants import TenantService
from pbx.services.voicemail import VoicemailService

log = logging.getLogger(__name__)


class ControlPlane:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.effective_database_url)
        self.database = Database(make_sessionmaker(self.engine),
                                 serialize_writes=self.engine.dialect.name == "sqlite")
        self.events = EventBus(self.database)  # tenants' events go to the outbox, then to these sinks:
        self.event_hub = Hub()  # the WebSocket stream
        allow = allowed_networks(settings.outbound_allow_networks)
        self.webhooks = WebhookService(allow)
        self.dispatcher = WebhookDispatcher(self.database, self.events, Sender(allow),
                                            schedule_from(settings.webhook_retry), per_tenant=settings.webhook_in_flight)
        self.events.sinks += [self.event_hub.publish, self.dispatcher.on_event]
        self.ami = Ami(settings)
        self.voicemail = VoicemailService(settings.asterisk_instance_dir, self.database)
        self.extensions = ExtensionService(self.ami, settings.sip_realm, self.voicemail)
        # Calls are routed from this in-memory copy; every commit marks it stale first.
        self.snapshots = RoutingSnapshots(self.database)
        self.database.commit_listeners.append(self.snapshots.changed)
        self.agi = FastAgiServer(
            {"route": RouteHandler(self.snapshots, self.voicemail),
             "inbound": InboundHandler(self.snapshots, self.voicemail),
             "ivr": IvrHandler(self.snapshots, self.voicemail), "after": AfterHandler(self.snapshots, self.voicemail)},
            call_timeout=settings.agi_timeout_s,
        )
        self.prompts = PromptService(
            PromptStore(settings.audio_dir), Limits(settings.prompt_max_bytes, settings.prompt_max_seconds),
            users=[destination_checks.prompt_user],
        )
        self.fallback = FallbackPublisher(self.snapshots, self.ami)
        self.database.commit_listeners.append(self.fallback.changed)
        self.ami.login_callbacks.append(self.fallback.resync)
        self.recordings = RecordingsFlow(settings, self.database, self.ami)
        self.ami.on_event("Cdr", recording_finished_handler(self.recordings.sweeper.poke))
        # After Asterisk (re)starts, what it was recording when it went away is finished.
        self.ami.login_callbacks.append(self.recordings.sweeper.poke)
        # Calls raise call.ringing/answered from AMI's Dial events and call.ended with their record.
        self.call_events = CallEvents(self.database, self.events)
        for name in ("DialBegin", "DialEnd"):
            self.ami.on_event(name, self.call_events.on_dial)
        ended = self.call_events.calls_stored
        self.calls = CallRecorder(self.database, CdrFile(cdrfields.csv_path(settings.asterisk_instance_dir),
                                                         self.database, on_calls=ended), on_calls=ended)
        self.ami.on_event("Cdr", self.calls.on_cdr)
        self.ami.login_callbacks.append(self.calls.reconcile_soon)  # events may have been missed meanwhile
        self.tenants = TenantService(self.extensions, self.voicemail, self.recordings.service, self.prompts.store)
        self.web = build_web_app(settings, self.database, self.ami, self.extensions, self.prompts,
                                 self.voicemail, self.recordings.service, self.tenants,
                                 webhook_service=self.webhooks, event_hub=self.event_hub)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        await self.snapshots.start()
        self.fallback.start()
        self.recordings.start()
        self.calls.start()
        self.call_events.start()
        self.dispatcher.start()
        await self.ami.start()
        await self.agi.start(self.settings.agi_host, self.settings.agi_port)
        self._runner = web.AppRunner(self.web, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.api_host, self.settings.api_port).start()
        log.info("control plane: API on http://%s:%s/api/v1, FastAGI on %s:%s", self.settings.api_host,
                 self.settings.api_port, self.settings.agi_host, self.settings.agi_port)

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        await self.agi.close()
        await self.fallback.stop()
        await self.recordings.stop()
        await self.snapshots.stop()
        self.ami.close()
        await self.calls.stop()  # after AMI: nothing arrives any more; before the engine goes
        await self.call_events.stop()
        await self.dispatcher.stop()
        await self.engine.dispose()


async def serve(settings: Settings) -> None:
    """Runs until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    plane = ControlPlane(settings)
    await plane.start()
    # What is alive now (modules, mappers, the first routing snapshot: ~125,000 objects) lives
    # as long as the process: moved out of the cyclic collector's reach, a full collection no
    # longer stalls every call in flight for ~100 ms (bench/agi_latency.py saw it as p99).
    gc.collect()
    gc.freeze()
    print(f"ready: http://{settings.api_host}:{settings.api_port}/api/v1", flush=True)
    try:
        await stop.wait()
    finally:
        await plane.stop()
