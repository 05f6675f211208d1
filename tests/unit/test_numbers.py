import pytest

from pbx.domain.errors import Invalid
from pbx.domain.numbers import to_e164


@pytest.mark.parametrize("raw", ["0850 123 45 67", "08501234567", "908501234567", "+90 850 123 45 67",
                                 "+90 (850) 123-45-67", "00908501234567"])
def test_the_same_number_in_every_spelling(raw):
    assert to_e164(raw) == "+908501234567"


def test_geographic_and_foreign():
    assert to_e164("0212 555 00 11") == "+902125550011"
    assert to_e164("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "abc", "0850", "+90850123456", "+9085012345678", "0850\n1234567",
                                 "+0123456789", "12345", "+1234567890123456", "٠٨٥٠١٢٣٤٥٦٧", None, 5])
def test_rejects(raw):
    with pytest.raises(Invalid):
        to_e164(raw)
