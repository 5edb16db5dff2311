"""SMS through Twilio's Messages API; one table says which Twilio errors are worth retrying."""
from __future__ import annotations

from twilio.rest import Client

from channels.base import OutboundMessage, Receipt
from channels.twilio_client import (OPT_OUT, PERMANENT, TEMPORARY, TRANSPORT_ERRORS,
                                    TwilioChannel, channel_error)

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
    """Sends each message with `client.messages.create_async`; raises ChannelError on refusal."""

    name = "sms"

    async def send_one(self, session: Client, message: OutboundMessage) -> Receipt:
        """Return a Receipt naming Twilio's Message SID; raise ChannelError when refused."""
        sender = ({"messaging_service_sid": self.settings.twilio_messaging_service_sid}
                  if self.settings.twilio_messaging_service_sid
                  else {"from_": self.settings.twilio_from_number})
        try:
            sent = await session.messages.create_async(
                to=message.to, body=message.body,
                status_callback=message.status_callback, **sender)
        except TRANSPORT_ERRORS as exc:
            raise channel_error(exc, ERROR_CODES) from None
        return Receipt(message.delivery_id, sent.sid)
