"""Checks X-Twilio-Signature against PUBLIC_URL, never the URL a proxy handed us."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, request
from twilio.request_validator import RequestValidator

from notifier.config import Settings

SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(settings: Settings) -> str:
    """The URL Twilio signed: PUBLIC_URL + path (+ query), as Twilio was told to call it."""
    path = request.full_path
    if path.endswith("?"):
        path = path[:-1]
    return settings.public_url + path


def is_signed(settings: Settings) -> bool:
    """True when the request carries a valid signature made with TWILIO_AUTH_TOKEN.

    With no auth token configured nothing can be verified, so nothing is accepted.
    """
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not settings.twilio_auth_token or not signature:
        return False
    validator = RequestValidator(settings.twilio_auth_token)
    return validator.validate(signed_url(settings), request.form, signature)


def twilio_signed(settings_getter: Callable[[], Settings]) -> Callable:
    """Decorate a webhook view: 403 (JSON) and nothing done unless the request is signed."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not is_signed(settings_getter()):
                abort(403, "missing or invalid X-Twilio-Signature")
            return view(*args, **kwargs)

        return checked

    return decorate
