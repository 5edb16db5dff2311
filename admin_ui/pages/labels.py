"""The words the pages show for machine values: alert states, delivery statuses, CAP message
types and channels, one table each (issue 11: "cancelled" meant three things on one page).

The API keeps the machine values; only what a person reads changes. Every page takes its
words from here through the template filters that `init_labels` registers.
"""
from __future__ import annotations

from flask import Flask

from admin_ui.pages.i18n import gettext as _

# An alert a dispatcher cancelled, or that a follow-up replaced: its undelivered messages stop.
ALERT_STATES = {
    "draft": "Draft",
    "sending": "Sending",
    "sent": "Sent",
    "cancelled": "Stopped",
}

DELIVERY_STATUSES = {
    "pending": "Queued",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Failed",
    "undelivered": "Undelivered",
    "retry_wait": "Waiting to retry",
    "skipped": "Skipped",
    # Never went out: the alert stopped first. Not the all-clear (msg_type Cancel).
    "cancelled": "Not sent (alert stopped)",
}

# CAP msgType. "Cancel" is what residents read as the all-clear.
MSG_TYPES = {
    "Alert": "Alert",
    "Update": "Update",
    "Cancel": "All clear",
    "Ack": "Acknowledgement",
    "Error": "Error notice",
}

CHANNELS = {"sms": "SMS", "voice": "Voice call", "email": "Email", "social": "Social media",
            "webhook": "Partner systems"}

# Statuses of a message that went, or is going, to a channel's sender: in the sandbox these
# are simulated. Failed, skipped and withheld ones reached nobody anyway.
SIMULATABLE = frozenset({"pending", "sending", "sent", "delivered", "retry_wait"})


def _word(table: dict[str, str], value: str | None) -> str:
    if value is None:
        return ""
    return _(table[value]) if value in table else value


def alert_state(value: str | None) -> str:
    """The words for an alert state ("Stopped" for `cancelled`)."""
    return _word(ALERT_STATES, value)


def delivery_status(value: str | None, simulated: bool = False) -> str:
    """The words for a delivery status; `simulated` marks a sandbox message as such."""
    word = _word(DELIVERY_STATUSES, value)
    if simulated and value in SIMULATABLE:
        return _("%(status)s (simulated)", status=word)
    return word


def msg_type(value: str | None) -> str:
    """The words for a CAP msgType ("All clear" for `Cancel`)."""
    return _word(MSG_TYPES, value)


def channel(value: str | None) -> str:
    """A channel's name as dispatchers say it ("SMS", "Voice call")."""
    return _word(CHANNELS, value)


def init_labels(app: Flask) -> None:
    """Register the filters `state_label`, `status_label`, `msg_type_label`, `channel_label`."""
    app.add_template_filter(alert_state, "state_label")
    app.add_template_filter(delivery_status, "status_label")
    app.add_template_filter(msg_type, "msg_type_label")
    app.add_template_filter(channel, "channel_label")
