"""Masking residents' numbers and email addresses in free text: log lines, provider error texts.

One home for it, so the web app's access log, the workers' logs, the audit log and stored
provider errors all hide the same things the same way (`phones.mask` is the shape).
"""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from notifier.phones import mask

# What may stand between the digits of a written number, also URL-encoded (a query string
# carries `(617) 555-0100` as `%28617%29+555-0100` or `%28617%29%20555-0100`).
_SEP = r"(?:[ \t.\-()+/]|%20|%28|%29|%2B|%2D|%2E|%2F)"
_PHONE = re.compile(rf"(?<![\w%])(?:\+|%2B|\(|%28)*\d(?:{_SEP}{{0,3}}\d){{6,18}}(?![\w])",
                    re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
                    r"\.[A-Za-z]{2,}", re.IGNORECASE)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}(?::\d{2})?")


# Signed links in what residents receive: whoever holds one can unsubscribe or confirm for them.
_LIVE_LINK = re.compile(r"(/email/(?:unsubscribe|ack)/|/webhooks/twilio/voice\?d=)[^\s\"'<>&]+")


def mask_address(address: str | None) -> str:
    """A phone number or an email address as the pages show it to auditors and logs keep it:
    `+16175550100` → `+1617*****00`, `ana@example.org` → `a***@example.org`."""
    return mask(address)


def hide_links(text: str | None) -> str | None:
    """`text` with the token of every unsubscribe, confirmation or call link cut off."""
    if not text:
        return text
    return _LIVE_LINK.sub(lambda m: m.group(1) + "…", text)


def _phone(match: re.Match) -> str:
    text = match.group(0)
    if _IPV4.fullmatch(text) or _DATE.search(text):
        return text  # a client address or a time in a log line is not a resident's number
    plain = unquote(text.replace("+", " ") if not text.startswith("+") else text)
    digits = re.sub(r"\D", "", plain)
    international = plain.lstrip("(").startswith("+")
    # Bare runs under ten digits are counts, sizes and ids; a leading + says "a number".
    if len(digits) < (7 if international else 10) or len(digits) > 15:
        return text
    return mask(("+" if international else "") + digits)


def _email(match: re.Match) -> str:
    return mask(unquote(match.group(0)))


def mask_text(text: str | None) -> str | None:
    """Return `text` with every phone number (any common spelling, URL-encoded too) and every
    email address masked; None and text without either come back unchanged."""
    if not text:
        return text
    text = _EMAIL.sub(_email, str(text))
    return _PHONE.sub(_phone, text)


class MaskingFilter(logging.Filter):
    """Rewrites log records so no full phone number or email address reaches a log file.

    gunicorn's access log passes its atoms as a dict (`%(r)s`, `%(q)s`…): those are masked
    one by one, so a custom `--access-logformat` keeps working.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            # In place: gunicorn's SafeAtoms answers "-" for absent atoms, a plain dict would not.
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = mask_text(value)
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# One line per record, key=value fields (alert_id=, delivery_id=) in the message itself.
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def mask_handlers(logger: logging.Logger | None = None) -> None:
    """Put a MaskingFilter on each handler of `logger` (default: the root logger), so records
    propagated from every child logger are masked too (a logger's own filters see only its own)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
