"""The porting document upload's OpenAPI entry says what it takes."""
from __future__ import annotations

from pbx.api.app import all_routes
from pbx.api.openapi import document

SPEC = document(all_routes())
BASE = "/api/v1/tenants/{tenant_id}/porting-requests"


def test_the_document_upload_describes_its_own_media_and_limits():
    responses = SPEC["paths"][BASE + "/{request_id}/document"]["put"]["responses"]
    assert "PDF, JPEG or PNG" in responses["415"]["description"]  # not the prompts' MP3 or WAV
    assert {"200", "401", "403", "404", "409", "413", "415", "422"} <= set(responses)
    assert responses["200"]["content"]["application/json"]["schema"]

