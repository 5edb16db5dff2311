"""Follow-ups (an all-clear or a correction): the new alert a cancel with a message makes."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.alerts import cap_sender, cap_time
from notifier import topics
from notifier.channel_state import state_of
from notifier.errors import InvalidInput
from notifier.i18n import N_, gettext
from notifier.models import ALERT_CONTENT, Alert, Zone
from notifier.schemas import load_alert

PREFIX = {"Cancel": "All clear: ", "Update": "Update: "}
# The all-clear a dispatcher starts from (never the alert's own words: an all-clear that
# repeats "Evacuate now" is how a correction does harm). Templates may supply better ones.
ALL_CLEAR_TEXT = N_("The danger has passed. You may resume normal activities. "
                    "Follow any further instructions from officials.")


def all_clear_texts(alert: Alert, settings) -> dict[str, dict]:
    """{language: {"text", "translated"}} for every language of `alert`: the built-in all-clear,
    in that language when a catalog has it, else in the default language (`translated` False)."""
    out = {}
    for language in alert.messages or {settings.default_language: ""}:
        text = gettext(language, ALL_CLEAR_TEXT)
        native = text != ALL_CLEAR_TEXT or language.split("-")[0].lower() == "en"
        if not native:
            text = gettext(settings.default_language, ALL_CLEAR_TEXT)
        out[language] = {"text": text, "translated": native}
    return out


def follow_up_data(session: Session, alert: Alert, message: dict, msg_type: str,
                   now: datetime, settings) -> dict:
    """`load_alert` data of the follow-up `message` makes of a sent `alert` (see
    `alerts.cancel_alert`). Raises InvalidInput for a bad body, a msg_type other than Cancel or
    Update, another status, or a text that repeats the original's in its language."""
    if not isinstance(message, dict) or not message:
        raise InvalidInput({"message": ["Must be {language: text} or an alert body."]})
    # A template (DESIGN §11) fills a full body: {"template": "all_clear", "params": {…}}.
    full = any(key in message for key in (*ALERT_CONTENT, "template"))
    msg_type = message.get("msg_type", msg_type) if full else msg_type
    if msg_type not in PREFIX:
        raise InvalidInput({"msg_type": ["Must be Cancel or Update."]})
    if full and message.get("status", alert.status) != alert.status:
        raise InvalidInput({"status": [f"A follow-up keeps the original's status ({alert.status})."]})
    expires = alert.expires_at if alert.expires_at and alert.expires_at > now + timedelta(minutes=1) else None
    body = {
        "headline": (PREFIX[msg_type] + alert.headline)[:200], "event": alert.event,
        "category": alert.category, "severity": alert.severity, "urgency": alert.urgency,
        "certainty": alert.certainty, "area": alert.area,
        # An all-clear must not be refused because the original named a channel that cannot
        # send (stored before that was refused): it goes out on the channels that can.
        "channels": [c for c in alert.channels or [] if state_of(c, settings).sendable],
        "expires_at": expires.isoformat() if expires else None, "confirm": False,
        # The all-clear reaches whom the alert reached: its topic's followers, if it had one.
        "topic": alert.topic,
        # An all-clear goes where the danger went, whatever the severity implies today.
        "channels_reason": f"the channels of the alert it follows ({alert.identifier})",
    }
    body.update(message if full else {"messages": message})
    body.update(status=alert.status, msg_type=msg_type,
                references=f"{cap_sender(settings)},{alert.identifier},{cap_time(alert.sent_at or now)}")
    area_changed = body["area"] != alert.area
    known = set(session.scalars(select(Zone.code))) if area_changed else None
    # The original's topic stays valid for its all-clear even if the topic was deleted since.
    known_topics = topics.known_codes(session) | ({alert.topic} if alert.topic else set())
    data = load_alert(body, settings, known, now, known_topics=known_topics)
    repeated = [lang for lang, text in data["messages"].items()
                if _plain(text) == _plain((alert.messages or {}).get(lang, ""))]
    if repeated:
        raise InvalidInput({"message": [
            f"The {lang} text is the same as the original alert's: say what changed."
            for lang in repeated]})
    data["references_alert_id"] = alert.id
    return data


def _plain(text: str) -> str:
    """Text without case or spacing, to catch a follow-up that repeats the original."""
    return "".join(text.split()).casefold()
