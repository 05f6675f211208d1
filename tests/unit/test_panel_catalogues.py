"""The panel's strings: both catalogues hold every key the code names, and nothing else."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pbx.panel import STATIC

CATALOGUES = {code: json.loads((STATIC / "i18n" / f"{code}.json").read_text("utf-8")) for code in ("tr", "en")}
SOURCES = {path.name: path.read_text("utf-8") for path in (STATIC / "js").rglob("*.js")}
KEY = re.compile(r"""["'`]((?:[a-z]+)\.[a-z_]+)["'`]""")
FAMILY = re.compile(r"""`([a-z]+)\.\$\{""")


def _namespaces() -> set[str]:
    return {key.split(".")[0] for key in CATALOGUES["tr"]}


def used_keys() -> set[str]:
    """Every quoted "namespace.key" in the code whose namespace is a catalogue's (so import
    paths like "./lib.js" are not taken for keys)."""
    namespaces = _namespaces()
    return {key for text in SOURCES.values() for key in KEY.findall(text) if key.split(".")[0] in namespaces
            and not key.endswith("js")}


def test_both_catalogues_have_the_same_keys():
    assert set(CATALOGUES["tr"]) == set(CATALOGUES["en"])


def test_every_string_is_filled_in_both():
    for code, catalogue in CATALOGUES.items():
        assert all(value.strip() for value in catalogue.values()), code


def test_every_key_the_code_uses_is_in_both():
    for code, catalogue in CATALOGUES.items():
        missing = used_keys() - set(catalogue)
        assert not missing, f"{code} lacks {sorted(missing)}"


def test_no_key_goes_unused():
    """The "nothing else" half: a key the code no longer names (or builds, as a family) goes."""
    families = {family for text in SOURCES.values() for family in FAMILY.findall(text)}
    unused = {key for key in CATALOGUES["tr"] if key not in used_keys() and key.split(".")[0] not in families}
    assert not unused, sorted(unused)


def test_key_families_built_at_run_time_exist():
    families = {family for text in SOURCES.values() for family in FAMILY.findall(text)}
    assert families >= {"plan", "role", "disposition", "direction", "dest", "feature", "nav"}
    for family in families:
        assert any(key.startswith(family + ".") for key in CATALOGUES["tr"]), family
    expected = {f"disposition.{d}" for d in ("answered", "no_answer", "busy", "failed", "refused", "ringing")}
    expected |= {f"plan.{p}" for p in ("girisimci", "kobi", "enterprise")}
    expected |= {f"role.{r}" for r in ("operator", "tenant_admin", "agent")}
    expected |= {f"direction.{d}" for d in ("inbound", "outbound", "internal")}
    expected |= {f"nav.{s}" for s in ("dashboard", "extensions", "prompts", "ivrs", "calls", "tenants", "numbers", "ring_groups", "reports", "schedules", "voicemail", "trunks", "users")}
    assert expected <= set(CATALOGUES["tr"])


def test_placeholders_match_between_languages():
    for key, turkish in CATALOGUES["tr"].items():
        assert set(re.findall(r"\{\w+\}", turkish)) == set(re.findall(r"\{\w+\}", CATALOGUES["en"][key])), key


def test_turkish_is_turkish():
    assert CATALOGUES["tr"]["nav.ivrs"] == "IVR Senaryoları"
    assert "İ" in CATALOGUES["tr"]["plan.kobi"]
