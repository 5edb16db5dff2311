"""Signs requests the way Twilio does, for webhook tests (X-Twilio-Signature)."""
from __future__ import annotations

from typing import Mapping

from twilio.request_validator import RequestValidator

from notifier.config import Settings


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Return the X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def signed_post(client, url_path: str, params: Mapping[str, str], settings: Settings,
                auth_token: str | None = None):
    """POST `params` as a form to `url_path` (path + query) with a valid Twilio signature.

    The signature covers `settings.public_url` + `url_path`, as Twilio signs the public URL it
    was given, not the address the app sees behind a proxy. Returns the test client's response.
    """
    token = auth_token or settings.twilio_auth_token
    signature = sign(settings.public_url + url_path, params, token)
    return client.post(url_path, data=dict(params), headers={"X-Twilio-Signature": signature})
