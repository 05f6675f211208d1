"""Asterisk's configuration: the repo's templates plus the settings, written per instance.

Paths here are as Asterisk sees them inside its root (see runner.MOUNTS).
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from string import Template

from sqlalchemy.engine import make_url

from pbx.asterisk import cdrfields
from pbx.config import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
INSTANCE = "/srv/pbx/instance"
DATA = "/srv/pbx/data"
DIALPLANS = "/srv/pbx/dialplans"
AUDIO = "/srv/pbx/audio"
TLS_CERT = "/srv/pbx/tls/cert.pem"  # PBX_SIP_TLS_CERT / _KEY, bound read-only (runner.py; a container mounts them)
TLS_KEY = "/srv/pbx/tls/key.pem"
SOUNDS = "/srv/pbx/sounds"  # read-only: pbx/asterisk/sounds (domain.recording.NOTICE_SOUND)
STATE_DIRS = ("etc", "lib", "spool", "run", "log", "log/cdr-custom", "cache")  # cdr_custom writes, never creates, its folder


def realtime_values(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return {
            "realtime_module": "res_config_sqlite3.so",
            "realtime_driver": "sqlite3",
            "sqlite_file": f"{DATA}/{Path(url.database).name}",
        }
    if url.get_backend_name() == "postgresql":
        return {
            "realtime_module": "res_config_pgsql.so",
            "realtime_driver": "pgsql",
            "pg_host": url.host or "127.0.0.1",
            "pg_port": str(url.port or 5432),
            "pg_name": url.database or "",
            "pg_user": url.username or "",
            "pg_password": url.password or "",
        }
    raise ValueError(f"Asterisk realtime supports SQLite and PostgreSQL, not {url.get_backend_name()}")


def template_values(settings: Settings, *, ami_peer: str | None = None) -> dict[str, str]:
    peer = ami_peer or settings.ami_host
    return {
        "ami_host": settings.ami_host,
        "ami_port": str(settings.ami_port),
        "ami_user": settings.ami_user,
        "ami_secret": settings.ami_secret,
        "ami_permit": str(ipaddress.ip_address(peer)) if _is_ip(peer) else "127.0.0.1",
        "sip_host": settings.sip_host,
        "sip_port": str(settings.sip_port),
        "sip_realm": settings.sip_realm,
        "tls_transport": tls_transport(settings),
        "identifier_order": "header,ip,username" if settings.cluster_proxy else "ip,username",
        "cluster_objects": cluster_objects(settings),
        "sip_timer_t1": str(settings.sip_timer_t1_ms),
        "sip_timer_b": str(64 * settings.sip_timer_t1_ms),  # RFC 3261's 64*T1; Asterisk refuses less
        "rtp_start": str(settings.rtp_start),
        "rtp_end": str(settings.rtp_end),
        # A container's Asterisk logs to its standard output (docker logs), not into a volume.
        "log_channel": "/dev/stdout" if settings.asterisk_log == "stdout" else "messages.log",
        "cdr_manager_mappings": cdrfields.manager_mappings(),
        "cdr_custom_mapping": cdrfields.custom_mapping(),
        **realtime_values(settings.effective_database_url),
        "max_load": f"{settings.asterisk_max_load:g}",
    }


def tls_transport(settings: Settings) -> str:
    """A SIP TLS transport when a certificate and key are configured; else nothing at all."""
    if not settings.sip_tls:
        return "; No TLS transport: PBX_SIP_TLS_CERT and PBX_SIP_TLS_KEY are not set."
    return "\n".join([
        "[transport-tls]", "type = transport", "protocol = tls",
        f"bind = {settings.sip_host}:{settings.sip_tls_port}",
        f"cert_file = {TLS_CERT}", f"priv_key_file = {TLS_KEY}",
        "method = tlsv1_2",  # and newer: pjproject negotiates up from here
        "verify_client = no", "require_client_cert = no",  # phones authenticate with their digest
    ])


def cluster_objects(settings: Settings) -> str:
    """A cluster node also takes calls that another node places for a phone registered here:
    Kamailio forwards them with X-Pbx-Cluster (and strips that header from everyone else)."""
    if not settings.cluster_proxy:
        return "; Not part of a cluster: PBX_CLUSTER_PROXY is not set."
    return "\n".join([
        "[cluster-in]", "type = endpoint", "context = pbx-cluster-in", "disallow = all", "allow = g722,ulaw,alaw",
        "direct_media = no", "dtmf_mode = rfc4733", "rtp_symmetric = yes",
        "media_encryption = sdes", "media_encryption_optimistic = yes", "",
        "[cluster-in-identify]", "type = identify", "endpoint = cluster-in",
        f"match_header = X-Pbx-Cluster: {settings.cluster_secret}",
    ])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def extensions_conf(settings: Settings) -> str:
    return (
        "; Generated. The dialplan itself is the repo's dialplans/ folder.\n"
        "[globals]\n"
        # The secret is the URL's first path segment: ${PBX_AGI}/route reaches route "route"
        # only with it (pbx/agi/server.py route_name). This file is 0600, like the AMI secret's.
        f"PBX_AGI=agi://{settings.agi_host}:{settings.agi_port}/{settings.agi_secret}\n"
        f"PBX_AUDIO={AUDIO}\n"
        "\n"
        f'#include "{DIALPLANS}/pbx.conf"\n'
    )


def render(settings: Settings, etc_dir: Path, **extra: str) -> list[Path]:
    """Writes every configuration file into etc_dir; returns what was written."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    values = template_values(settings) | extra
    written = []
    for template in sorted(TEMPLATES.glob("*.conf")):
        if not _wanted(template.name, values):
            continue
        text = Template(template.read_text()).substitute(values)
        written.append(_write(etc_dir / template.name, text))
    written.append(_write(etc_dir / "extensions.conf", extensions_conf(settings)))
    return written


def _wanted(name: str, values: dict[str, str]) -> bool:
    if name == "res_config_sqlite3.conf":
        return values["realtime_driver"] == "sqlite3"
    if name == "res_pgsql.conf":
        return values["realtime_driver"] == "pgsql"
    return True


def _write(path: Path, text: str) -> Path:
    """Owner-only: the files hold the AMI secret and the database password, and Asterisk
    reads them as the same user that writes them (the containers share one uid)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(text)
    tmp.replace(path)
    return path
