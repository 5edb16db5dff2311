"""What Twilio sends SMS from (long code, toll-free, short code, Messaging Service) and the
rate, in segments per second, that kind of sender may keep to."""
from __future__ import annotations

from notifier.errors import ConfigError

# Twilio's sending rate per sender, in message segments per second (MPS counts segments):
# "a US long code number can send one message segment per second, and a short code may send
# over 100" (https://www.twilio.com/docs/api/errors/30001); "any US Toll-Free number … offers
# an SMS sending throughput of 3 MPS (message segments per second)" (Twilio support article
# 4411046744987, "Toll-Free SMS and MMS messaging throughput"). A registered US A2P 10DLC
# number may get more, by brand and campaign: SMS_PER_SECOND says so.
# A Messaging Service spreads texts over a pool of senders we cannot see and queues them at
# Twilio at the pool's own rate: pacing it as one long code would take a city's alert hours.
SMS_SENDER_RATES = {"long_code": 1.0, "toll_free": 3.0, "short_code": 100.0,
                    "messaging_service": 0.0}
TOLL_FREE_PREFIXES = tuple(f"+1{code}" for code in (800, 833, 844, 855, 866, 877, 888))


def sender_type(named: str | None, from_number: str | None, service: str | None) -> str:
    """SMS_SENDER_TYPE, else what TWILIO_FROM_NUMBER looks like: 5–6 digits are a short code,
    +1 800/833/844/855/866/877/888 toll-free, a Messaging Service (Twilio paces its pool),
    anything else a long code, the slowest: pacing errs on the side the carriers allow."""
    if named is not None:
        kind = named.lower().replace("-", "_")
        if kind not in SMS_SENDER_RATES:
            raise ConfigError("SMS_SENDER_TYPE", f"must be one of {', '.join(SMS_SENDER_RATES)},"
                                                 f" got {named!r}")
        return kind
    if service:
        return "messaging_service"
    if not from_number:
        return "long_code"
    if from_number.isdigit() and 5 <= len(from_number) <= 6:
        return "short_code"
    return "toll_free" if from_number.startswith(TOLL_FREE_PREFIXES) else "long_code"
