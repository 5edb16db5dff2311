"""Public ids: the short, unguessable name of an alert in its public page's address (/a/<id>).

Made once when the alert is created and never changed, so a link printed in an SMS or a post
keeps working. Random, not derived from the row id or the CAP identifier: nobody can walk the
ids to find drafts, exercises or tests (their pages are 404 anyway, and say nothing more).
"""
from __future__ import annotations

import re
import secrets

# 9 random bytes → 12 URL-safe characters (72 bits): short enough for an SMS, and a collision
# among a million alerts has odds of about 1 in 10^10 (the unique index would refuse it).
RANDOM_BYTES = 9
LENGTH = 12
_SHAPE = re.compile(r"[A-Za-z0-9_-]{%d}" % LENGTH)


def new_public_id() -> str:
    """A fresh public id (secrets.token_urlsafe: URL-safe base64 without padding)."""
    return secrets.token_urlsafe(RANDOM_BYTES)


def looks_like(value: str) -> bool:
    """True when `value` could be a public id (anything else is not looked up at all)."""
    return bool(_SHAPE.fullmatch(value or ""))


def public_url(settings, public_id: str) -> str:
    """The page's address as readers reach it: PUBLIC_URL + /a/<public id>."""
    return f"{settings.public_url}/a/{public_id}"


def page_url(settings, alert) -> str:
    """The page an alert's post or long SMS links to. An alert not stored yet (the compose
    page's count) gets a stand-in id of the same length, so its posts are sized as they will be."""
    return public_url(settings, getattr(alert, "public_id", None) or new_public_id())
