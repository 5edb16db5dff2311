"""The preview's words about channels: what each chosen one will do (send, simulate, nothing)
and what the SMS will cost, per language of the text."""
from __future__ import annotations

from collections import Counter

from notifier.channel_state import channel_states, unavailable_errors
from notifier.render import sms_info


def channel_modes(alert, settings) -> dict[str, dict]:
    """{channel: {"mode", "reason"}} for the alert's channels (notifier.channel_state)."""
    return {c: s.as_dict() for c, s in channel_states(settings, alert.channels or ()).items()}


def channel_warnings(alert, settings) -> list[str]:
    """A chosen channel that cannot send reaches nobody: said first, in words."""
    return [f"{error} Nobody is reached through it."
            for error in unavailable_errors(alert.channels or (), settings)]


def sms_cost(texts: dict[str, str], texted: Counter, settings) -> dict:
    """{"currency", "price_per_segment", "total", "languages": {tag: {"messages", "segments",
    "segments_total", "cost"}}}: what the provider would bill for the SMS, at SMS_SEGMENT_PRICE
    (an estimate: carriers' surcharges vary)."""
    price = settings.sms_segment_price
    languages = {}
    for tag, text in texts.items():
        messages = texted.get(tag, 0)
        segments = sms_info(text)["segments"]
        languages[tag] = {"messages": messages, "segments": segments,
                          "segments_total": messages * segments,
                          "cost": round(messages * segments * price, 2)}
    return {"currency": settings.sms_price_currency, "price_per_segment": price,
            "total": round(sum(v["segments_total"] for v in languages.values()) * price, 2),
            "languages": languages}
