"""SMS through Twilio's Messages API; one table says which Twilio errors are worth retrying."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from twilio.rest import Client

from channels.base import Implementation, OutboundMessage, Outcome, Receipt, Withheld
from channels.twilio_client import (OPT_OUT, PERMANENT, TEMPORARY, TRANSPORT_ERRORS,
                                    TwilioChannel, channel_error, status_callback_url)
from notifier.render import render_sms, sms_info

# Twilio's ValidityPeriod: "Accepted values are integers from 1 to 36000" seconds (Messages
# create, api_v2010 OpenAPI); past it a message still queued at Twilio is not sent.
MAX_VALIDITY_SECONDS = 36000
# The reason a message of an alert that expired while its batch was sending is not handed over.
EXPIRED = "alert expired"

# Twilio error codes (https://www.twilio.com/docs/api/errors) → what to do with the delivery.
# Codes not listed fall back on the HTTP status: 429 and 5xx retry, other 4xx fail.
ERROR_CODES = {
    20003: PERMANENT,   # authentication failed: retrying with the same credentials cannot help
    20429: TEMPORARY,   # too many requests
    20500: TEMPORARY,   # internal server error
    20503: TEMPORARY,   # service unavailable
    14107: TEMPORARY,   # SMS send rate limit exceeded
    21611: TEMPORARY,   # the From number has too many queued messages
    30001: TEMPORARY,   # queue overflow
    # ValidityPeriod below Twilio's minimum: the alert expires within seconds. Retried, the
    # delivery is skipped as expired at its claim rather than counted as a failure.
    30012: TEMPORARY,
    21211: PERMANENT,   # invalid 'To' phone number
    21214: PERMANENT,   # 'To' number cannot be reached
    21217: PERMANENT,   # phone number does not appear to be valid
    21265: PERMANENT,   # 'To' number is a short code or otherwise not allowed
    21408: PERMANENT,   # no permission to send to this region (geo permissions)
    21602: PERMANENT,   # message body required
    21603: PERMANENT,   # 'From' number required
    21604: PERMANENT,   # 'To' number required
    21606: PERMANENT,   # 'From' number is not SMS-capable
    21608: PERMANENT,   # trial accounts send only to verified numbers
    21610: OPT_OUT,     # recipient replied STOP: Twilio refuses until they send START
    21612: PERMANENT,   # 'To' number not reachable via SMS
    21614: PERMANENT,   # 'To' number is not a mobile number
    21617: PERMANENT,   # body exceeds 1,600 characters
    21635: PERMANENT,   # 'To' number cannot receive SMS (landline)
}


class SmsChannel(TwilioChannel):
    """Sends each message with `client.messages.create_async`; raises ChannelError on refusal.

    A message whose alert expires (`extra["expires_at"]`) carries a ValidityPeriod of the time
    left, so Twilio drops it rather than deliver it late from a queue; with under a second left
    it is not handed over at all. Pacing counts its segments, as Twilio's MPS does.
    """

    name = "sms"

    def __init__(self, settings, *args,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), **kwargs):
        super().__init__(settings, *args, **kwargs)
        self.clock = clock
        self._segments: dict[str, int] = {}  # a batch shares a few texts: count each once

    def pace_cost(self, message: OutboundMessage) -> int:
        """The segments `message` goes out in (GSM-7 or UCS-2, notifier.render's counting)."""
        segments = self._segments.get(message.body)
        if segments is None:
            segments = self._segments[message.body] = max(1, sms_info(message.body)["segments"])
        return segments

    async def send_one(self, session: Client, message: OutboundMessage) -> Outcome:
        """Return a Receipt naming Twilio's Message SID (Withheld if the alert has expired);
        raise ChannelError when refused."""
        options = ({"messaging_service_sid": self.settings.twilio_messaging_service_sid}
                  if self.settings.twilio_messaging_service_sid
                  else {"from_": self.settings.twilio_from_number})
        expires_at = message.extra.get("expires_at")
        if expires_at is not None:
            # Whole seconds, rounded down: Twilio may drop a message a moment early, never late.
            left = int((expires_at - self.clock()).total_seconds())
            if left < 1:
                return Withheld(message.delivery_id, EXPIRED)
            options["validity_period"] = min(left, MAX_VALIDITY_SECONDS)
        try:
            sent = await session.messages.create_async(
                to=message.to, body=message.body,
                status_callback=message.status_callback, **options)
        except TRANSPORT_ERRORS as exc:
            raise channel_error(exc, ERROR_CODES) from None
        return Receipt(message.delivery_id, sent.sid)


def compose(session, settings, delivery, alert, now: datetime, cache: dict) -> OutboundMessage:
    """One resident's SMS: the alert's text in their language, rendered once per batch."""
    key = ("sms", delivery.alert_id, delivery.language)
    if key not in cache:
        cache[key] = render_sms(alert, delivery.language, settings)
    # Twilio's ValidityPeriod (SmsChannel.send_one) keeps an expired alert from going out late.
    extra = {"expires_at": alert.expires_at} if alert.expires_at is not None else {}
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=cache[key],
                           language=delivery.language, extra=extra,
                           status_callback=status_callback_url(settings, delivery.id))


def build(settings, concurrency: int, per_second: float, pace) -> SmsChannel:
    return SmsChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace,
                      timeout=settings.twilio_timeout)


CHANNEL = Implementation("sms", compose, build)
