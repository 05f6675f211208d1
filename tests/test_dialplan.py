"""The dialplan only uses what the running Asterisk has loaded (a missing module
fails only when a call reaches that line, so check them all up front)."""
from __future__ import annotations

import re

import pytest

from pbx.config import SOURCE_DIR

pytestmark = [pytest.mark.asterisk]
DIALPLAN = (SOURCE_DIR / "dialplans" / "pbx.conf").read_text()


def used_applications() -> set[str]:
    return set(re.findall(r"^\s*(?:exten\s*=>\s*[^,]+,\s*[^,]+|same\s*=>\s*[^,]+),\s*(\w+)\(", DIALPLAN, re.M))


def used_functions() -> set[str]:
    return set(re.findall(r"\$\{(\w+)\(", DIALPLAN)) | set(re.findall(r"\b(\w+)\(\s*[^)]*\)\s*=", DIALPLAN))


def test_every_application_and_function_is_loaded(stack):
    apps = stack.asterisk.cli("core show applications").lower()
    functions = stack.asterisk.cli("core show functions").lower()
    assert used_applications() >= {"Dial", "AGI", "Playback", "Read", "ExecIf"}
    for app in used_applications():
        assert f" {app.lower()}:" in apps, f"application {app} is not loaded"
    for function in used_functions() - {"Set", "ExecIf"}:
        assert f"{function.lower()} " in functions, f"function {function} is not loaded"


def test_the_dialplan_loads_without_errors(stack):
    assert "pbx-apply" in stack.asterisk.cli("dialplan show pbx-apply")
    log = (stack.settings.asterisk_instance_dir / "log" / "messages.log").read_text()
    assert "No application" not in log
