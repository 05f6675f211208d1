"""Schemathesis against the served OpenAPI document, with an operator token and with
a tenant token: no input makes the API fail with a 5xx, and every answer (status,
media type, headers, body) is one the document describes."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 12  # per operation and token: the whole run stays around a minute or two
FAR = 10**9  # ids far above any real object's: the session's other tests share this stack



def aim(case, tenant_id: int):
    """tenant_id: the fuzz tenant's (so answers include real 2xx bodies to check),
    except where an operator would delete it; every other id far from real objects,
    so a fuzzed DELETE /trunks/1 does not remove another test's carrier (nor a fuzzed
    bulk plan change downgrade the session's tenants)."""
    deleting_tenant = case.method == "DELETE" and case.path == "/api/v1/tenants/{tenant_id}"
    params = {}
    for name, value in (case.path_parameters or {}).items():
        if name == "tenant_id" and not deleting_tenant:
            params[name] = tenant_id
        elif isinstance(value, int) and not isinstance(value, bool):
            params[name] = value + FAR
        else:
            params[name] = value
    case.path_parameters = params
    if isinstance(case.body, dict) and isinstance(case.body.get("tenant_ids"), list):  # a bulk plan change
        case.body["tenant_ids"] = [value + FAR if isinstance(value, int) and not isinstance(value, bool)
                                   else value for value in case.body["tenant_ids"]]
    return case


def fuzz_all(stack, token: str, tenant_id: int) -> int:
    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"
    schema = schemathesis.openapi.from_url(base + "/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        @given(case=operation.as_strategy().map(lambda case: aim(case, tenant_id)))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def fuzz(case):
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        fuzz()
    return len(operations)


def test_every_answer_matches_the_document_for_an_operator(stack):
    tenant, _ = stack.new_tenant("enterprise")
    assert fuzz_all(stack, stack.operator.token, tenant["id"]) >= 50


def test_every_answer_matches_the_document_for_a_tenant(stack):
    tenant, api = stack.new_tenant("kobi")
    assert fuzz_all(stack, api.token, tenant["id"]) >= 50


def test_spec_is_served_and_names_the_contract_paths(stack):
    spec = stack.operator.ok("GET", "/openapi.json")
    for path in ("/api/v1/tenants", "/api/v1/tenants/{tenant_id}", "/api/v1/tenants/{tenant_id}/tokens",
                 "/api/v1/tenants/{tenant_id}/extensions",
                 "/api/v1/tenants/{tenant_id}/extensions/{extension_id}",
                 "/api/v1/tenants/{tenant_id}/extensions/{extension_id}/status",
                 "/api/v1/tenants/{tenant_id}/number-allocations"):
        assert path in spec["paths"], path
    number = spec["paths"]["/api/v1/tenants/{tenant_id}/numbers"]["post"]
    assert {"201", "403", "409", "413", "422", "429"} <= set(number["responses"])
    assert number["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["destination"] == {
        "$ref": "#/components/schemas/Destination"}
    assert {"$ref": "#/components/schemas/ScheduleDest"} in spec["components"]["schemas"]["Destination"]["oneOf"]
    assert "403" in spec["paths"]["/api/v1/tenants/{tenant_id}/reports/detailed"]["get"]["responses"]


def test_a_wrong_method_names_the_allowed_ones(stack):
    response = stack.operator.request("PUT", "/tenants")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(",")) >= {"GET", "POST"}
