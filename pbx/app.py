"""Composition root: builds every object of the control plane and owns their lifetimes."""
from __future__ import annotations

import asyncio
import gc
import logging
import signal
from datetime import timedelta

from aiohttp import web

from pbx.agi.handlers import AfterHandler, InboundHandler, IvrHandler, RouteHandler
from pbx.agi.server import FastAgiServer
from pbx.api.app import build_web_app
from pbx.api.server import ApiRunner
from pbx.asterisk import cdrfields
from pbx.asterisk.ami import Ami
from pbx.asterisk.recordings import recording_finished_handler
from pbx.asterisk.health import ExchangeHealth
from pbx.asterisk.trunk_publisher import TABLES as TRUNK_TABLES, TrunkPublisher
from pbx.asterisk.readiness import SipReadiness
from pbx.audio.convert import Limits
from pbx.audio.store import PromptStore
from pbx.backup.job import BackupJob
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
from pbx.jobs.engine import EngineSettings, JobEngine
from pbx.jobs.extension_import import ExtensionImport, TenantImport
from pbx.jobs.plan_change import PlanChange
from pbx.jobs.sealing import Sealer
from pbx.recordings.crypto import load_or_create_key
from pbx.recordings.flow import RecordingsFlow
from pbx.services import destination_checks, routing_snapshot
from pbx.security.bans import BanPolicy, SipBans
from pbx.security.failures import SECURITY_EVENTS
from pbx.security.guard import FraudGuard
from pbx.security.nftables import NftBans
from pbx.services.extensions import ExtensionService
from pbx.services.fallback import FallbackPublisher
from pbx.services.prompts import PromptService
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.services.tenants import TenantService
from pbx.services.voicemail import VoicemailService
from pbx.ops import Operations
from pbx.mail import Mailer
from pbx.ops import notices
from pbx.ops.faults import FaultService
from pbx.ops.ivr_call import IvrCaller
from pbx.ops.metrics import Metrics
from pbx.ops.monitor import TrunkMonitor
from pbx.ops.trunk_calls import TrunkCalls
from pbx.ops.sender import Channels, NoticeSender
from pbx.ops.sms import NetgsmSms
from pbx.ops.watch import DeadlineWatch, TrunkFaults

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
        self.sip = SipReadiness(self.ami, settings.sip_host, settings.sip_port)
        self.ami.on_event("FullyBooted", self.sip.on_fully_booted)
        self.ami.disconnect_callbacks.append(self.sip.on_disconnect)
        self.voicemail = VoicemailService(settings.asterisk_instance_dir, self.database)
        self.extensions = ExtensionService(self.ami, settings.sip_realm, self.voicemail)
        # Calls are routed from this in-memory copy; every commit to a table it reads marks it
        # stale first, naming the rows it wrote (writes to other tables leave it alone).
        self.snapshots = RoutingSnapshots(self.database)
        self.database.subscribe(routing_snapshot.TABLES, self.snapshots.changed)
        # Toll-fraud limits: outbound attempts and international minutes checked per call; the
        # concurrent-call cap is the dialplan's, which reports refusals as an AMI UserEvent.
        self.fraud = FraudGuard(self.database, self.events)
        self.ami.on_event("UserEvent", self.fraud.on_user_event)
        self.ami.on_event("Cdr", self.fraud.on_cdr)
        self.agi = FastAgiServer(
            {"route": RouteHandler(self.snapshots, self.voicemail, self.fraud),
             "inbound": InboundHandler(self.snapshots, self.voicemail),
             "ivr": IvrHandler(self.snapshots, self.voicemail), "after": AfterHandler(self.snapshots, self.voicemail)},
            call_timeout=settings.agi_timeout_s, secret=settings.agi_secret,
        )
        self.prompts = PromptService(
            PromptStore(settings.audio_dir), Limits(settings.prompt_max_bytes, settings.prompt_max_seconds),
            users=[destination_checks.prompt_user],
        )
        self.fallback = FallbackPublisher(self.snapshots, self.ami)
        # It publishes from the snapshot: the snapshot's tables are its tables.
        self.database.subscribe(routing_snapshot.TABLES, self.fallback.changed)
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
        # /health: 503 until AMI is up and Asterisk fully booted; a new Asterisk raises asterisk.restarted.
        self.health = ExchangeHealth(self.ami, self.events, self.sip)
        self.ami.on_event("FullyBooted", self.health.on_fully_booted)
        self.ami.disconnect_callbacks.append(self.health.connection_lost)
        self.tenants = TenantService(self.extensions, self.voicemail, self.recordings.service, self.prompts.store)
        # SIP brute-force bans: Asterisk's security events -> a ban row -> nftables drops the source.
        self.sip_bans = SipBans(
            self.database, NftBans(settings.sip_port, [settings.sip_port], [settings.sip_tls_port] if settings.sip_tls else []),
            BanPolicy(settings.sip_ban_failures, settings.sip_ban_window_s, settings.sip_ban_seconds), self.events)
        for name in SECURITY_EVENTS:
            self.ami.on_event(name, self.sip_bans.on_security_event)
        self.recordings.store.shredded_listeners.append(self.recordings.remover.poke)  # files go in the background
        self.backups = BackupJob(settings)  # daily by default (PBX_BACKUP_INTERVAL_SECONDS)
        self.sealer, self.jobs = self._job_engine(settings)
        # Trunks: published to astdb (Asterisk qualifies them with OPTIONS); each ContactStatus
        # is a trunk's reachability (pbx/ops/monitor.py).
        self.trunk_publisher = TrunkPublisher(self.database, self.ami, qualify_s=settings.trunk_qualify_s)
        self.database.subscribe(TRUNK_TABLES, self.trunk_publisher.changed)
        self.ami.login_callbacks.append(self.trunk_publisher.resync)
        self.trunk_monitor = TrunkMonitor(self.database, self.ami)
        self.database.subscribe(TRUNK_TABLES, self.trunk_monitor.trunks_changed)
        self.ami.on_event("ContactStatus", self.trunk_monitor.on_contact_status)
        self.trunk_publisher.published_listeners.append(self.trunk_monitor.on_login)
        # Per-trunk call figures: which trunk each call used, from the DialEnd events.
        self.trunk_calls = TrunkCalls(self.database, self.trunk_monitor.trunk_for)
        self.ami.on_event("DialEnd", self.trunk_calls.on_dial_end)
        self.operations = self._operations(settings)
        self.web = build_web_app(settings, self.database, self.ami, extensions=self.extensions,
                                 prompts=self.prompts, voicemail=self.voicemail, recordings=self.recordings.service,
                                 tenants=self.tenants, jobs=self.jobs, sealer=self.sealer, sip_bans=self.sip_bans,
                                 exchange_health=self.health,
                                 webhooks=self.webhooks, event_hub=self.event_hub,
                                 operations=self.operations)
        self._runner: web.AppRunner | None = None

    def _operations(self, settings: Settings) -> Operations:
        """Faults: opened by an unreachable trunk (and closed when it answers again), by operators
        and tenants; each opening and resolution queues notices in its own transaction, sent
        after commit by SMS, e-mail and IVR call; deadlines are watched for breaches."""
        faults = FaultService(self.database)
        self.trunk_monitor.listeners.append(TrunkFaults(self.database, faults).on_change)
        self.notice_channels = Channels(
            NetgsmSms(settings.sms_url, settings.sms_user, settings.sms_password, settings.sms_header),
            Mailer.from_settings(settings), IvrCaller(self.database, self.ami, settings.audio_dir))
        self.notice_sender = NoticeSender(self.database, self.notice_channels.as_dict(), retry_s=settings.notice_retry_s)

        async def queue_notices(unit, fault, event):
            if await notices.queue_notices(unit, fault, event):
                unit.after_commit(self._poke_notices)
        faults.listeners.append(queue_notices)
        self.deadlines = DeadlineWatch(self.database, self.events, interval_s=settings.fault_check_s)
        return Operations(self.trunk_monitor, faults, Metrics(self.database, self.ami, self.trunk_monitor))

    async def _poke_notices(self) -> None:
        self.notice_sender.poke()

    def _job_engine(self, settings: Settings) -> tuple[Sealer, JobEngine]:
        """Provisioning jobs: each batch is one unit of work, so the commit listeners above
        (routing snapshot, fallback) see it as one write; a finished job raises job.finished."""
        settings.recording_key_path.parent.mkdir(parents=True, exist_ok=True)
        sealer = Sealer(load_or_create_key(settings.recording_key_path))
        kinds = {
            "extensions.import": ExtensionImport(self.extensions, sealer, settings.job_batch_rows),
            "tenant.import": TenantImport(self.extensions, sealer, settings.job_batch_rows),
            "tenants.plan_change": PlanChange(self.recordings.service),
        }
        limits = EngineSettings(settings.job_workers, timedelta(days=settings.job_retention_days))
        return sealer, JobEngine(self.database, self.events, kinds, limits)

    async def start(self) -> None:
        await self.snapshots.start()
        self.fallback.start()
        self.recordings.start()
        self.calls.start()
        await self.sip_bans.start()  # before AMI: its events may ban at once
        await self.fraud.start()
        self.backups.start()
        self.call_events.start()
        self.dispatcher.start()
        await self.ami.start()
        await self.agi.start(self.settings.agi_host, self.settings.agi_port)
        self.jobs.start()  # after the routing snapshot: a resumed job's batches refresh it
        self.trunk_publisher.start()
        self.trunk_monitor.start()
        self.notice_sender.start()
        self.trunk_calls.start()
        self.deadlines.start()
        self._runner = ApiRunner(self.web)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.api_host, self.settings.api_port).start()
        log.info("control plane: API on http://%s:%s/api/v1, FastAGI on %s:%s", self.settings.api_host,
                 self.settings.api_port, self.settings.agi_host, self.settings.agi_port)

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        await self.agi.close()
        await self.jobs.stop()  # a batch cut short rolls back; the job resumes at the next start
        await self.sip.stop()
        await self.fallback.stop()
        await self.recordings.stop()
        await self.backups.stop()
        await self.snapshots.stop()
        self.ami.close()
        await self.sip_bans.stop()  # our nftables table goes with us
        await self.fraud.stop()
        await self.health.stop()
        await self.calls.stop()  # after AMI: nothing arrives any more; before the engine goes
        await self.call_events.stop()
        await self.dispatcher.stop()
        await self.trunk_publisher.stop()
        await self.trunk_monitor.stop()
        await self.notice_sender.stop()
        await self.trunk_calls.stop()
        await self.deadlines.stop()
        await self.notice_channels.close()
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
    try:
        if await _sip_ready_unless(plane.sip, stop):  # phones told "ready" must be able to register
            print(f"ready: http://{settings.api_host}:{settings.api_port}/api/v1", flush=True)
            await stop.wait()
    finally:
        await plane.stop()


async def _sip_ready_unless(sip: SipReadiness, stop: asyncio.Event) -> bool:
    if sip.ready():
        return True
    print("waiting for Asterisk to finish starting and answer SIP", flush=True)
    waits = [asyncio.ensure_future(sip.wait()), asyncio.ensure_future(stop.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    return not stop.is_set()
