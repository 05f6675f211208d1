"""docker-compose.yml and docker/ checked against the non-container runner.

No Docker engine is needed: the files are parsed and compared with what
pbx/asterisk/runner.py, configgen.py and root.py do, so the container layout
cannot drift from the one the test suite runs for real.
"""
from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml
from sqlalchemy.engine import make_url

from pbx.asterisk import configgen, root, runner
from pbx.config import env_table, settings_from_env

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ASTERISK_DOCKERFILE = (REPO / "docker" / "asterisk.Dockerfile").read_text()
PBX_DOCKERFILE = (REPO / "docker" / "pbx.Dockerfile").read_text()
SIP_PING = (REPO / "docker" / "sip-ping").read_text()
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} gives the default; ${VAR:?error} a stand-in value."""
    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        return arg if op == ":-" else f"test-{name.lower()}"
    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def pbx_env() -> dict[str, str]:
    return {k: interpolate(v) for k, v in SERVICES["pbx"]["environment"].items()}


def pbx_settings():
    return settings_from_env(pbx_env())


def mounts(service: str) -> dict[str, str]:
    """Container path -> source (named volume or ./bind path)."""
    out = {}
    for entry in SERVICES[service].get("volumes", []):
        source, target = entry.split(":")[:2]
        out[target] = source
    return out


def source_of(service: str, path: str) -> tuple[str, PurePosixPath]:
    """Which volume holds `path` in `service`, and where inside that volume."""
    path = PurePosixPath(path)
    best = max((PurePosixPath(t) for t in mounts(service) if path.is_relative_to(t)),
               key=lambda t: len(t.parts), default=None)
    assert best is not None, f"{path} is not on any volume of {service}"
    return mounts(service)[str(best)], path.relative_to(best)


def image_copies(dockerfile: str) -> dict[str, str]:
    """COPY target -> source (the repo's folder that the image carries)."""
    copies = [arg.split() for op, arg in instructions(dockerfile) if op == "COPY"]
    return {parts[-1].rstrip("/"): parts[0] for parts in copies}


def assert_in_image_or_volume(service: str, dockerfile: str, path: str) -> None:
    if not any(PurePosixPath(path).is_relative_to(target) for target in image_copies(dockerfile)):
        source_of(service, path)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_services_and_startup_order():
    assert {"asterisk", "pbx", "postgres"} <= SERVICES.keys()
    assert SERVICES["asterisk"]["depends_on"]["pbx"]["condition"] == "service_healthy"
    assert SERVICES["pbx"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # SIP/RTP must not go through Docker's NAT; AMI and FastAGI are on loopback.
    assert SERVICES["asterisk"]["network_mode"] == "host"
    assert SERVICES["pbx"]["network_mode"] == "host"


def test_named_volumes_are_declared_and_binds_exist():
    for service in SERVICES:
        for source in mounts(service).values():
            if source.startswith("."):
                assert (REPO / source).exists(), source
            else:
                assert source in COMPOSE["volumes"], source


def test_env_names_are_the_settings_names():
    known = {var for var, _ in env_table()}
    for service in SERVICES.values():
        for name, value in service.get("environment", {}).items():
            assert isinstance(value, str), f"{name}: compose wants strings (quote numbers and booleans)"
            if name.startswith("PBX_"):
                assert name in known, name


def test_pbx_settings_from_compose():
    settings = pbx_settings()
    assert not settings.manage_asterisk
    assert settings.ami_secret, "PBX_AMI_SECRET must be set, not generated per volume"
    assert make_url(settings.effective_database_url).get_backend_name() == "postgresql"
    assert ":0.0.0.0" not in settings.sip_server


def test_asterisk_sees_what_pbx_writes():
    settings = pbx_settings()
    pairs = [
        (settings.asterisk_instance_dir, configgen.INSTANCE),
        (settings.audio_dir, configgen.AUDIO),
        (settings.data_dir, configgen.DATA),
    ]
    for pbx_path, asterisk_path in pairs:
        assert source_of("pbx", str(pbx_path)) == source_of("asterisk", asterisk_path)
    # Recordings land in the same volume whichever side looks.
    assert source_of("pbx", f"{settings.asterisk_instance_dir}/spool/monitor") == \
        source_of("asterisk", f"{configgen.INSTANCE}/spool/monitor")


def test_dialplans_and_prompts_are_part_of_the_asterisk_image():
    """The image of this project version carries its dialplans and shipped prompts: a
    production host needs no checkout of the repo, and nothing binds from it."""
    settings = pbx_settings()
    copies = image_copies(ASTERISK_DOCKERFILE)
    assert copies[configgen.DIALPLANS] == "dialplans/"
    assert copies[configgen.SOUNDS] == "pbx/asterisk/sounds/"
    for service in SERVICES.values():
        assert not [v for v in service.get("volumes", []) if v.startswith(".")], "no bind mounts from the repo"
    workdir = [arg for op, arg in instructions(PBX_DOCKERFILE) if op == "WORKDIR"][-1]
    assert settings.dialplans_dir == Path(workdir) / "dialplans"


def test_every_asterisk_path_is_mounted(tmp_path):
    settings = pbx_settings()
    configgen.render(settings, tmp_path)
    used = {configgen.INSTANCE, configgen.DATA, configgen.DIALPLANS, configgen.AUDIO}
    for conf in tmp_path.iterdir():
        used |= set(re.findall(r"/srv/pbx/[^\s\"',]*", conf.read_text()))
    for path in used:
        assert_in_image_or_volume("asterisk", ASTERISK_DOCKERFILE, path)


def test_postgres_is_where_the_url_says_and_only_on_loopback():
    url = make_url(pbx_env()["PBX_DATABASE_URL"])
    assert url.host == "127.0.0.1"
    assert [interpolate(p) for p in SERVICES["postgres"]["ports"]] == [f"127.0.0.1:{url.port}:5432"]
    assert SERVICES["postgres"]["image"] in ("postgres:16", "postgres:17")
    env = SERVICES["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == (url.username, url.database)
    assert interpolate(env["POSTGRES_PASSWORD"]) == url.password


def test_pbx_healthcheck_uses_the_api_port():
    settings = pbx_settings()
    test = " ".join(SERVICES["pbx"]["healthcheck"]["test"])
    # The port the settings read, from the container's own environment.
    assert "http://127.0.0.1:{os.environ['PBX_API_PORT']}/api/v1/health" in test
    assert settings.api_host in ("127.0.0.1", "0.0.0.0")


def test_asterisk_command_is_the_runners(monkeypatch):
    monkeypatch.setattr(runner.shutil, "which", lambda name: f"/usr/bin/{name}")
    command = runner.AsteriskProcess(pbx_settings()).command()
    expected = command[command.index("/usr/sbin/asterisk"):]
    [cmd] = [json.loads(arg) for op, arg in instructions(ASTERISK_DOCKERFILE) if op == "CMD"]
    # The runner's command, under a shell only to set an owner-only umask first.
    assert cmd[:2] == ["/bin/sh", "-c"] and cmd[2] == "umask 077 && exec " + " ".join(expected)
    assert f"{expected[0]} {' '.join(expected[-2:])} -rx" in SIP_PING
    assert SERVICES["asterisk"]["healthcheck"]["test"] == ["CMD", "sip-ping"]
    assert image_copies(ASTERISK_DOCKERFILE)["/usr/local/bin/sip-ping"] == "docker/sip-ping"


def test_asterisk_health_probes_the_sip_transport_pbx_configures():
    asterisk_env = {k: interpolate(v) for k, v in SERVICES["asterisk"]["environment"].items()}
    settings = pbx_settings()
    assert (asterisk_env["PBX_SIP_HOST"], int(asterisk_env["PBX_SIP_PORT"])) == (settings.sip_host, settings.sip_port)
    assert "OPTIONS sip:" in SIP_PING and "$ENV{PBX_SIP_PORT}" in SIP_PING


def test_asterisk_image_is_the_roots():
    steps = instructions(ASTERISK_DOCKERFILE)
    assert steps[0] == ("FROM", f"debian:{root.SUITE}-slim")
    run = " ".join(arg for op, arg in steps if op == "RUN")
    install = shlex.split(run.split("apt-get install", 1)[1].split("&&", 1)[0])
    for package in root.PACKAGES:
        assert package in install, package
    assert "Pin: version 1:22.*" in run
    mkdir = shlex.split(run.split("mkdir -p", 1)[1].split("&&", 1)[0])
    for point in root.MOUNT_POINTS:
        assert f"/{point}" in mkdir, point


def test_asterisk_platform_matches_module_dir():
    conf = (configgen.TEMPLATES / "asterisk.conf").read_text()
    if "x86_64-linux-gnu" in conf:
        assert SERVICES["asterisk"]["platform"] == "linux/amd64"


def test_pbx_image_keeps_migrations_beside_the_package():
    copies = {arg.split()[0]: arg.split()[-1] for op, arg in instructions(PBX_DOCKERFILE) if op == "COPY"}
    for folder in ("pbx/", "migrations/", "dialplans/"):
        assert copies[folder] == folder
    assert "pip install --no-cache-dir --no-deps -e ." in PBX_DOCKERFILE
    cmd = [json.loads(arg) for op, arg in instructions(PBX_DOCKERFILE) if op == "CMD"]
    assert cmd == [["pbx", "up", "--no-asterisk"]]


@pytest.mark.parametrize("name", ["docker-compose.yml", ".dockerignore", "scripts/images", *sorted(
    str(p.relative_to(REPO)) for p in (REPO / "docker").iterdir())])
def test_no_registry_host_names(name):
    text = (REPO / name).read_text().lower()
    for host in ("debian.org", "pypi", "pythonhosted", "npmjs", "docker.io"):
        assert host not in text, f"{host} in {name}"


def test_dockerignore_keeps_the_context_small():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "ivr_audio/*", "tests", "bench/results"} <= ignored
    assert ".env" in ignored, "the secrets file must never reach a build context"
