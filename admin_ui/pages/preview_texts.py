"""What each language's residents would receive, per channel, for the preview page."""
from __future__ import annotations

from datetime import datetime

from notifier.render import render_sms, sms_info
from notifier.render_email import render_email
from notifier.render_voice import render_voice, voice_supported


def sms_texts(alert, settings) -> dict[str, dict]:
    """{language: {"text", "encoding", "segments", "characters"}} of the SMS per text."""
    out = {}
    for tag in alert.messages:
        text = render_sms(alert, tag, settings)
        out[tag] = {"text": text, **sms_info(text)}
    return out


def voice_texts(alert, settings) -> dict[str, dict]:
    """{language: {"supported", "spoken" (the text's tag heard), "parts": [(role, Spoken)]}}:
    the intro, the message (said twice on the call, with the "automatic translation" note of a
    machine-translated text) and the "press 1" prompt.

    A language Twilio cannot speak is shown with the text its callers hear instead.
    """
    out = {}
    for tag in alert.messages:
        script = render_voice(alert, tag, settings)
        out[tag] = {"supported": voice_supported(tag), "spoken": script.language,
                    "parts": [("intro", script.intro),
                              *([("headline", script.headline)] if script.headline else []),
                              ("message", script.message),
                              *([("note", script.note)] if script.note else []),
                              ("prompt", script.prompt)]}
    return out


def email_texts(alert, settings, now: datetime) -> dict[str, dict]:
    """{language: {"language" (the text's tag), "subject", "text"}}: the plain-text part, whose
    links are made for a delivery that does not exist (id 0), so they lead nowhere."""
    out = {}
    for tag in alert.messages:
        content = render_email(alert, tag, settings, delivery_id=0, now=now)
        out[tag] = {"language": content.language, "subject": content.subject,
                    "text": content.text}
    return out


def rendered_texts(alert, settings, now: datetime) -> dict[str, dict]:
    """{channel: {language: …}} for the alert's SMS, voice and email channels."""
    makers = {"sms": lambda: sms_texts(alert, settings),
              "voice": lambda: voice_texts(alert, settings),
              "email": lambda: email_texts(alert, settings, now)}
    return {channel: make() for channel, make in makers.items()
            if channel in (alert.channels or [])}
