"""What each channel will do with a message under these settings: send it for real, record it
in the sandbox (simulated: nobody receives it), or nothing at all (it cannot send).

One answer for the compose page, the preview, the alert page, the API and the workers, so a
dispatcher is told before sending what the fan-out will do.
"""
from __future__ import annotations

from dataclasses import dataclass

from notifier import channel_specs
from notifier.config import Settings

LIVE = "live"
SANDBOX = "sandbox"
UNAVAILABLE = "unavailable"

ALERT_CHANNELS = channel_specs.CHOSEN_CHANNELS


@dataclass(frozen=True)
class ChannelState:
    channel: str
    mode: str  # LIVE, SANDBOX or UNAVAILABLE
    reason: str | None = None  # why it is not LIVE, in words for a dispatcher

    @property
    def sendable(self) -> bool:
        return self.mode != UNAVAILABLE

    @property
    def simulated(self) -> bool:
        return self.mode == SANDBOX

    def as_dict(self) -> dict:
        return {"mode": self.mode, "reason": self.reason}


def _missing_credentials(channel: str, settings: Settings) -> str | None:
    """The settings a real `channel` lacks, in words; None when it has what it needs."""
    found = channel_specs.spec(channel)
    return None if found.configured(settings) else found.needs


def state_of(channel: str, settings: Settings) -> ChannelState:
    """The ChannelState of `channel` (one of ALERT_CHANNELS) under `settings`."""
    found = channel_specs.spec(channel)
    if found.kind == channel_specs.BROADCAST and not found.configured(settings):
        # No account or partner to post to: offering it would promise a post nobody sees.
        return ChannelState(channel, UNAVAILABLE, f"{found.needs}, so there is nothing to post to")
    if (channel == "voice" and not settings.sandbox_explicit and settings.twilio_configured
            and not settings.twilio_from_number):
        return ChannelState(channel, UNAVAILABLE,
                            "calls need a caller number (TWILIO_FROM_NUMBER); a messaging "
                            "service sends SMS only")
    if settings.sandbox_explicit:
        return ChannelState(channel, SANDBOX,
                            "training mode (SANDBOX=1): messages are recorded, nobody receives them")
    missing = _missing_credentials(channel, settings)
    if missing:
        return ChannelState(channel, SANDBOX,
                            f"{missing}: messages are recorded, nobody receives them")
    return ChannelState(channel, LIVE)


def channel_states(settings: Settings, channels=ALERT_CHANNELS) -> dict[str, ChannelState]:
    """{channel: ChannelState} for `channels`, in their order."""
    return {c: state_of(c, settings) for c in channels}


def unavailable_errors(channels, settings: Settings) -> list[str]:
    """One sentence per chosen channel that cannot send (empty when all can)."""
    return [f"{c.upper() if c == 'sms' else c.capitalize()} cannot send: {s.reason}."
            for c in channels for s in [state_of(c, settings)] if not s.sendable]
