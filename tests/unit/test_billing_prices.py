"""The price catalogue, seed 001's circuit tariff, KDV and the invoice arithmetic."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pbx.billing import catalogue
from pbx.billing.circuits import circuit_charge
from pbx.billing.invoice import Usage, billed_minutes, invoice
from pbx.billing.money import kurus, text
from pbx.billing.rates import Rate, RateTable

CATALOGUE = catalogue.load()
TARIFF = CATALOGUE.circuits
D = Decimal


def test_the_catalogue_holds_the_knowledge_bases_prices():
    assert CATALOGUE.plan_monthly == {"girisimci": D("250.00"), "kobi": D("700.00")}
    assert CATALOGUE.extra_extension_monthly == D("40.00")
    assert CATALOGUE.kdv_rate == D("0.20")
    assert (CATALOGUE.trial_days, CATALOGUE.commitment_months) == (30, 12)


@pytest.mark.parametrize("circuits, charge", [
    (0, "6000.00"), (1, "6000.00"), (50, "6000.00"), (51, "6099.00"), (100, "10950.00"),
    (120, "12830.00"), (601, str(6000 + 50 * 99 + 100 * 94 + 200 * 90 + 200 * 85 + 1 * 81) + ".00"),
])
def test_seed_001_graduated_tariff(circuits, charge):
    assert text(circuit_charge(TARIFF, circuits)) == charge


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        circuit_charge(TARIFF, -1)


def test_circuit_invoice_lines_add_up_and_kdv_is_20_percent():
    result = invoice(CATALOGUE, Usage("enterprise", circuit_pricing=True, max_circuits=120), RateTable([]))
    assert [(str(l.quantity), text(l.unit_price), text(l.amount)) for l in result.lines] == [
        ("1", "6000.00", "6000.00"), ("50", "99.00", "4950.00"), ("20", "94.00", "1880.00")]
    assert (text(result.subtotal), text(result.kdv), text(result.total)) == ("12830.00", "2566.00", "15396.00")


def test_kurus_rounds_half_up():
    assert kurus(D("0.005")) == D("0.01") and kurus(D("0.0049")) == D("0.00") and kurus(D("2.675")) == D("2.68")


@pytest.mark.parametrize("billsec, minutes", [(0, 0), (1, 1), (60, 1), (61, 2), (720, 12)])
def test_each_started_minute_is_billed(billsec, minutes):
    assert billed_minutes(billsec) == minutes


def test_kobi_with_three_extra_extensions_and_twelve_international_minutes():
    rates = RateTable([Rate("44", "Birleşik Krallık", D("2.50")), Rate("4420", "Londra", D("1.75"))])
    usage = Usage("kobi", extra_extensions=3, international_calls=[("+442079460958", 300), ("+442079460958", 401),
                                                                   ("+4412", 10)])
    result = invoice(CATALOGUE, usage, rates)
    assert [(l.description, str(l.quantity), text(l.unit_price), text(l.amount)) for l in result.lines] == [
        ("KOBİ paketi aylık ücreti", "1", "700.00", "700.00"),
        ("Ek dahili hat", "3", "40.00", "120.00"),
        ("Uluslararası arama: Birleşik Krallık (+44, dakika)", "1", "2.50", "2.50"),
        ("Uluslararası arama: Londra (+4420, dakika)", "12", "1.75", "21.00"),  # 5 + 7 started minutes
    ]
    assert (text(result.subtotal), text(result.kdv), text(result.total)) == ("843.50", "168.70", "1012.20")


def test_a_trial_month_costs_nothing():
    result = invoice(CATALOGUE, Usage("kobi", extra_extensions=2, in_trial=True), RateTable([]))
    assert text(result.total) == "0.00" and len(result.lines) == 2


def test_enterprise_needs_its_agreed_price():
    with pytest.raises(ValueError):
        invoice(CATALOGUE, Usage("enterprise"), RateTable([]))
    assert text(invoice(CATALOGUE, Usage("enterprise", enterprise_monthly=D("4500.00")), RateTable([])).total) == "5400.00"
