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
from pbx.billing import catalogue
from pbx.billing.plan_change import PlanChanges
from pbx.billing.service import BillingService
from pbx.billing.terms_job import TermsJob
from pbx.billing.usage import UsageSampler
from pbx.calls.cdrfile import CdrFile
from pbx.calls.recorder import CallRecorder
from pbx.cluster.carriers import CarrierTable
from pbx.cluster.contacts import ClusterContacts
from pbx.cluster.membership import Membership
from pbx.cluster.relay import WrittenRelay
from pbx.config import Settings
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.unit import Database
from pbx.crm.call_logs import CrmCallLogger
from pbx.crm.connections import CrmConnections
from pbx.crm.lookup import CrmLookups, LookupSettings
from pbx.crm.providers import registry
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
from pbx.numbers.porting import Porting
from pbx.mail import Mailer
from pbx.recordings.crypto import load_or_create_key
from pbx.recordings.flow import RecordingsFlow
from pbx.services import destination_checks, routing_snapshot
from pbx.security.bans import BanPolicy, SipBans
from pbx.security.failures import SECURITY_EVENTS
from pbx.security.guard import FraudGuard
from pbx.security.nftables import NftBans
from pbx.services.click_to_call import ClickToCall
from pbx.services.extensions import ExtensionService
from pbx.services.fallback import FallbackPublisher
from pbx.services.prompts import PromptService
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.services.tenants import TenantService
from pbx.services.voicemail import VoicemailService
from pbx.voicemail import sender as voicemail_sender
from pbx.voicemail.settle import VoicemailSettler
from pbx.users.passwords import Passwords
from pbx.users.service import UserService
from pbx.users.sessions import SessionPolicy, Sessions
from pbx.ops import Operations
from pbx.ops import notices
from pbx.ops.channels import Channels
from pbx.ops.failure_rate import FailureRate, Thresholds
from pbx.ops.failure_watch import FailureRateFaults
from pbx.ops.faults import FaultService
from pbx.ops.ivr_call import IvrCaller
from pbx.ops.metrics import Metrics
from pbx.ops.monitor import TrunkMonitor
from pbx.ops.trunk_calls import TrunkCalls
from pbx.ops.sender import NoticeSender
from pbx.ops.sms import NetgsmSms
from pbx.ops.watch import DeadlineWatch, TrunkFaults
from pbx.eventing.registrations import RegistrationEvents
from pbx.tasks import WakeableLoop
from pbx.worker import ControlPlaneLink, WorkerProcess, run_worker

log = logging.getLogger(__name__)


