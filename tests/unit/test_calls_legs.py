"""CDR fields -> legs: strict about everything that comes from Asterisk or the network."""
from __future__ import annotations

import pytest

from pbx.asterisk import cdrfields
from pbx.calls.cdrfile import parse_lines
from pbx.calls.legs import parse_leg, parse_quality

RTCP = ("ssrc=9;themssrc=8;lp=2;rxjitter=0.004000;rxcount=198;txjitter=0.002000;txcount=200;rlp=5;"
        "rtt=0.000900;rxmes=88.0;txmes=88.0;     minrtt=000.000900;     maxrtt=000.000915;     avgrtt=000.020000;")


def fields(**overrides) -> dict[str, str]:
    base = {"PbxUniqueid": "1795441522.0", "PbxSequence": "3", "PbxLinkedid": "1795441522.0",
            "PbxStart": "1795441522.618611", "PbxAnswer": "1795441522.635215", "PbxEnd": "1795441526.730106",
            "PbxDisposition": "ANSWERED", "PbxTenant": "7", "PbxRoute": "route", "PbxAction": "dial",
            "PbxDialled": "102", "PbxCaller": "101", "PbxCallee": "102", "PbxOutcome": "", "PbxRecording": "",
            "PbxRtcp": RTCP}
    return base | overrides


def test_a_complete_record():
    leg = parse_leg(fields())
    assert leg.key == ("1795441522.0", 3) and leg.tenant_id == 7 and leg.dialled == "102"
    assert leg.start < leg.answer < leg.end and leg.start.tzinfo is not None
    assert leg.quality.jitter_ms == 4.0 and leg.quality.rtt_ms == 20.0
    assert leg.quality.loss_percent == 2.5  # the worse way: 5 of 200 sent vs 2 of 200 received


def test_unanswered_time_zero_is_no_answer_time():
    assert parse_leg(fields(PbxAnswer="0.000000", PbxDisposition="NO ANSWER")).answer is None


@pytest.mark.parametrize("key, value", [
    ("PbxUniqueid", "1.2\n"), ("PbxUniqueid", "x"), ("PbxUniqueid", ""), ("PbxLinkedid", "1;2"),
    ("PbxSequence", "-1"), ("PbxSequence", "١٢"), ("PbxSequence", "9" * 40), ("PbxDisposition", "WHATEVER"),
    ("PbxStart", "nan"), ("PbxStart", "inf"), ("PbxStart", "1e400"), ("PbxStart", "-5"), ("PbxEnd", ""),
])
def test_records_without_a_sound_identity_or_times_are_dropped(key, value):
    assert parse_leg(fields(**{key: value})) is None


@pytest.mark.parametrize("key, attribute", [
    ("PbxTenant", "tenant_id"), ("PbxRoute", "route"), ("PbxAction", "action"), ("PbxDialled", "dialled"),
    ("PbxCaller", "caller"), ("PbxCallee", "callee"), ("PbxOutcome", "outcome"), ("PbxRecording", "recording"),
])
@pytest.mark.parametrize("hostile", ["1;evil", "1\r\nEvent: Fake", "' OR 1=1 --", "${EXTEN}", "9" * 100,
                                     "../../etc/passwd", "١٠١"])
def test_hostile_tag_values_are_dropped_not_stored(key, attribute, hostile):
    leg = parse_leg(fields(**{key: hostile}))
    assert leg is not None and getattr(leg, attribute) is None


def test_tenant_zero_is_no_tenant():
    assert parse_leg(fields(PbxTenant="0")).tenant_id is None


@pytest.mark.parametrize("text", ["", "garbage", "rxcount=1", "rxjitter=nan;rxcount=1;txcount=1" + "x" * 2000])
def test_quality_needs_counts(text):
    assert parse_quality(text) is None


def test_quality_ignores_hostile_numbers():
    quality = parse_quality("rxjitter=inf;txjitter=-3;rxcount=10;txcount=10;lp=-4;rlp=50;rtt=1e300")
    assert quality.jitter_ms == 0 and quality.loss_percent == 100.0 and quality.rtt_ms == 0


def test_the_csv_copy_parses_like_the_ami_event_and_skips_broken_lines():
    good = ",".join(f'"{fields()[key]}"' for key in cdrfields.KEYS)
    data = (good + "\n" + '"a","b"\n' + good.replace('"3"', '"4"') + "\n" + '"unterminated\n').encode()
    assert [leg.sequence for leg in parse_lines(data)] == [3, 4]

