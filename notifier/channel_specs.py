"""The channel registry: what each channel is, in one table the domain's rules read.

The rules (who gets a delivery, what an alert may name, which settings a channel reads, whether
it records instead of sending) ask this table, never a tuple of names of their own. How channel
`x` renders and sends lives beside its provider in `channels/x.py`, found by its name
(channels/registry.py): adding a channel is that module and one line in SPECS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

RESIDENT = "resident"  # one delivery per resident, to their phone or email
BROADCAST = "broadcast"  # one delivery per target (an account, a partner system)


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    kind: str  # RESIDENT or BROADCAST
    address: str | None  # the resident's "phone" or "email"; None for broadcast channels
    callbacks: bool  # the provider reports progress later (Twilio status callbacks)
    concurrency: int  # messages in flight per worker (`<NAME>_CONCURRENCY`)
    per_second: float  # default shared pace (`<NAME>_PER_SECOND`; 0: none)
    # Whether the settings hold what a real send needs (else the channel records, sandboxed).
    configured: Callable[[object], bool]
    # The settings a real send needs, in words, for the pages and `setup-check`.
    needs: str
    # A dispatcher ticks it per alert (else it goes with every public alert: partner webhooks).
    chosen: bool = True

    @property
    def env_prefix(self) -> str:
        return self.name.upper()


def _twilio(settings) -> bool:
    return settings.twilio_configured


def _smtp(settings) -> bool:
    return bool(settings.smtp_host and settings.mail_from)


def _social(settings) -> bool:
    return bool(settings.social_urls)


def _webhook(settings) -> bool:
    return bool(settings.webhook_urls)


TWILIO_NEEDS = ("Twilio is not set up (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID)")

SPECS: tuple[ChannelSpec, ...] = (
    # SMS go at the sender's rate (notifier.sms_senders), set in Settings.from_env.
    ChannelSpec("sms", RESIDENT, "phone", True, 100, 0, _twilio, TWILIO_NEEDS),
    # Twilio's default is one call a second per number.
    ChannelSpec("voice", RESIDENT, "phone", True, 10, 1, _twilio, TWILIO_NEEDS),
    # Email paces at the provider.
    ChannelSpec("email", RESIDENT, "email", False, 20, 0, _smtp,
                "no mail server is set up (SMTP_HOST and MAIL_FROM)"),
    ChannelSpec("social", BROADCAST, None, False, 2, 1, _social, "no SOCIAL_URLS are set"),
    ChannelSpec("webhook", BROADCAST, None, False, 10, 0, _webhook, "no WEBHOOK_URLS are set",
                chosen=False),
)

BY_NAME = {s.name: s for s in SPECS}
NAMES = tuple(BY_NAME)
RESIDENT_CHANNELS = tuple(s.name for s in SPECS if s.kind == RESIDENT)
BROADCAST_CHANNELS = tuple(s.name for s in SPECS if s.kind == BROADCAST)
CHOSEN_CHANNELS = tuple(s.name for s in SPECS if s.chosen)  # what the compose page offers
ADDRESS_OF = {s.name: s.address for s in SPECS if s.kind == RESIDENT}
CALLBACK_CHANNELS = tuple(s.name for s in SPECS if s.callbacks)


def spec(name: str) -> ChannelSpec:
    """The spec of channel `name`; KeyError for a name no channel has."""
    return BY_NAME[name]
