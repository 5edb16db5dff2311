"""Time-based one-time codes (RFC 6238) for the second step of signing in."""
from __future__ import annotations

import re
from datetime import datetime

import pyotp

# One step either side: a phone's clock a little off, or a code typed just as it changed.
WINDOW = 1
DIGITS = 6
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """Return a fresh random secret in base32 (160 bits, as authenticator apps expect)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """Return the `otpauth://` URI an authenticator app reads (from a QR code or a tap)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to read aloud or type by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def clean_code(code: str | None) -> str:
    """The code as typed, without spaces or dashes ("123 456" → "123456")."""
    return re.sub(r"[\s-]", "", code or "")


def matching_step(secret: str, code: str | None, now: datetime,
                  after_step: int | None = None) -> int | None:
    """Return the time step whose code `code` is (within ±WINDOW steps of `now`), else None.

    Steps at or before `after_step` never match: a code once accepted cannot be replayed.
    """
    code = clean_code(code)
    if not secret or not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    # Every candidate is compared (no early exit), so the time taken says nothing.
    for step in range(current - WINDOW, current + WINDOW + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            if after_step is None or step > after_step:
                found = step
    return found


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator shows at `now` (for tests and the CLI)."""
    return pyotp.TOTP(secret).at(now)
