"""Settings that end up in residents' messages and are still at the demo's defaults.

A fresh install sends as "Tocsin demo", with no contact, in UTC, with links to 127.0.0.1:
fine for a trial, wrong for a town. `make run` prints these at start and the dashboard warns
while any is left, so nobody finds out from a resident. Optional settings left unset (a feature
not switched on, such as machine translation) are named apart, once, and never warned about.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from notifier.config import Settings

DEMO_AGENCY = "Tocsin demo"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class Finding:
    setting: str  # the environment variable
    value: str | None  # its value now (None: unset)
    seen_in: str  # where residents meet it
    example: str  # what a town would set


def findings(settings: Settings) -> list[Finding]:
    """The resident-facing settings still at their defaults, in the order they matter."""
    out = []
    if settings.agency_name == DEMO_AGENCY:
        out.append(Finding("AGENCY_NAME", settings.agency_name,
                           "the start of every SMS, email senders and subjects, voice calls, "
                           "CAP senderName", 'AGENCY_NAME="Springfield Police"'))
    if not settings.agency_contact:
        out.append(Finding("AGENCY_CONTACT", None,
                           "HELP replies, emails and CAP contact: where residents ask questions",
                           'AGENCY_CONTACT="311 or springfield.gov/alerts"'))
    if settings.timezone == "UTC":
        out.append(Finding("TIMEZONE", settings.timezone,
                           "times in messages (expiry, 'until' times) and on the pages",
                           "TIMEZONE=America/New_York"))
    if (urlsplit(settings.public_url).hostname or "") in LOCAL_HOSTS:
        out.append(Finding("PUBLIC_URL", settings.public_url,
                           "links in emails (confirm, unsubscribe), the public alert page and "
                           "CAP feeds: a resident cannot open 127.0.0.1",
                           "PUBLIC_URL=https://alerts.springfield.gov"))
    return out


def optional_unset(settings: Settings) -> list[Finding]:
    """Optional features whose setting is unset: nothing is wrong, they are simply off."""
    out = []
    if not settings.translate_url:
        out.append(Finding("TRANSLATE_URL", None,
                           "machine translations of alert texts on the compose page (marked, "
                           "with a note to residents, and accepted before a live send)",
                           "TRANSLATE_URL=http://127.0.0.1:5005 (a self-hosted LibreTranslate; "
                           "TRANSLATE_API_KEY if it asks for one)"))
    return out


def optional_text(settings: Settings) -> str:
    """One line per optional feature left off (empty when all are set)."""
    return "\n".join(f"Optional, not set: {f.setting} — {f.seen_in}; e.g. {f.example}"
                     for f in optional_unset(settings))


def startup_text(settings: Settings) -> str:
    """The block `make run` prints (empty when every setting is set)."""
    found = findings(settings)
    if not found:
        return ""
    lines = ["Residents will see these settings, still at the demo's defaults:"]
    for f in found:
        now = f.value if f.value is not None else "(not set)"
        lines.append(f"  {f.setting} = {now}\n      seen in: {f.seen_in}\n      e.g. {f.example}")
    lines.append("Set them in the environment before residents sign up (for example "
                 "`export AGENCY_NAME=...`), then start again.")
    return "\n".join(lines)
