"""Voice calls through Twilio's Calls API: the call fetches its TwiML from our signed voice URL.

The call is placed with answering-machine detection (DetectMessageEnd) so that a message is
left after the beep, and with status callbacks for every stage so the delivery follows it.
"""
from __future__ import annotations

from twilio.rest import Client

from channels.base import ChannelError, Implementation, OutboundMessage, Receipt
from channels.twilio_client import (PERMANENT, TEMPORARY, TRANSPORT_ERRORS, TwilioChannel,
                                    channel_error, status_callback_url)
from notifier import tokens
from notifier.render_voice import render_voice

# Twilio error codes for call creation → what to do with the delivery; others fall back on
# the HTTP status (429 and 5xx retry, other 4xx fail).
ERROR_CODES = {
    20003: PERMANENT,   # authentication failed
    20429: TEMPORARY,   # too many requests
    20500: TEMPORARY,   # internal server error
    20503: TEMPORARY,   # service unavailable
    21205: PERMANENT,   # the Url (our TwiML URL) is invalid
    21210: PERMANENT,   # caller ID (From) is not verified / not ours
    21211: PERMANENT,   # invalid 'To' phone number
    21212: PERMANENT,   # invalid caller ID
    21213: PERMANENT,   # caller ID required
    21214: PERMANENT,   # 'To' number cannot be reached
    21215: PERMANENT,   # geographic permission to call this number is off
    21216: PERMANENT,   # the number is blocked for calls
    21217: PERMANENT,   # phone number does not appear to be valid
    21219: PERMANENT,   # trial accounts call only verified numbers
    13223: PERMANENT,   # phone number format is not valid
    13224: PERMANENT,   # the number is not a valid destination
    13227: PERMANENT,   # no international permission for this number
}
# The stages Twilio reports to StatusCallback (CallStatus values follow from them).
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
MACHINE_DETECTION = "DetectMessageEnd"


class VoiceChannel(TwilioChannel):
    """Places each call with `client.calls.create_async`; raises ChannelError on refusal."""

    name = "voice"

    async def send_one(self, session: Client, message: OutboundMessage) -> Receipt:
        """Return a Receipt naming Twilio's Call SID; raise ChannelError when refused.

        `message.extra["twiml_url"]` is the signed URL the call fetches its words from.
        """
        url = message.extra.get("twiml_url")
        if not url:
            raise ChannelError("no TwiML URL for the call", permanent=True, code="no-twiml")
        if not self.settings.twilio_from_number:
            # A Messaging Service sends texts only: calls need a caller ID of our own.
            raise ChannelError("TWILIO_FROM_NUMBER is needed to place calls", permanent=True,
                               code="no-caller-id")
        callback = ({"status_callback": message.status_callback,
                     "status_callback_method": "POST", "status_callback_event": STATUS_EVENTS}
                    if message.status_callback else {})
        try:
            call = await session.calls.create_async(
                to=message.to, from_=self.settings.twilio_from_number, url=url, method="POST",
                machine_detection=MACHINE_DETECTION, **callback)
        except TRANSPORT_ERRORS as exc:
            raise channel_error(exc, ERROR_CODES) from None
        return Receipt(message.delivery_id, call.sid)


def compose(session, settings, delivery, alert, now, cache: dict) -> OutboundMessage:
    """One resident's call: the transcript (what the call says) and the signed TwiML URL."""
    key = ("voice", delivery.alert_id, delivery.language)
    if key not in cache:
        cache[key] = render_voice(alert, delivery.language, settings).transcript()
    # Signed: whoever holds the URL hears the alert and can acknowledge for this resident.
    token = tokens.make_token(settings.secret_key, tokens.VOICE, delivery.id, now)
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=cache[key],
                           language=delivery.language,
                           status_callback=status_callback_url(settings, delivery.id),
                           extra={"twiml_url": f"{settings.public_url}/webhooks/twilio/voice?d={token}"})


def build(settings, concurrency: int, per_second: float, pace) -> VoiceChannel:
    return VoiceChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace,
                        timeout=settings.twilio_timeout)


CHANNEL = Implementation("voice", compose, build)
