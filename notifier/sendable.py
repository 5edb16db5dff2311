"""What keeps a stored draft from going out, checked at send: a draft imported from a peer's CAP
is stored as the peer wrote it, and a draft written before a rule may no longer meet it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.errors import InvalidInput
from notifier.models import Alert, Zone


def check(session: Session, alert: Alert, settings=None) -> None:
    """Raise InvalidInput naming what keeps the stored draft from going out: no message, a
    status or msgType Tocsin does not send, an Update/Cancel without references, an area the
    fan-out could not read, texts over the limits (with `settings`: an SMS too long to send).
    A draft imported from CAP (a 0-radius circle, no <info>, status System) stops here."""
    from notifier import geo, sms_limits, topics  # shapely: loaded only where areas are read
    from notifier.schemas import MAX_MESSAGE_CHARS, MSG_TYPES, SENDABLE_STATUSES

    errors: dict[str, list[str]] = {}
    if not alert.messages:
        errors["messages"] = ["At least one message is required: write the text residents read."]
    long = [f"Message ({lang}) is {len(text):,} characters; shorten it to at most "
            f"{MAX_MESSAGE_CHARS:,}." for lang, text in (alert.messages or {}).items()
            if len(text) > MAX_MESSAGE_CHARS]
    if not long and settings is not None:  # a peer's long description as an SMS
        long = sms_limits.too_long({"channels": alert.channels, "status": alert.status,
                                    "messages": alert.messages, "confirm": alert.confirm},
                                   settings)
    if long:
        errors["messages"] = long
    if alert.instruction and len(alert.instruction) > 2000:
        errors["instruction"] = ["Shorten it to at most 2,000 characters."]
    if alert.status not in SENDABLE_STATUSES:
        errors["status"] = [f"{alert.status} alerts are not sent; choose Actual, Exercise or Test."]
    if alert.msg_type not in MSG_TYPES:
        errors["msg_type"] = [f"Must be one of: {', '.join(MSG_TYPES)}."]
    elif alert.msg_type != "Alert" and not alert.references:
        errors["references"] = ["An Update or Cancel must name the alert it refers to."]
    if getattr(alert, "topic", None) and alert.msg_type == "Alert" and alert.topic not in (
            topics.known_codes(session)):
        # Its followers went with it: the alert would reach nobody. (A follow-up keeps the
        # topic of the alert it follows, deleted or not.)
        errors["topic"] = [f"The topic {alert.topic!r} was deleted after this draft was written: "
                           f"choose another topic, or none to reach everyone in the area."]
    try:
        geo.parse_area(alert.area or {}, set(session.scalars(select(Zone.code))))
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
