"""The compose form's channels: the ones the severity implies, or those ticked with a reason.

The routing rule itself is `notifier.severity_routing`; this reads the form into the API's
fields (`channels` left out for "as the severity implies"; `channels` + `channels_reason`).
"""
from __future__ import annotations

from notifier import severity_routing
from notifier.schemas import SEVERITIES

BY_SEVERITY, TICKED = "severity", "chosen"
FIELDS = ("channels_mode", "channels_reason")


def routing_on(settings) -> bool:
    return bool(settings.severity_channels)


def body_fields(form, settings) -> dict:
    """{"channels": […], "channels_reason": …}, or {} when the severity chooses them.

    A form without `channels_mode` (older pages, scripts) is read as ticked channels."""
    if routing_on(settings) and form.get("channels_mode") == BY_SEVERITY:
        return {}
    reason = form.get("channels_reason", "").strip()
    return {"channels": form.getlist("channels"), **({"channels_reason": reason} if reason else {})}


def mode_of(channels: list[str], severity: str | None, settings) -> str:
    """The mode a stored alert's channels show in: by severity when they are its default."""
    default = severity_routing.default_channels(severity, settings)
    return BY_SEVERITY if default is not None and set(channels) == set(default) else TICKED


def context(settings) -> dict:
    """What the page shows: whether routing is on and each severity's channels here."""
    defaults = [(s, severity_routing.default_channels(s, settings)) for s in SEVERITIES]
    return {"severity_routing": routing_on(settings),
            "severity_defaults": [(s, channels) for s, channels in defaults if channels]}