class ControlPlane:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine, self.database = _database(settings)
        self._events(settings)
        self.ami = Ami(settings)
        self.sip = SipReadiness(self.ami, settings.sip_host, settings.sip_port)
        self.ami.on_event("FullyBooted", self.sip.on_fully_booted)
        self.ami.disconnect_callbacks.append(self.sip.on_disconnect)
        self.voicemail = VoicemailService(settings.asterisk_instance_dir, self.database)
        self.extensions = ExtensionService(self.ami, settings.sip_realm, self.voicemail,
                                           behind_proxy=bool(settings.cluster_proxy),
                                           contacts_of=ClusterContacts(settings, self.ami).contacts
                                           if settings.cluster_peers else None)
        self._routing(settings)
        self.sealer, self.jobs = self._job_engine(settings)
        self._calls(settings)
        # /health: 503 until AMI is up and Asterisk fully booted; a new Asterisk raises asterisk.restarted.
        self.health = ExchangeHealth(self.ami, self.events, self.sip)
        self.ami.on_event("FullyBooted", self.health.on_fully_booted)
        self.ami.disconnect_callbacks.append(self.health.connection_lost)
        self.tenants = TenantService(self.extensions, self.voicemail, self.recordings.service, self.prompts.store)
        self._sip_bans(settings)
        self.recordings.store.shredded_listeners.append(self.recordings.remover.poke)  # files go in the background
        self.backups = BackupJob(settings)  # daily by default (PBX_BACKUP_INTERVAL_SECONDS)
        self._voicemail_and_click_to_call(settings)
        self._commercial(settings)
        self._people(settings)
        self._trunks(settings)
        self.operations = self._operations(settings)
        self._registrations(settings)
        self.web = build_web_app(settings, self.database, self.ami, extensions=self.extensions,
                                 prompts=self.prompts, voicemail=self.voicemail, recordings=self.recordings.service,
                                 tenants=self.tenants, jobs=self.jobs, sealer=self.sealer, sip_bans=self.sip_bans,
                                 exchange_health=self.health,
                                 webhooks=self.webhooks, event_hub=self.event_hub, billing=self.billing,
                                 plan_changes=self.plan_changes, terms=self.terms,
                                 porting=self.porting, click_to_call=self.click_to_call,
                                 crm_connections=self.crm, crm_lookups=self.crm_lookups,
                                 users=self.users, sessions=self.sessions,
                                 cluster=Membership(settings.cluster_control),
                                 operations=self.operations)
        # A cluster: every node's commits are announced to the others, whose listeners of those
        # tables (snapshot, fallback, trunks, CRM cache) hear them as their own (last: all are subscribed).
        self.cluster_relay = None
        if settings.cluster_proxy:
            self.cluster_relay = WrittenRelay(settings.effective_database_url, self.database)
            self.database.subscribe(self.database.subscribed_tables(), self.cluster_relay.committed)
        self._runner: web.AppRunner | None = None

    def _routing(self, settings: Settings) -> None:
        """Calls routed from the snapshot by FastAGI, the fallback Asterisk keeps, the recordings."""
        # Calls are routed from this in-memory copy; every commit to a table it reads marks it
        # stale first, naming the rows it wrote (writes to other tables leave it alone).
        self.snapshots = RoutingSnapshots(self.database)
        self.database.subscribe(routing_snapshot.TABLES, self.snapshots.changed)
        # Toll-fraud limits: outbound attempts and international minutes checked per call; the
        # concurrent-call cap is the dialplan's, which reports refusals as an AMI UserEvent.
        self.fraud = FraudGuard(self.database, self.events)
        self.ami.on_event("UserEvent", self.fraud.on_user_event)
        self.ami.on_event("Cdr", self.fraud.on_cdr)
        proxy = settings.cluster_proxy  # a cluster node dials extensions through Kamailio (pbx/cluster/dial.py)
        self.agi = FastAgiServer(
            {"route": RouteHandler(self.snapshots, self.voicemail, self.fraud, proxy),
             "inbound": InboundHandler(self.snapshots, self.voicemail, cluster_proxy=proxy),
             "ivr": IvrHandler(self.snapshots, self.voicemail, cluster_proxy=proxy),
             "after": AfterHandler(self.snapshots, self.voicemail, cluster_proxy=proxy)},
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

    def _sip_bans(self, settings: Settings) -> None:
        """Asterisk's security events -> a ban row -> nftables drops the source (SIP brute force)."""
        self.sip_bans = SipBans(
            self.database, NftBans(settings.sip_port, [settings.sip_port], [settings.sip_tls_port] if settings.sip_tls else []),
            BanPolicy(settings.sip_ban_failures, settings.sip_ban_window_s, settings.sip_ban_seconds), self.events)
        # Behind a cluster's Kamailio every request comes from Kamailio's address: banning it would
        # ban every phone, so a cluster node counts no failures (bans belong in the proxy there).
        for name in SECURITY_EVENTS if not settings.cluster_proxy else ():
            self.ami.on_event(name, self.sip_bans.on_security_event)

    def _events(self, settings: Settings) -> None:
        """The outbox's sinks: the live stream here, the webhooks in the outbound worker (whose
        own events, webhook.disabled, come back for the stream); outbound addresses checked."""
        self.events = EventBus(self.database)  # tenants' events go to the outbox, then to these sinks:
        self.event_hub = Hub()  # the WebSocket stream
        self.outbound_allowed = allowed_networks(settings.outbound_allow_networks)
        self.webhooks = WebhookService(self.outbound_allowed)
        # Webhooks, SMS and e-mail notices, voicemail e-mails: sent by a child process at a lower
        # CPU priority (pbx/worker.py, composed by Outbound below), poked when their rows commit.
        self.worker = WorkerProcess(settings, on_event=self.event_hub.publish)
        self.events.sinks += [self.event_hub.publish, lambda _event: self.worker.poke("webhooks")]

    def _calls(self, settings: Settings) -> None:
        """A call's record and its events: CRM contact while it rings, call.* events, CRM logs."""
        # CRM: a tenant's connection (sealed credentials), looked up while an inbound call rings;
        # a changed connection is read again; finished calls are owed to it in their record's transaction.
        crm_providers = registry()
        self.crm = CrmConnections(crm_providers, self.sealer, self.outbound_allowed)
        self.crm_lookups = CrmLookups(self.database, self.sealer, crm_providers, self.outbound_allowed, LookupSettings(
            timeout_s=settings.crm_timeout, cache_ttl_s=settings.crm_cache_seconds))
        self.database.subscribe(CrmLookups.TABLES, self.crm_lookups.changed)
        self.crm_calls = CrmCallLogger(self.database, self.crm_lookups, schedule_from(settings.webhook_retry))
        # Calls raise call.ringing/answered from AMI's Dial events and call.ended with their record.
        self.call_events = CallEvents(self.database, self.events, contacts=self.crm_lookups.contact_for)
        for name in ("DialBegin", "DialEnd"):
            self.ami.on_event(name, self.call_events.on_dial)

        async def ended(unit, linkedids: set[str]) -> None:
            await self.call_events.calls_stored(unit, linkedids)
            await self.crm_calls.calls_stored(unit, linkedids)
        self.calls = CallRecorder(self.database, CdrFile(cdrfields.csv_path(settings.asterisk_instance_dir),
                                                         self.database, on_calls=ended), on_calls=ended)
        self.ami.on_event("Cdr", self.calls.on_cdr)
        self.ami.login_callbacks.append(self.calls.reconcile_soon)  # events may have been missed meanwhile

    def _voicemail_and_click_to_call(self, settings: Settings) -> None:
        """Click-to-call, and new voicemail raised and mailed."""
        # Click-to-call: decided on the routing snapshot first, then Originate over AMI.
        self.click_to_call = ClickToCall(self.ami, self.snapshots, self.fraud)
        # Voicemail: a message whose recording has settled (looked for after every call record)
        # raises voicemail.created and, KOBİ and up, owes an e-mail, sent (and retried) from its row.
        self.mailer = Mailer.from_settings(settings)
        self.voicemail_settler = VoicemailSettler(self.database, self.events, self.voicemail,
                                                  on_mail_owed=lambda: self.worker.poke("voicemail"))
        self.ami.on_event("Cdr", self.voicemail_settler.on_call_record)

    def _commercial(self, settings: Settings) -> None:
        """Billing, terms and porting."""
        # Billing: the catalogue is data (pbx/billing/prices.toml); the month's maxima (circuits from
        # Asterisk's live count, extra extensions bought) are sampled on an interval and after every
        # write to a tenant; a circuit-priced tenant's circuits also soon after each of its calls starts.
        self.billing = BillingService(catalogue.load())
        self.tenant_import.accounts = self.billing  # an imported tenant gets its account as POST /tenants does
        self.usage = UsageSampler(self.database, self.ami, interval_s=settings.billing_sample_s)
        self.ami.on_event("DialBegin", self.usage.on_dial)
        self.database.subscribe(("tenants", "billing_accounts"), self.usage.poke)
        # Terms: trial reminders (pbx/mail.py) and suspension, renewal reminders, renewals; plan changes
        # under the commitment go through TenantService (recordings re-dated) and add a pro-rata charge.
        self.plan_changes = PlanChanges(self.billing, self.tenants, self.events)
        self.terms = TermsJob(self.database, self.events, self.mailer, self.billing.catalogue,
                              self.tenants, interval_s=settings.billing_terms_s)
        # Porting: each status move raises porting.<status>; completion routes the number in its transaction.
        self.porting = Porting(self.events)

    def _people(self, settings: Settings) -> None:
        """Panel users and their sessions."""
        # Panel users: argon2id passwords; sessions in the database, ended by sign-out, expiry,
        # a password reset or the user's deletion (the API accepts the cookie as it does a token).
        passwords = Passwords()
        self.users = UserService(passwords)
        self.sessions = Sessions(self.database, passwords, SessionPolicy(
            timedelta(hours=settings.session_hours), timedelta(minutes=settings.session_idle_minutes)))

    def _trunks(self, settings: Settings) -> None:
        """Trunks qualified by Asterisk, their reachability and their call figures."""
        # Trunks: published to astdb (Asterisk qualifies them with OPTIONS); each ContactStatus
        # is a trunk's reachability (pbx/ops/monitor.py).
        self.trunk_publisher = TrunkPublisher(self.database, self.ami, qualify_s=settings.trunk_qualify_s,
                                              cluster_proxy=settings.cluster_proxy)
        self.database.subscribe(TRUNK_TABLES, self.trunk_publisher.changed)
        # A cluster's Kamailio recognises carriers by their real address (pbx/cluster/carriers.py):
        # the primary keeps its table equal to the trunks.
        self.carrier_table = None
        if settings.cluster_control and settings.cluster_primary:
            self.carrier_table = CarrierTable(self.database, settings.cluster_control)
            self.database.subscribe(TRUNK_TABLES, self.carrier_table.changed)
        self.ami.login_callbacks.append(self.trunk_publisher.resync)
        self.trunk_monitor = TrunkMonitor(self.database, self.ami)
        self.database.subscribe(TRUNK_TABLES, self.trunk_monitor.trunks_changed)
        # It remembers each trunk's stored reachability (a qualify that changes nothing writes nothing).
        self.database.subscribe(TrunkMonitor.STATUS_TABLES, self.trunk_monitor.status_written)
        self.ami.on_event("ContactStatus", self.trunk_monitor.on_contact_status)
        self.trunk_publisher.published_listeners.append(self.trunk_monitor.on_login)
        # Per-trunk call figures: which trunk each call used, from the DialEnd events.
        self.trunk_calls = TrunkCalls(self.database, self.trunk_monitor.trunk_for)
        self.ami.on_event("DialEnd", self.trunk_calls.on_dial_end)

    def _registrations(self, settings: Settings) -> None:
        """extension.registered / unregistered from the registrar's reports (AMI TestEvent), each
        checked against Asterisk's contacts; after every AMI login, and every
        PBX_REGISTRATION_RESYNC_SECONDS, astdb's are compared with the table (reports may have
        been missed); a deleted extension's registration ends in its transaction, a reset
        password's once its contact is dropped."""
        self.registrations = RegistrationEvents(self.database, self.events, self.ami,
                                                node=f"{settings.ami_host}:{settings.ami_port}")
        self.ami.on_event("TestEvent", self.registrations.on_test_event)
        self.ami.login_callbacks.append(self.registrations.on_login)
        self.extensions.removal_listeners.append(self.registrations.extension_removed)
        self.extensions.dropped_listeners.append(self.registrations.contact_dropped)  # a password reset
        # The safety net for a lost report: the same comparison every PBX_REGISTRATION_RESYNC_SECONDS.
        # Every node runs its own, primary or not: each node's Asterisk is its own registrar, and
        # a node compares only its astdb with its own rows (a row names its node).
        self.registration_sweep = WakeableLoop("registration-sweep", self.registrations.sweep,
                                               interval_s=settings.registration_resync_s)

    def _operations(self, settings: Settings) -> Operations:
        """Faults: opened by an unreachable trunk (and closed when it answers again), by operators
        and tenants; each opening and resolution queues notices in its own transaction, sent
        after commit by SMS, e-mail and IVR call; deadlines are watched for breaches."""
        faults = FaultService(self.database)
        self.trunk_monitor.listeners.append(TrunkFaults(self.database, faults).on_change)
        # SMS and e-mail go from the outbound worker; IVR calls are originated here, over this AMI.
        self.notice_channels = Channels(None, None, IvrCaller(self.database, self.ami, settings.audio_dir))
        self.notice_sender = NoticeSender(self.database, self.notice_channels.as_dict(("ivr",)),
                                          retry_s=settings.notice_retry_s)

        async def queue_notices(unit, fault, event):
            if await notices.queue_notices(unit, fault, event):
                unit.after_commit(self._poke_notices)
        faults.listeners.append(queue_notices)
        self.deadlines = DeadlineWatch(self.database, self.events, interval_s=settings.fault_check_s)
        # A trunk's call-setup failure rate jumping (its DialEnd outcomes) opens a Yüksek fault.
        self.failure_faults = FailureRateFaults(self.database, faults, FailureRate(Thresholds(
            settings.trunk_failure_window_s, settings.trunk_failure_min_calls, settings.trunk_failure_ratio,
            settings.trunk_failure_over_baseline, settings.trunk_failure_recovery_s)), check_s=settings.fault_check_s)
        self.trunk_calls.outcome_listeners.append(self.failure_faults.on_outcome)
        return Operations(self.trunk_monitor, faults, Metrics(self.database, self.ami, self.trunk_monitor))

    async def _poke_notices(self) -> None:
        self.notice_sender.poke()
        self.worker.poke("notices")

    def _job_engine(self, settings: Settings) -> tuple[Sealer, JobEngine]:
        """Provisioning jobs: each batch is one unit of work, so the commit listeners above
        (routing snapshot, fallback) see it as one write; a finished job raises job.finished."""
        settings.recording_key_path.parent.mkdir(parents=True, exist_ok=True)
        sealer = Sealer(load_or_create_key(settings.recording_key_path))
        self.tenant_import = TenantImport(self.extensions, sealer, settings.job_batch_rows)
        kinds = {
            "extensions.import": ExtensionImport(self.extensions, sealer, settings.job_batch_rows),
            "tenant.import": self.tenant_import,
            "tenants.plan_change": PlanChange(self.recordings.service),
        }
        limits = EngineSettings(settings.job_workers, timedelta(days=settings.job_retention_days))
        return sealer, JobEngine(self.database, self.events, kinds, limits)

    async def start(self) -> None:
        if self.cluster_relay:  # listening before the first snapshot: no write falls in between
            await self.cluster_relay.start()
        await self.snapshots.start()
        self.fallback.start()
        self.recordings.start()
        self.calls.start()
        await self.sip_bans.start()  # before AMI: its events may ban at once
        await self.fraud.start()
        if self.settings.cluster_primary:  # one per cluster: each would otherwise run twice
            self.backups.start()
            self.notice_sender.start()
        self.worker.start()
        self.call_events.start()
        self.usage.start()
        self.terms.start()
        self.voicemail_settler.start()
        self.crm_lookups.start()
        self.crm_calls.start()
        await self.ami.start()
        await self.agi.start(self.settings.agi_host, self.settings.agi_port)
        if self.settings.cluster_primary:
            self.jobs.start()  # after the routing snapshot: a resumed job's batches refresh it
        self.trunk_publisher.start()
        if self.carrier_table:
            self.carrier_table.start()
        self.trunk_monitor.start()
        self.trunk_calls.start()
        self.deadlines.start()
        self.registrations.start()
        if self.settings.registration_resync_s > 0:
            self.registration_sweep.start()
        self.failure_faults.start()
        self._runner = ApiRunner(self.web)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.api_host, self.settings.api_port).start()
        log.info("control plane: API on http://%s:%s/api/v1, FastAGI on %s:%s", self.settings.api_host,
                 self.settings.api_port, self.settings.agi_host, self.settings.agi_port)

    async def stop(self) -> None:
        self.event_hub.close_all()  # open streams would hold the API's shutdown until their clients go
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
        await self.worker.stop()
        await self.usage.stop()
        await self.terms.stop()
        await self.voicemail_settler.stop()
        await self.crm_calls.stop()
        await self.crm_lookups.stop()
        if self.cluster_relay:
            await self.cluster_relay.stop()
        await self.trunk_publisher.stop()
        if self.carrier_table:
            await self.carrier_table.stop()
        await self.trunk_monitor.stop()
        await self.notice_sender.stop()
        await self.trunk_calls.stop()
        await self.deadlines.stop()
        await self.registration_sweep.stop()  # first: it only queues work for the one below
        await self.registrations.stop()
        await self.failure_faults.stop()
        await self.notice_channels.close()
        await self.engine.dispose()


