"""Twilio webhooks store their work or answer 503: never a 200 for a callback that was dropped.

Twilio treats any 2xx as "done" and never sends that callback again, so a status or an inbound
STOP that could not be committed (database locked, unreachable, timed out) must get a 5xx. The
wait for a lock is bounded well under Twilio's 15 s read timeout, so the 503 arrives while
Twilio is still listening rather than after it gave up.
"""
from __future__ import annotations

import logging
from functools import wraps

from flask import Response
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

from admin_ui import db

log = logging.getLogger(__name__)

# Seconds a webhook's transaction waits for a database lock before it answers 503.
LOCK_TIMEOUT_SECONDS = 3
RETRY_AFTER_SECONDS = 5
STORE_ERRORS = (DBAPIError, PoolTimeout)


def retry_later() -> Response:
    """503 with Retry-After and an empty TwiML body (Twilio reads TwiML on every webhook)."""
    response = Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', status=503,
                        mimetype="text/xml")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def stored_or_retry_later(view):
    """Run `view` in a transaction with a bounded lock wait and commit it before answering;
    a database failure anywhere in it (the commit included) answers `retry_later()`."""

    @wraps(view)
    def stored(*args, **kwargs):
        session = db()
        try:
            # Opens the transaction with the short lock wait (notifier.db's `lock_timeout`).
            session.connection(execution_options={"lock_timeout": LOCK_TIMEOUT_SECONDS})
            response = view(*args, **kwargs)
            if response.status_code < 400:
                session.commit()
        except STORE_ERRORS as exc:
            session.rollback()
            orig = getattr(exc, "orig", None) or exc
            log.warning("webhook not stored, asking Twilio to retry: %s: %s",
                        type(orig).__name__, str(orig).splitlines()[0] if str(orig) else "")
            return retry_later()
        return response

    return stored
