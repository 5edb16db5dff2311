"""Phone numbers: any spelling phonenumbers parses → E.164, and masking for logs."""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

_PARSE_MESSAGES = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown or missing country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}
E164 = re.compile(r"^\+[1-9]\d{5,14}$")


def to_e164(raw: str, region: str) -> str:
    """Return `raw` as E.164 (`+16175550100`); national numbers are read in `region`.

    Accepts what phonenumbers parses: punctuation, `tel:` URIs, full-width and Arabic-Indic
    digits. Raises ValueError with a message fit for a resident when the number cannot be
    parsed or is not a valid (assigned-range) number; merely "possible" is not enough.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("Phone number is empty.")
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except NumberParseException as exc:
        reason = _PARSE_MESSAGES.get(exc.error_type, "cannot be read")
        raise ValueError(f"Phone number {reason}.") from None
    if not phonenumbers.is_valid_number(number):
        if phonenumbers.is_possible_number(number):
            raise ValueError("Phone number is not in use in its country (not a valid number).")
        raise ValueError("Phone number is not a valid number.")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """Return `number` safe for logs: `+16175550100` → `+1617*****00`; emails keep their domain."""
    if not number:
        return ""
    number = str(number)
    if "@" in number:
        local, _, domain = number.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(number) <= 6:
        return "*" * len(number)
    head = 5 if number.startswith("+") else 4
    head = min(head, len(number) // 2 - 1)
    return number[:head] + "*" * (len(number) - head - 2) + number[-2:]