def _database(settings: Settings) -> tuple:
    """The engine and unit of work of one process (SQLite: its writers queued in-process)."""
    engine = make_engine(settings.effective_database_url)
    return engine, Database(make_sessionmaker(engine), serialize_writes=engine.dialect.name == "sqlite")


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


class Outbound:
    """The outbound worker's composition root (pbx/worker.py): the deliveries that may trail
    the calls, each sent from the rows the control plane committed and recorded in them."""

    def __init__(self, settings: Settings, forward_event):
        self.settings = settings
        self.engine, self.database = _database(settings)  # its own connections: another process
        self.events = EventBus(self.database)
        allow = allowed_networks(settings.outbound_allow_networks)
        self.dispatcher = WebhookDispatcher(self.database, self.events, Sender(allow),
                                            schedule_from(settings.webhook_retry), per_tenant=settings.webhook_in_flight)
        # webhook.disabled may owe other webhooks deliveries, and goes to the control plane's stream.
        self.events.sinks += [self.dispatcher.on_event, forward_event]
        mailer = Mailer.from_settings(settings)
        self.notice_channels = Channels(
            NetgsmSms(settings.sms_url, settings.sms_user, settings.sms_password, settings.sms_header), mailer, None)
        self.notice_sender = NoticeSender(self.database, self.notice_channels.as_dict(("sms", "email")),
                                          retry_s=settings.notice_retry_s)
        self.voicemail_mail = voicemail_sender.VoicemailMailer(
            self.database, mailer, VoicemailService(settings.asterisk_instance_dir, self.database),
            voicemail_sender.schedule_from(settings.mail_retry))
        self.pokes = {"webhooks": self.dispatcher.poke, "notices": self.notice_sender.poke,
                      "voicemail": self.voicemail_mail.loop.poke}

    def poke(self, kind: str) -> None:
        if poke := self.pokes.get(kind):
            poke()
        else:
            log.warning("outbound worker: unknown poke %r", kind)

    def start(self) -> None:
        if self.settings.cluster_primary:  # one per cluster, as the control plane's own singletons
            self.dispatcher.start()
            self.notice_sender.start()
        self.voicemail_mail.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.notice_sender.stop()
        await self.voicemail_mail.stop()
        await self.notice_channels.close()
        await self.engine.dispose()


async def serve_worker(settings: Settings, fd: int) -> None:
    """`pbx worker`: started by the control plane with its end of a socket pair."""
    async def serve(link: ControlPlaneLink, stop: asyncio.Event) -> None:
        outbound = Outbound(settings, link.send_event)
        outbound.start()
        try:
            await link.serve(outbound.poke, stop)
        finally:
            await outbound.stop()
    await run_worker(fd, serve)
