"""Settings, read once from the environment (PBX_*) by the composition root."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_DIR = PACKAGE_DIR.parent


def default_asterisk_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "pbx" / "asterisk-22"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    audio_dir: Path = field(default_factory=lambda: Path.cwd() / "ivr_audio")
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_realm: str = "pbx"
    sip_timer_t1_ms: int = 100  # SIP's T1; Asterisk keeps each ended call for 64 x T1 (templates/pjsip.conf)
    public_sip_server: str = ""
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "pbx"
    ami_secret: str = ""
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_secret: str = ""
    agi_timeout_s: float = 2.0
    prompt_max_bytes: int = 20 * 1024 * 1024
    prompt_max_seconds: float = 600.0
    rtp_start: int = 10000
    rtp_end: int = 20000
    manage_asterisk: bool = True
    asterisk_root: Path = field(default_factory=default_asterisk_root)
    dialplans_dir: Path = SOURCE_DIR / "dialplans"
    recordings_dir: str = ""  # "" = <data_dir>/recordings
    recording_key_file: str = ""  # "" = <data_dir>/recording.key
    recording_sweep_s: float = 30.0
    retention_interval_s: float = 3600.0
    sip_tls_cert: str = ""  # "" = no TLS transport
    sip_tls_key: str = ""
    sip_tls_port: int = 5061
    sip_ban_failures: int = 10
    sip_ban_window_s: float = 60.0
    sip_ban_seconds: float = 900.0
    destruction_journal_file: str = ""  # "" = beside the recording key
    backup_dir: str = ""  # "" = <data_dir>/backups
    backup_interval_s: float = 86400.0  # 0: no scheduled backups
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    job_workers: int = 2
    job_batch_rows: int = 500
    job_retention_days: float = 30.0
    import_max_bytes: int = 8 * 1024 * 1024
    import_max_rows: int = 20_000
    asterisk_log: str = "file"  # "file": messages.log in the instance; "stdout": a container's log
    outbound_allow_networks: str = ""  # CIDRs webhooks may reach although private/loopback
    webhook_retry: str = ""  # "first,cap,give_up" seconds; "" = 10 s doubling to 1 h, for 24 h
    webhook_in_flight: int = 4  # deliveries at once per tenant
    smtp_host: str = ""  # "" = no mail is sent (pbx/mail.py)
    smtp_port: int = 25
    smtp_from: str = "santral@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "none"  # none | starttls | tls
    billing_terms_s: float = 3600.0  # how often trial and renewal terms are carried out
    billing_sample_s: float = 10.0  # how often concurrent circuits and extra extensions are sampled
    mail_retry: str = ""  # "first,cap" seconds of a failed send's backoff; "" = 30 s doubling to 1 h
    crm_timeout: float = 1.5  # seconds call.ringing waits for the caller's CRM contact
    crm_cache_seconds: float = 60.0  # a number's CRM answer is reused this long
    session_hours: float = 12.0  # a panel session's absolute lifetime
    session_idle_minutes: float = 120.0  # ... and how long it lives unused
    cookie_secure: str = "auto"  # auto: Secure when the request came over https (or a proxy says so); always
    cluster_proxy: str = ""  # host:port of the cluster's Kamailio; "" = a lone node (pbx/cluster/)
    cluster_secret: str = ""  # the X-Pbx-Cluster value by which Kamailio vouches for node-to-node calls
    cluster_primary: bool = True  # the one control plane of a cluster that runs jobs, backups, webhooks
    cluster_control: str = ""  # Kamailio's control socket (unix:/path, tcp:host:port): membership API, carriers
    cluster_peers: str = ""  # host:port,... of the other nodes' AMI: extension status from the node holding it
    trunk_qualify_s: int = 10  # SIP OPTIONS to every trunk this often (pbx/asterisk/trunks.py)
    fault_check_s: float = 60.0  # how often deadlines are checked for breaches (pbx/ops/watch.py)
    sms_url: str = ""  # Netgsm API base; "" = no SMS is sent (pbx/ops/sms.py)
    sms_user: str = ""
    sms_password: str = ""
    sms_header: str = ""
    notice_retry_s: float = 60.0  # a failed notice is tried again after this, doubling (pbx/ops/sender.py)
    worker_priority: str = "idle"  # the outbound worker's CPU priority: idle, low or normal (pbx/worker.py)
    asterisk_max_load: float = 0.0  # Asterisk refuses new calls (503) above this load average; 0: never
    # A trunk's call-setup failure rate jumping opens a Yüksek fault (pbx/ops/failure_rate.py).
    trunk_failure_window_s: float = 300.0  # the sliding window of outbound call attempts
    trunk_failure_min_calls: int = 20  # fewer attempts than this in the window decide nothing
    trunk_failure_ratio: float = 0.5  # failed share of the window's attempts that opens a fault
    trunk_failure_over_baseline: float = 3.0  # ... and at least this many times the trunk's usual share
    trunk_failure_recovery_s: float = 300.0  # below the ratio this long: the fault is resolved
    # astdb's registrar compared with extension_registrations this often, for a lost report; 0: never
    registration_resync_s: float = 300.0

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'pbx.sqlite3'}"

    @property
    def sip_server(self) -> str:
        """What phones are told to register to."""
        return self.public_sip_server or f"{self.sip_host}:{self.sip_port}"

    @property
    def asterisk_instance_dir(self) -> Path:
        return self.data_dir / "asterisk"

    @property
    def recording_spool_dir(self) -> Path:
        """Where MixMonitor writes (dialplans/pbx.conf: <spool>/recordings)."""
        return self.asterisk_instance_dir / "spool" / "recordings"

    @property
    def recording_archive_dir(self) -> Path:
        return Path(self.recordings_dir) if self.recordings_dir else self.data_dir / "recordings"

    @property
    def recording_key_path(self) -> Path:
        return Path(self.recording_key_file) if self.recording_key_file else self.data_dir / "recording.key"

    @property
    def sip_tls(self) -> bool:
        return bool(self.sip_tls_cert and self.sip_tls_key)

    @property
    def sip_transports(self) -> list[dict]:
        """What a phone may register over, and where."""
        transports = [{"protocol": "udp", "server": self.sip_server}]
        if self.sip_tls:
            host = self.sip_server.rsplit(":", 1)[0]
            transports.append({"protocol": "tls", "server": f"{host}:{self.sip_tls_port}"})
        return transports

    @property
    def destruction_journal_path(self) -> Path:
        if self.destruction_journal_file:
            return Path(self.destruction_journal_file)
        return self.recording_key_path.with_name("recording-destructions.jsonl")

    @property
    def backup_path(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.data_dir / "backups"

    @property
    def voicemail_dir(self) -> Path:
        return self.asterisk_instance_dir / "spool" / "pbx-voicemail"  # pbx/services/voicemail.py SPOOL

    def with_secret(self) -> "Settings":
        """Fills in the AMI and FastAGI secrets, each generated once per data dir and kept there."""
        return replace(self, ami_secret=self.ami_secret or self._generated("ami.secret"),
                       agi_secret=self.agi_secret or self._generated("agi.secret"))

    def _generated(self, name: str) -> str:
        path = self.data_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # URL-safe: the FastAGI secret is a path segment of the AGI URL in the dialplan.
            path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
        return path.read_text().strip()


_ENV = {
    "data_dir": ("PBX_DATA_DIR", Path),
    "audio_dir": ("PBX_AUDIO_DIR", Path),
    "database_url": ("PBX_DATABASE_URL", str),
    "api_host": ("PBX_API_HOST", str),
    "api_port": ("PBX_API_PORT", int),
    "sip_host": ("PBX_SIP_HOST", str),
    "sip_port": ("PBX_SIP_PORT", int),
    "sip_realm": ("PBX_SIP_REALM", str),
    "sip_timer_t1_ms": ("PBX_SIP_TIMER_T1", int),
    "public_sip_server": ("PBX_PUBLIC_SIP_SERVER", str),
    "ami_host": ("PBX_AMI_HOST", str),
    "ami_port": ("PBX_AMI_PORT", int),
    "ami_user": ("PBX_AMI_USER", str),
    "ami_secret": ("PBX_AMI_SECRET", str),
    "agi_host": ("PBX_AGI_HOST", str),
    "agi_port": ("PBX_AGI_PORT", int),
    "agi_secret": ("PBX_AGI_SECRET", str),
    "agi_timeout_s": ("PBX_AGI_TIMEOUT", float),
    "prompt_max_bytes": ("PBX_PROMPT_MAX_BYTES", int),
    "prompt_max_seconds": ("PBX_PROMPT_MAX_SECONDS", float),
    "rtp_start": ("PBX_RTP_START", int),
    "rtp_end": ("PBX_RTP_END", int),
    "manage_asterisk": ("PBX_MANAGE_ASTERISK", lambda v: v.lower() in ("1", "true", "yes")),
    "asterisk_root": ("PBX_ASTERISK_ROOT", Path),
    "dialplans_dir": ("PBX_DIALPLANS_DIR", Path),
    "recordings_dir": ("PBX_RECORDINGS_DIR", str),
    "recording_key_file": ("PBX_RECORDING_KEY_FILE", str),
    "recording_sweep_s": ("PBX_RECORDING_SWEEP_SECONDS", float),
    "retention_interval_s": ("PBX_RETENTION_INTERVAL_SECONDS", float),
    "sip_tls_cert": ("PBX_SIP_TLS_CERT", str),
    "sip_tls_key": ("PBX_SIP_TLS_KEY", str),
    "sip_tls_port": ("PBX_SIP_TLS_PORT", int),
    "sip_ban_failures": ("PBX_SIP_BAN_FAILURES", int),
    "sip_ban_window_s": ("PBX_SIP_BAN_WINDOW_SECONDS", float),
    "sip_ban_seconds": ("PBX_SIP_BAN_SECONDS", float),
    "destruction_journal_file": ("PBX_DESTRUCTION_JOURNAL", str),
    "backup_dir": ("PBX_BACKUP_DIR", str),
    "backup_interval_s": ("PBX_BACKUP_INTERVAL_SECONDS", float),
    "backup_keep_daily": ("PBX_BACKUP_KEEP_DAILY", int),
    "backup_keep_weekly": ("PBX_BACKUP_KEEP_WEEKLY", int),
    "job_workers": ("PBX_JOB_WORKERS", int),
    "job_batch_rows": ("PBX_JOB_BATCH_ROWS", int),
    "job_retention_days": ("PBX_JOB_RETENTION_DAYS", float),
    "import_max_bytes": ("PBX_IMPORT_MAX_BYTES", int),
    "import_max_rows": ("PBX_IMPORT_MAX_ROWS", int),
    "asterisk_log": ("PBX_ASTERISK_LOG", lambda v: _one_of(v, "file", "stdout")),
    "outbound_allow_networks": ("PBX_OUTBOUND_ALLOW_NETWORKS", str),
    "webhook_retry": ("PBX_WEBHOOK_RETRY", str),
    "webhook_in_flight": ("PBX_WEBHOOK_IN_FLIGHT", int),
    "smtp_host": ("PBX_SMTP_HOST", str),
    "smtp_port": ("PBX_SMTP_PORT", int),
    "smtp_from": ("PBX_SMTP_FROM", str),
    "smtp_user": ("PBX_SMTP_USER", str),
    "smtp_password": ("PBX_SMTP_PASSWORD", str),
    "smtp_tls": ("PBX_SMTP_TLS", lambda v: _one_of(v, "none", "starttls", "tls")),
    "billing_sample_s": ("PBX_BILLING_SAMPLE_SECONDS", float),
    "billing_terms_s": ("PBX_BILLING_TERMS_SECONDS", float),
    "mail_retry": ("PBX_MAIL_RETRY", str),
    "crm_timeout": ("PBX_CRM_TIMEOUT", float),
    "crm_cache_seconds": ("PBX_CRM_CACHE_SECONDS", float),
    "session_hours": ("PBX_SESSION_HOURS", float),
    "session_idle_minutes": ("PBX_SESSION_IDLE_MINUTES", float),
    "cookie_secure": ("PBX_COOKIE_SECURE", lambda v: _one_of(v, "auto", "always")),
    "cluster_proxy": ("PBX_CLUSTER_PROXY", str),
    "cluster_secret": ("PBX_CLUSTER_SECRET", str),
    "cluster_primary": ("PBX_CLUSTER_PRIMARY", lambda v: v.lower() in ("1", "true", "yes")),
    "cluster_peers": ("PBX_CLUSTER_PEERS", str),
    "cluster_control": ("PBX_CLUSTER_CONTROL", str),
    "trunk_qualify_s": ("PBX_TRUNK_QUALIFY_SECONDS", int),
    "fault_check_s": ("PBX_FAULT_CHECK_SECONDS", float),
    "sms_url": ("PBX_SMS_URL", str),
    "sms_user": ("PBX_SMS_USER", str),
    "sms_password": ("PBX_SMS_PASSWORD", str),
    "sms_header": ("PBX_SMS_HEADER", str),
    "notice_retry_s": ("PBX_NOTICE_RETRY_SECONDS", float),
    "worker_priority": ("PBX_WORKER_PRIORITY", lambda v: _one_of(v, "idle", "low", "normal")),
    "asterisk_max_load": ("PBX_ASTERISK_MAX_LOAD", float),
    "trunk_failure_window_s": ("PBX_TRUNK_FAILURE_WINDOW_SECONDS", float),
    "trunk_failure_min_calls": ("PBX_TRUNK_FAILURE_MIN_CALLS", int),
    "trunk_failure_ratio": ("PBX_TRUNK_FAILURE_RATIO", float),
    "trunk_failure_over_baseline": ("PBX_TRUNK_FAILURE_OVER_BASELINE", float),
    "trunk_failure_recovery_s": ("PBX_TRUNK_FAILURE_RECOVERY_SECONDS", float),
    "registration_resync_s": ("PBX_REGISTRATION_RESYNC_SECONDS", float),
}


def _one_of(value: str, *allowed: str) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r}: expected one of {', '.join(allowed)}")
    return value


def settings_from_env(env: dict[str, str] | None = None, **overrides) -> Settings:
    env = os.environ if env is None else env
    values = {name: cast(env[var]) for name, (var, cast) in _ENV.items() if env.get(var)}
    values.update(overrides)
    settings = Settings(**values)
    return replace(
        settings,
        data_dir=settings.data_dir.resolve(),
        audio_dir=settings.audio_dir.resolve(),
    )


def env_table() -> list[tuple[str, str]]:
    """(variable, field) pairs, for the README's configuration table test."""
    return [(var, name) for name, (var, _) in _ENV.items()]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child `pbx` process these settings (settings_from_env's
    inverse): this process's environment without its own PBX_ variables, plus every setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
    for var, name in env_table():
        value = getattr(settings, name)
        env[var] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env
