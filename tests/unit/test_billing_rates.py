"""International rates from the operator's CSV: longest prefix wins; hostile files refused whole."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pbx.billing.rates import MAX_CSV_BYTES, RateCsvError, RateTable, parse_rates

GOOD = "prefix,destination,per_minute\n44,Birleşik Krallık,2.50\n+4420,Londra,1.7500\n1,ABD ve Kanada,0.90\n"


def test_longest_matching_prefix():
    table = RateTable(parse_rates(GOOD.encode()))
    assert table.lookup("+442079460958").destination == "Londra"
    assert table.lookup("+441234567890").per_minute == Decimal("2.50")
    assert table.lookup("+12025550100").destination == "ABD ve Kanada"
    assert table.lookup("+4912345") is None


@pytest.mark.parametrize("body, problem", [
    (b"", "first line"),
    (b"prefix;destination;per_minute\n44;UK;1\n", "first line"),
    (b"prefix,destination,per_minute\n", "no rates"),
    (b"prefix,destination,per_minute\n44,UK\n", "3 columns"),
    (b"prefix,destination,per_minute\n44,UK,1,x\n", "3 columns"),
    (b"prefix,destination,per_minute\n0044,UK,1\n", "prefix"),
    (b"prefix,destination,per_minute\n44a,UK,1\n", "prefix"),
    (b"prefix,destination,per_minute\n4412345678901234,UK,1\n", "prefix"),
    (b"prefix,destination,per_minute\n44,=HYPERLINK(\"x\"),1\n", "formula"),
    (b"prefix,destination,per_minute\n44,@SUM(A1),1\n", "formula"),
    (b"prefix,destination,per_minute\n44,\"U\nK\",1\n", "printable"),
    (b"prefix,destination,per_minute\n44,UK\xe2\x80\xaetxt,1\n", "printable"),
    (b"prefix,destination,per_minute\n44,UK,-1\n", "non-negative"),
    (b"prefix,destination,per_minute\n44,UK,1.23456\n", "decimal places"),
    (b"prefix,destination,per_minute\n44,UK,NaN\n", "non-negative"),
    (b"prefix,destination,per_minute\n44,UK,1e3\n", ""),
    (b"prefix,destination,per_minute\n44,UK,5000\n", "at most 1000"),
    (b"prefix,destination,per_minute\n44,UK,1\n+44,UK again,2\n", "twice"),
    (b"prefix,destination,per_minute\n44,\xff\xfe,1\n", "UTF-8"),
    (b"prefix,destination,per_minute\n44,\"UK,1\n", "CSV"),
])
def test_hostile_files_are_refused_whole(body, problem):
    if body.endswith(b"1e3\n"):  # 1e3 is a valid Decimal (1000): accepted, no places beyond 4
        assert parse_rates(body)[0].per_minute == 1000
        return
    with pytest.raises(RateCsvError) as error:
        parse_rates(body)
    assert problem in str(error.value)


def test_oversized_files_are_refused():
    with pytest.raises(RateCsvError, match="larger"):
        parse_rates(b"x" * (MAX_CSV_BYTES + 1))
