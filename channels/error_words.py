"""Plain words for the error codes deliveries carry (Twilio's, SMTP's and our own), for reports."""
from __future__ import annotations

# Twilio's codes (https://www.twilio.com/docs/api/errors), from sending and from callbacks.
TWILIO = {
    "20003": "Twilio refused our credentials",
    "20429": "Twilio asked us to slow down",
    "20500": "Twilio had an internal error",
    "20503": "Twilio was unavailable",
    "14107": "the SMS sending rate limit was reached",
    "21211": "the phone number is not valid",
    "21214": "the number cannot be reached",
    "21217": "the phone number does not appear to be valid",
    "21215": "calls to this region are not allowed on the account",
    "21216": "the number is blocked for calls",
    "21265": "the number is a short code or otherwise not allowed",
    "21408": "texts to this region are not allowed on the account",
    "21608": "a trial account may only send to verified numbers",
    "21610": "the resident replied STOP: the carrier refuses until they send START",
    "21611": "too many messages were queued on the sending number",
    "21612": "the number cannot receive texts",
    "21614": "the number is not a mobile number",
    "21635": "the number is a landline",
    "30001": "Twilio's queue overflowed",
    "30003": "the phone was unreachable (off or out of coverage)",
    "30004": "the message was blocked (the resident or the carrier blocks it)",
    "30005": "the number is unknown or no longer in service",
    "30006": "the number is a landline or cannot receive texts",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier gave no reason",
    "30034": "the sending number is not registered for A2P 10DLC",
    "13223": "the phone number format is not valid",
    "13224": "the number is not a valid destination",
    "13227": "international calls to this number are not allowed",
}
OURS = {
    "timeout": "the provider did not answer in time",
    "connection": "the provider could not be reached",
    "twilio": "Twilio answered with an error we could not read",
    "busy": "the line was busy",
    "no-answer": "nobody answered the call",
    "failed": "the call could not be placed",
    "canceled": "the call was cancelled before it connected",
    "no-twiml": "the call had no message to play (no voice URL)",
    "no-caller-id": "no caller ID is configured for calls",
    "smtp-auth": "the mail server refused our credentials",
    "bad-message": "the email could not be built",
    "smtputf8": "the mail server cannot take this address's characters",
    "bad-address": "the email address is not valid",
}
SMTP = {
    "550": "the mailbox does not exist or refuses mail",
    "551": "the mailbox is not on this server",
    "552": "the mailbox is full",
    "553": "the address is not allowed",
    "554": "the mail server refused the message",
}


def describe(channel: str, code: str | None) -> str | None:
    """What `code` means for a delivery on `channel`, in plain words; None when unknown."""
    if code is None:
        return "no code was given"
    code = str(code)
    if code in OURS:
        return OURS[code]
    if code.startswith("smtp-"):
        return SMTP.get(code[5:], "the mail server refused it" if code[5:6] == "5" else None)
    if code.startswith("http-"):
        return f"the provider answered HTTP {code[5:]}"
    return TWILIO.get(code) if channel in ("sms", "voice") else None
