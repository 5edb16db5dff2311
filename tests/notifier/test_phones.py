"""notifier.phones: every spelling of a number becomes one E.164; logs see it masked."""
import pytest

from notifier.phones import mask, to_e164


@pytest.mark.parametrize("raw, region, expected", [
    ("(617) 555-0100", "US", "+16175550100"),
    ("617.555.0100", "US", "+16175550100"),
    ("+1 617 555 0100", "GB", "+16175550100"),
    ("tel:+1-617-555-0100", "US", "+16175550100"),
    ("tel:617-555-0100;phone-context=+1", "US", "+16175550100"),
    ("＋１ ６１７ ５５５ ０１００", "US", "+16175550100"),  # full-width
    ("٦١٧٥٥٥٠١٠٠", "US", "+16175550100"),  # Arabic-Indic digits
    ("020 7946 0958", "GB", "+442079460958"),
    ("  +44 20 7946 0958 ", "US", "+442079460958"),
])
def test_it_turns_equivalent_spellings_into_one_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw, words", [
    ("", "empty"),
    ("   ", "empty"),
    ("call me", "not a phone number"),
    ("+1 200 555 0100", "not in use"),  # possible (10 digits) but 200 is no US area code
    ("+1 617 555 01", "not a valid"),
    ("12", "not a valid"),
    ("+999 1234567", "country code"),
])
def test_it_refuses_numbers_that_are_not_valid_with_a_message(raw, words):
    with pytest.raises(ValueError) as caught:
        to_e164(raw, "US")
    assert words in str(caught.value)


def test_a_merely_possible_number_is_not_enough():
    import phonenumbers

    number = phonenumbers.parse("+12005550100")
    assert phonenumbers.is_possible_number(number)
    with pytest.raises(ValueError):
        to_e164("+12005550100", "US")


@pytest.mark.parametrize("value, expected", [
    ("+16175550100", "+1617*****00"),
    ("+442079460958", "+4420******58"),
    ("5550100", "55***00"),
    ("1234", "****"),
    ("", ""),
    (None, ""),
    ("ana@example.org", "a***@example.org"),
])
def test_mask_hides_the_middle_of_an_address(value, expected):
    assert mask(value) == expected
