"""Schemathesis on the recordings routes only: no query, path or body makes them fail
with a 5xx, against a tenant that does not exist and against one that does."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


def _with_tenant(tenant_id: int | None):
    def fix(case):
        params = dict(case.path_parameters or {})
        for name, value in params.items():
            if isinstance(value, int) and not isinstance(value, bool):
                params[name] = tenant_id if (name == "tenant_id" and tenant_id) else value + 10**9
        case.path_parameters = params
        return case
    return fix


@pytest.mark.parametrize("real_tenant", [False, True])
def test_recordings_routes_never_fail_with_a_server_error(stack, real_tenant):
    tenant, _ = stack.new_tenant("kobi")
    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"
    schema = schemathesis.openapi.from_url(base + "/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {stack.operator.token}"}
    operations = [r.ok() for r in schema.get_all_operations() if "/recordings" in r.ok().path]
    assert len(operations) == 7  # with the destruction records (operators)
    for operation in operations:
        @given(case=operation.as_strategy().map(_with_tenant(tenant["id"] if real_tenant else None)))
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def fuzz(case):
            case.call_and_validate(base_url=base, headers=headers, checks=[not_a_server_error])

        fuzz()
