"""Whatever text a caller id or a call id holds, the query languages get it back as exactly
that text: SOSL phrases, SOQL literals and OData literals, decoded by the same strict
parsers the local Salesforce and Dynamics use. Plus the shared activity wording."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, strategies as st

from pbx.crm import activity
from pbx.crm.base import CallLog
from pbx.crm.dynamics import odata_string, phone_filter
from pbx.crm.salesforce import search_statement, soql_string
from tests.support.odata_syntax import parse_filter
from tests.support.salesforce_syntax import parse_soql, parse_sosl

hostile = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from(
    ['"} IN ALL FIELDS RETURNING User(Id)', "\\", "'", "''", "\\'", "' or 1 eq 1 or '", "\n)", "\u202e05"])


@given(hostile)
def test_any_text_is_one_sosl_phrase_per_number_form(text):
    from pbx.crm.base import number_forms

    assert parse_sosl(search_statement(text)).phrases == number_forms(text)


@given(hostile)
def test_any_text_is_one_soql_literal(text):
    query = parse_soql(f"SELECT Id FROM Task WHERE CallObject = {soql_string(text)} LIMIT 1")
    assert (query.where_value, query.limit) == (text, 1)


@given(hostile)
def test_any_text_is_one_odata_literal(text):
    assert parse_filter(f"telephone1 eq {odata_string(text)}") == [("telephone1", text)]
    assert all(field in ("telephone1", "mobilephone") for field, _ in parse_filter(phone_filter(text)))


def _call(direction="inbound", disposition="BUSY") -> CallLog:
    return CallLog(call_id="1.2", direction=direction, caller="+905321234567", callee="+908501234567",
                   started_at=datetime(2026, 6, 30, 21, 15, tzinfo=timezone.utc), duration_s=3,
                   disposition=disposition, extension=None)


def test_party_subject_and_local_date():
    assert activity.party_number(_call()) == "+905321234567"
    assert activity.party_number(_call("outbound")) == "+908501234567"
    assert activity.party_number(_call("internal")) is None
    assert activity.subject(_call(), "+905321234567") == "Gelen arama +905321234567 (meşgul)"
    assert activity.local_time(_call().started_at).date().isoformat() == "2026-07-01"
    assert "Dahili" not in activity.description(_call())


def test_money_and_searchable():
    assert [activity.money(v) for v in (1250.5, "10", 0, None, True, "x")] == ["1250.50", "10.00", "0.00",
                                                                              None, None, None]
    assert activity.searchable("+905321234567") and not activity.searchable("anonymous")
    assert not activity.searchable("1" * 65) and not activity.searchable(None)
