"""How each language's text fits its channels, for the preview (DESIGN §4, §11): whether plain
punctuation would make its SMS GSM-7 (and the segments before and after), whether it fits a
Wireless Emergency Alert, and which Twilio voice reads it — or which other text its callers
hear when Twilio has no voice for it.

WEA limits are information, never a refusal: Tocsin does not broadcast WEA itself, but a
dispatcher whose text also goes to IPAWS must know that phones show 90 characters (legacy
handsets) or 360 (WEA 3.0, FCC 47 CFR 10.430).
"""
from __future__ import annotations

from types import SimpleNamespace

from notifier import alert_texts
from notifier.gsm_text import gsm_safe
from notifier.render import non_gsm_characters, render_sms, sms_info
from notifier.render_voice import spoken_language, voice_for

WEA_LEGACY, WEA_3 = 90, 360  # characters a WEA shows: before WEA 3.0, and since


def _as_alert(data) -> SimpleNamespace:
    """What render_sms reads, from an Alert or a `load_alert` dict."""
    get = data.get if isinstance(data, dict) else lambda name, default=None: getattr(
        data, name, default)
    return SimpleNamespace(status=get("status"), msg_type=get("msg_type"),
                           messages=dict(get("messages") or {}), confirm=bool(get("confirm")))


def plain_punctuation(alert, settings) -> dict[str, dict]:
    """{tag: {"text", "substitutions": [{"from", "to", "count", "codepoint"}], "before", "after"}}
    for each language whose SMS (as residents get it) plain punctuation turns from UCS-2 into
    GSM-7; `before`/`after` are `sms_info` of the whole SMS. Languages it would not help are
    left out (already GSM-7, or UCS-2 for a letter or the agency's name)."""
    alert = _as_alert(alert)
    out = {}
    for tag, text in alert.messages.items():
        plain, swaps = gsm_safe(text)
        if not swaps:
            continue
        before = sms_info(render_sms(alert, tag, settings))
        after_alert = SimpleNamespace(**{**vars(alert), "messages": {**alert.messages, tag: plain}})
        after = sms_info(render_sms(after_alert, tag, settings))
        if before["encoding"] == "UCS-2" and after["encoding"] == "GSM-7":
            out[tag] = {"text": plain, "substitutions": [s.as_dict() for s in swaps],
                        "before": before, "after": after}
    return out


def apply_plain_punctuation(data: dict, settings) -> dict[str, list[dict]]:
    """Rewrite `data["messages"]` (a `load_alert` result) with plain punctuation wherever
    `plain_punctuation` offers it; return {tag: substitutions} of the texts changed."""
    offers = plain_punctuation(data, settings)
    data["messages"] = {tag: offers[tag]["text"] if tag in offers else text
                        for tag, text in data["messages"].items()}
    return {tag: offer["substitutions"] for tag, offer in offers.items()}


def _wea(text: str | None) -> dict | None:
    if not text:
        return None
    n = len(text.strip())
    return {"characters": n, "fits_90": n <= WEA_LEGACY, "fits_360": n <= WEA_3}


def wea_fit(alert) -> dict[str, dict]:
    """{tag: {"message": {"characters", "fits_90", "fits_360"}, "headline": … or None}}.

    The headline is the language's own (`headlines`) or, for the first language, the alert's
    headline; a language with neither has none to measure."""
    out = {}
    for tag, text in (getattr(alert, "messages", None) or {}).items():
        written = alert_texts.headline(alert, tag)  # a stand-in sentence is not measured
        out[tag] = {"message": _wea(text), "headline": _wea(written.text) if written.own else None}
    return out


def voices(alert, settings) -> dict[str, dict]:
    """{tag: {"spoken": tag heard, "language": Twilio language, "voice": Twilio voice,
    "fallback": bool}}: `fallback` when Twilio has no voice for the text's language, so its
    callers hear `spoken` (the default language's text, or the closest one Twilio speaks)."""
    out = {}
    for tag in getattr(alert, "messages", None) or {}:
        spoken = tag if voice_for(tag) else spoken_language(alert, tag, settings)
        say_language, voice = voice_for(spoken) or (None, None)
        out[tag] = {"spoken": spoken, "language": say_language, "voice": voice,
                    "fallback": spoken != tag}
    return out


def text_fit(alert, settings) -> dict[str, dict]:
    """The preview's "text_fit": {tag: {"plain_punctuation": offer or None, "wea": …,
    "voice": …}} for each language of the alert's texts."""
    offers = plain_punctuation(alert, settings)
    wea = wea_fit(alert)
    spoken = voices(alert, settings)
    return {tag: {"plain_punctuation": offers.get(tag), "wea": wea[tag], "voice": spoken[tag]}
            for tag in alert.messages}


def sms_warnings(alert, texts: dict[str, str], fit: dict[str, dict]) -> list[str]:
    """Point at the few stray characters (curly quotes, NBSP…) that make an SMS cost double,
    and at plain punctuation when it would make it GSM-7 in fewer segments (the preview's
    "text_fit" shows every offer, also one that saves none)."""
    if "sms" not in (alert.channels or ()):
        return []
    out = []
    for tag, text in texts.items():
        stray = non_gsm_characters(text)
        if 0 < len(stray) <= 3:
            names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in stray)
            out.append(f"The {tag!r} SMS is UCS-2 (70 characters a segment instead of 160) "
                       f"because of {names}.")
        offer = (fit.get(tag) or {}).get("plain_punctuation")
        if offer and offer["after"]["segments"] < offer["before"]["segments"]:
            out.append(f"Plain punctuation would make the {tag!r} SMS GSM-7: "
                       f"{offer['before']['segments']} segment(s) → "
                       f"{offer['after']['segments']} (\"gsm_safe\": true, or the compose "
                       "page's plain punctuation box).")
    return out
