"""Failed sign-ins: how many are let through, how long to wait after, and what the audit log keeps.

The numbers live here; the counters that apply them live in Redis (admin_ui/pages/throttle.py),
so that every web process sees the same counts and an attempt is counted before its password
is checked.

- Per (account, client address): MAX_FAILURES failures go through at once; after that each
  further attempt waits FIRST_DELAY_SECONDS, doubling, at most MAX_DELAY_SECONDS. Failures
  from one address never delay the same account at another address, so an attacker cannot
  lock the real person out.
- Per client address, across all names: ADDRESS_LIMIT failures per WINDOW_SECONDS, then every
  sign-in from that address is refused until the window ends (one password tried on many names).
- Audit: a failure is recorded when its count is 1, 2, 4, 8, … (`audit_due`), with the count,
  so a flood adds a few rows, not one per request. An unknown name is never stored as typed
  (it may be a password typed in the wrong box): only a keyed fingerprint of it.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import audit
from notifier.models import User

MAX_FAILURES = 5
# Failures are forgotten this long after the last one (plus the wait it started).
WINDOW_SECONDS = 15 * 60
FIRST_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 15 * 60
ADDRESS_LIMIT = 20
# 32 bits of HMAC: enough to see one mistyped name come back, too few to confirm a guessed
# password against the log.
_FINGERPRINT_HEX = 8


def delays() -> tuple[int, ...]:
    """Seconds to wait after the MAX_FAILURES-th failure, after the next, …; the last repeats.

    (60, 120, 240, 480, 900) with the numbers above.
    """
    out, delay = [], FIRST_DELAY_SECONDS
    while delay < MAX_DELAY_SECONDS:
        out.append(delay)
        delay *= 2
    out.append(MAX_DELAY_SECONDS)
    return tuple(out)


def audit_due(count: int) -> bool:
    """True for the 1st, 2nd, 4th, 8th, … event of a kind: the log grows with log2 of a flood."""
    return count >= 1 and count & (count - 1) == 0


def name_fingerprint(name: str, key: str) -> str:
    """A keyed, shortened fingerprint of a typed name: the same name gives the same text."""
    digest = hmac.new(key.encode("utf-8"), b"sign-in name\0" + name.encode("utf-8"),
                      hashlib.sha256).hexdigest()
    return digest[:_FINGERPRINT_HEX]


def audit_object(session: Session, name: str, key: str) -> tuple[str, bool]:
    """Return (the audit object for a sign-in as `name`, whether that account exists).

    An existing account is named (`user:dana`); anything else is `name:<fingerprint>`.
    """
    name = (name or "").strip()
    known = bool(name) and session.scalar(select(User.id).where(User.name == name)) is not None
    return (f"user:{name}", True) if known else (f"name:{name_fingerprint(name, key)}", False)


def record_failure(session: Session, name: str, address: str, failures: int,
                   count_unknown_name: Callable[[], int], key: str, now: datetime) -> bool:
    """Audit a wrong password for `name` from `address` when its count is due; True if recorded.

    `failures` counts this account's failures at this address; an unknown name is counted
    instead by `count_unknown_name()`, one count for every address together.
    """
    obj, known = audit_object(session, name, key)
    if known:
        count, details = failures, {"address": address, "failures": failures}
    else:
        count = count_unknown_name()
        details = {"address": address, "unknown_name_failures": count}
    if not audit_due(count):
        return False
    audit.record(session, "anonymous", "user.login_failed", obj, details, now)
    return True


def record_refusal(session: Session, name: str, address: str, scope: str, refused: int,
                   retry_after: int, key: str, now: datetime) -> bool:
    """Audit an attempt refused unchecked, when the address's `refused` count is due."""
    if not audit_due(refused):
        return False
    obj, _known = audit_object(session, name, key)
    audit.record(session, "anonymous", "user.login_throttled", obj,
                 {"address": address, "scope": scope, "refused": refused,
                  "retry_after": retry_after}, now)
    return True
