"""SMS that Twilio would refuse or carriers would mangle are refused before an alert is stored.

Twilio takes at most 1,600 characters in a message body (error 21617), and recommends no more
than 10 segments: longer concatenated messages arrive late, out of order or not at all.
"""
from __future__ import annotations

from types import SimpleNamespace

from notifier.render import render_sms, sms_info

MAX_CHARACTERS = 1600
MAX_SEGMENTS = 10


def too_long(data: dict, settings) -> list[str]:
    """One plain-words error per language whose SMS (as residents get it: prefix, agency name,
    confirmation line) exceeds a limit; [] when the alert sends no SMS or all fit."""
    if "sms" not in (data.get("channels") or []):
        return []
    alert = SimpleNamespace(status=data.get("status"), messages=data.get("messages") or {},
                            confirm=bool(data.get("confirm")))
    errors = []
    for language in alert.messages:
        text = render_sms(alert, language, settings)
        segments = sms_info(text)["segments"]
        if len(text) > MAX_CHARACTERS:
            errors.append(f"The {language} text makes an SMS of {len(text):,} characters; an SMS "
                          f"may have at most {MAX_CHARACTERS:,}. Shorten it.")
        elif segments > MAX_SEGMENTS:
            errors.append(f"The {language} text makes an SMS of {segments} segments "
                          f"({len(text):,} characters); at most {MAX_SEGMENTS} arrive reliably. "
                          "Shorten it.")
    return errors
