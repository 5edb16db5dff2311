"""Signed, expiring tokens that name a delivery, for links and webhooks that carry no session.

A token is bound to one purpose (a voice TwiML URL cannot be replayed as an unsubscribe link)
by an itsdangerous salt, and signed with SECRET_KEY. The payload is only the delivery id: no
address or name travels in a URL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

VOICE, UNSUBSCRIBE, ACKNOWLEDGE = "voice", "unsubscribe", "acknowledge"
# Sign-ups on the web (notifier.signups, notifier.residents): these name a sign-up or a
# sign-in link row instead of a delivery.
SIGNUP_EMAIL, RESIDENT = "signup-email", "resident"
# How long each kind stays good: a call (and its retries) is over within hours; an
# "I received this" link matters for weeks; an unsubscribe link must work as long as a
# resident might keep the email (RFC 8058 asks for it to keep working).
MAX_AGE = {
    VOICE: timedelta(days=2),
    ACKNOWLEDGE: timedelta(days=30),
    UNSUBSCRIBE: timedelta(days=400),
    # A double opt-in mail may wait a weekend in an inbox; a sign-in link is for now.
    SIGNUP_EMAIL: timedelta(days=3),
    RESIDENT: timedelta(minutes=15),
}


class _ClockSigner(TimestampSigner):
    """A TimestampSigner whose clock can be given (`now=`), so expiry is testable."""

    def __init__(self, *args, now: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now) if self._now is not None else super().get_timestamp()


def _serializer(secret_key: str, purpose: str, now: datetime | None) -> URLSafeTimedSerializer:
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(
        secret_key, salt=f"tocsin.{purpose}", signer=_ClockSigner,
        signer_kwargs={"now": now.timestamp() if now is not None else None})


def make_token(secret_key: str, purpose: str, delivery_id: int,
               now: datetime | None = None) -> str:
    """Return a URL-safe token naming `delivery_id` for `purpose` (VOICE, UNSUBSCRIBE…)."""
    return _serializer(secret_key, purpose, now).dumps(int(delivery_id))


def read_token(secret_key: str, purpose: str, token: str,
               now: datetime | None = None) -> int | None:
    """The delivery id in `token`, or None when it is forged, for another purpose or expired."""
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer(secret_key, purpose, now).loads(
            token, max_age=int(MAX_AGE[purpose].total_seconds()))
    except BadData:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
