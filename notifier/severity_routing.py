"""Which channels an alert's severity implies, and the reason a dispatcher must give to differ.

A minor notice goes by email and social posts; a threat to life rings phones (DESIGN §12,
`SEVERITY_CHANNELS`). An alert that names no channels gets its severity's; one that names
others needs `channels_reason`, which the audit log keeps (`alert.channels_override`), so a
Severe alert sent only by email, or a road closure that calls everyone at night, is a choice
someone wrote down and not a slip.

The default is what the severity implies among the channels this installation can send: a
town without social accounts gets "email" for a Minor alert, not an error about Apprise.
"""
from __future__ import annotations

from notifier.channel_state import state_of

AUDIT_ACTION = "alert.channels_override"
MAX_REASON_CHARS = 500


def default_channels(severity: str | None, settings) -> list[str] | None:
    """The channels `severity` implies here, in SEVERITY_CHANNELS' order; None when it names
    none for this severity (the alert must then name its channels)."""
    implied = (getattr(settings, "severity_channels", None) or {}).get(severity or "")
    if not implied:
        return None
    return [c for c in implied if state_of(c, settings).sendable] or list(implied)


def route(data: dict, settings) -> dict:
    """Fill or check `data["channels"]` by `data["severity"]`; return {field: [messages]}.

    Sets `data["channels_override"]` ({channels, default, reason}) when the dispatcher chose
    other channels with a reason; drops `channels_reason` otherwise (nothing to keep)."""
    reason = (data.pop("channels_reason", None) or "").strip()
    default = default_channels(data.get("severity"), settings)
    chosen = data.get("channels")
    if not chosen:
        if default is None:
            if not getattr(settings, "severity_channels", None):
                return {"channels": ["Choose at least one channel."]}
            return {"channels": [f"Choose at least one channel: SEVERITY_CHANNELS gives none "
                                 f"for {data.get('severity') or 'this'} alerts."]}
        data["channels"] = default
        return {}
    if default is None or set(chosen) == set(default):
        return {}
    if not reason:
        return {"channels_reason": [
            f"These channels ({', '.join(chosen)}) differ from those a {data['severity']} alert "
            f"goes out on ({', '.join(default)}): say why, or use those."]}
    if len(reason) > MAX_REASON_CHARS:
        return {"channels_reason": [f"The reason is {len(reason)} characters; shorten it to at "
                                    f"most {MAX_REASON_CHARS}."]}
    data["channels_override"] = {"channels": list(chosen), "default": default, "reason": reason}
    return {}
