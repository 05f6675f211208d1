import re
from pathlib import Path

import pytest

from pbx.asterisk import configgen
from pbx.config import settings_from_env


def render(tmp_path: Path, url: str = "") -> dict[str, str]:
    settings = settings_from_env(env={}, data_dir=tmp_path, database_url=url, ami_secret="s3cret")
    configgen.render(settings, tmp_path / "etc")
    return {p.name: p.read_text() for p in (tmp_path / "etc").iterdir()}


def test_sqlite_realtime(tmp_path):
    files = render(tmp_path)
    assert "res_pgsql.conf" not in files
    assert "dbfile = /srv/pbx/data/pbx.sqlite3" in files["res_config_sqlite3.conf"]
    assert "batch = 0" in files["res_config_sqlite3.conf"]
    assert "ps_endpoints => sqlite3,pbx" in files["extconfig.conf"]
    assert "load => res_config_sqlite3.so" in files["modules.conf"]


def test_postgres_realtime(tmp_path):
    files = render(tmp_path, "postgresql+asyncpg://pbx:pw@db.local:6543/pbxdb")
    assert "res_config_sqlite3.conf" not in files
    pg = files["res_pgsql.conf"]
    for line in ("dbhost = db.local", "dbport = 6543", "dbname = pbxdb", "dbuser = pbx", "dbpass = pw"):
        assert line in pg
    assert "ps_aors => pgsql,pbx" in files["extconfig.conf"]


def test_other_databases_are_refused(tmp_path):
    with pytest.raises(ValueError):
        render(tmp_path, "mysql+aiomysql://x@y/z")


def test_everything_is_substituted_and_on_loopback(tmp_path):
    files = render(tmp_path)
    for name, text in files.items():
        if name != "extensions.conf":
            assert not re.search(r"\$\w", text), name
    assert "bindaddr = 127.0.0.1" in files["manager.conf"]
    assert "bind = 127.0.0.1:5060" in files["pjsip.conf"]
    assert "secret = s3cret" in files["manager.conf"]
    # Least rights: no config or command access for the control plane's AMI user; originate
    # only because click-to-call (into [pbx-c2c]) and outage notices (pbx/ops/ivr_call.py) need it.
    write = re.search(r"^write = (.*)$", files["manager.conf"], re.M).group(1)
    assert not {"config", "command", "all"} & set(write.split(","))
    assert "originate" in write.split(",")
    assert "PBX_AGI=agi://127.0.0.1:4573" in files["extensions.conf"]


def test_readme_documents_every_setting():
    from pbx.config import SOURCE_DIR, env_table

    readme = (SOURCE_DIR / "README.md").read_text()
    for variable, _field in env_table():
        assert f"`{variable}`" in readme, variable


def test_ami_lets_through_exactly_the_events_the_control_plane_acts_on(tmp_path):
    from pbx.security.failures import SECURITY_EVENTS

    manager = render(tmp_path)["manager.conf"]
    names = re.findall(r"^eventfilter\(action\(include\),name\((\w+)\)\) =$", manager, re.M)
    assert sorted(names) == sorted({"Cdr", "UserEvent", "FullyBooted", "DialBegin", "DialEnd", "ContactStatus", "OriginateResponse", *SECURITY_EVENTS})
    # TestEvent only for the registrar's three states (extension.registered/unregistered).
    narrowed = re.findall(r"^eventfilter\(action\(include\),name\((\w+)\),header\((\w+)\),"
                          r"method\(starts_with\)\) = (.*)$", manager, re.M)
    assert narrowed == [("TestEvent", "State", f"AOR_CONTACT_{state}") for state in ("ADDED", "REFRESHED", "REMOVED")]
    read = set(re.search(r"^read = (.*)$", manager, re.M).group(1).split(","))
    assert {"security", "user", "cdr"} <= read


def test_the_agi_url_carries_the_secret(tmp_path):
    settings = settings_from_env(env={}, data_dir=tmp_path, ami_secret="a", agi_secret="Zz_9-x")
    configgen.render(settings, tmp_path / "etc")
    assert "PBX_AGI=agi://127.0.0.1:4573/Zz_9-x\n" in (tmp_path / "etc" / "extensions.conf").read_text()
    for path in (tmp_path / "etc").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path  # secrets: owner-only, whatever the umask


def test_generated_secrets_are_kept_and_owner_only(tmp_path):
    settings = settings_from_env(env={}, data_dir=tmp_path).with_secret()
    assert settings.agi_secret and settings.ami_secret != settings.agi_secret
    assert settings_from_env(env={}, data_dir=tmp_path).with_secret().agi_secret == settings.agi_secret
    assert (tmp_path / "agi.secret").stat().st_mode & 0o077 == 0


def test_tls_transport_only_when_configured(tmp_path):
    assert "transport-tls" not in render(tmp_path)["pjsip.conf"]
    settings = settings_from_env(env={}, data_dir=tmp_path, ami_secret="a", sip_tls_cert="/c.pem",
                                 sip_tls_key="/k.pem", sip_tls_port=5071)
    configgen.render(settings, tmp_path / "etc")
    pjsip = (tmp_path / "etc" / "pjsip.conf").read_text()
    assert "[transport-tls]" in pjsip and "bind = 127.0.0.1:5071" in pjsip and "protocol = tls" in pjsip
    assert [t["protocol"] for t in settings.sip_transports] == ["udp", "tls"]
