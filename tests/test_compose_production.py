"""docker-compose.yml and docker/ are fit for production: pinned images, one non-root uid,
secrets only from the environment, volumes for what must survive, movable host ports, and
the stand-in bases the end-to-end test builds on are the ones the files name.

Parsing only, like tests/test_compose.py; tests/test_compose_stack.py runs the file for real.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import PurePosixPath

from pbx.asterisk import configgen
from tests.support.compose import build_specs, compose_env
from tests.test_compose import (ASTERISK_DOCKERFILE, COMPOSE, PBX_DOCKERFILE, REPO, SERVICES, VERSION,
                                instructions, pbx_settings, source_of)


def test_every_service_restarts_unless_stopped():
    for name, service in SERVICES.items():
        assert service["restart"] == "unless-stopped", name


def test_images_are_pinned_to_asterisk_22_and_the_project_version():
    assert SERVICES["pbx"]["image"] == f"pbx/control-plane:{VERSION}"
    assert SERVICES["asterisk"]["image"] == f"pbx/asterisk:{VERSION}-asterisk22"
    assert SERVICES["postgres"]["image"] == "postgres:17"
    assert "Pin: version 1:22.*" in ASTERISK_DOCKERFILE


def test_both_images_run_as_one_non_root_uid():
    """They share the instance volume, whose generated files are 0600."""
    uids = []
    for dockerfile in (ASTERISK_DOCKERFILE, PBX_DOCKERFILE):
        steps = instructions(dockerfile)
        users = [arg for op, arg in steps if op == "USER"]
        assert users and users[-1] not in ("root", "0"), users
        uids += [arg for op, arg in steps if op == "ARG" and arg.startswith("PBX_UID=")]
    assert len(uids) == 2 and len(set(uids)) == 1, uids


def test_no_secret_is_baked_into_an_image():
    for dockerfile in (ASTERISK_DOCKERFILE, PBX_DOCKERFILE):
        for op, arg in instructions(dockerfile):
            if op in ("ENV", "ARG"):
                assert not re.search(r"SECRET|PASSWORD|KEY", arg, re.I), arg
    raw = (REPO / "docker-compose.yml").read_text()
    for name in ("PBX_AMI_SECRET", "POSTGRES_PASSWORD"):
        assert "${%s:?" % name in raw, f"{name} must come from the environment, and be required"


def test_data_prompts_recordings_the_key_and_backups_are_volumes():
    settings = pbx_settings()
    for path in (settings.data_dir, settings.audio_dir, settings.recording_archive_dir,
                 settings.recording_spool_dir, settings.recording_key_path.parent, settings.backup_path):
        volume, inside = source_of("pbx", str(path))
        assert volume in COMPOSE["volumes"] and inside == PurePosixPath("."), path
    # Not in the data volume (nor in its backups): a volume of its own.
    assert source_of("pbx", str(settings.recording_key_path))[0] != source_of("pbx", str(settings.data_dir))[0]


def test_asterisk_logs_to_stdout_and_keeps_its_memory_in_check():
    assert pbx_settings().asterisk_log == "stdout"
    assert SERVICES["asterisk"]["environment"]["MALLOC_ARENA_MAX"] == "2"


def test_host_ports_are_variables_the_test_fills():
    """Every port on the host's network can be moved; the end-to-end test fills every
    variable the file requires (tests/support/compose.py)."""
    env = SERVICES["pbx"]["environment"]
    for name in ("PBX_API_PORT", "PBX_SIP_PORT", "PBX_AMI_PORT", "PBX_AGI_PORT", "PBX_RTP_START", "PBX_RTP_END"):
        assert re.fullmatch(r"\$\{%s:-\d+\}" % name, env[name]), name
    required = set(re.findall(r"\$\{(\w+):\?", (REPO / "docker-compose.yml").read_text()))
    assert required <= compose_env().keys()
    ports = [int(v) for k, v in compose_env().items() if k.endswith(("_PORT", "_START", "_END"))]
    assert all(41000 <= port <= 41999 for port in ports), ports


def test_the_test_builds_what_compose_builds():
    built = {image: (context, dockerfile) for image, context, dockerfile in build_specs()}
    assert built == {
        SERVICES["pbx"]["image"]: (REPO, REPO / "docker" / "pbx.Dockerfile"),
        SERVICES["asterisk"]["image"]: (REPO, REPO / "docker" / "asterisk.Dockerfile"),
    }


def test_stand_in_bases_are_what_the_files_name():
    names = subprocess.run([str(REPO / "scripts" / "images"), "--names"], capture_output=True, text=True,
                           check=True).stdout.split()
    froms = {arg.split()[0] for dockerfile in (ASTERISK_DOCKERFILE, PBX_DOCKERFILE)
             for op, arg in instructions(dockerfile) if op == "FROM"}
    assert set(names) == froms | {SERVICES["postgres"]["image"]}


def test_generated_asterisk_config_is_owner_only(tmp_path):
    for path in configgen.render(pbx_settings(), tmp_path):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert "/dev/stdout => " in (tmp_path / "logger.conf").read_text()
