"""The words the pages show for machine values: alert states, delivery statuses, CAP message
types and channels, one table each (issue 11: "cancelled" meant three things on one page).

The API keeps the machine values; only what a person reads changes. Every page takes its
words from here through the template filters that `init_labels` registers.
"""
from __future__ import annotations

from flask import Flask

from admin_ui.pages.i18n import gettext as _
from notifier.i18n import N_

# An alert a dispatcher cancelled, or that a follow-up replaced: its undelivered messages stop.
ALERT_STATES = {
    "draft": N_("Draft"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "cancelled": N_("Stopped"),
}

DELIVERY_STATUSES = {
    "pending": N_("Queued"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "undelivered": N_("Undelivered"),
    "retry_wait": N_("Waiting to retry"),
    "skipped": N_("Skipped"),
    # Never went out: the alert stopped first. Not the all-clear (msg_type Cancel).
    "cancelled": N_("Not sent (alert stopped)"),
    # A routine alert waiting for the resident's quiet hours to end (notifier.quiet_hours).
    "scheduled": N_("Waiting for quiet hours to end"),
}

# CAP msgType. "Cancel" is what residents read as the all-clear.
MSG_TYPES = {
    "Alert": N_("Alert"),
    "Update": N_("Update"),
    "Cancel": N_("All clear"),
    "Ack": N_("Acknowledgement"),
    "Error": N_("Error notice"),
}

CHANNELS = {"sms": N_("SMS"), "voice": N_("Voice call"), "email": N_("Email"), "social": N_("Social media"),
            "webhook": N_("Partner systems")}

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
