"""What a voice call says, in which Twilio `<Say>` language and voice (no Twilio import here).

A resident hears the alert text chosen for their language when Twilio has a voice for it;
otherwise the closest text that can be spoken (a Haitian Creole speaker hears the default
language, not Creole read by a French voice). The words around the message (intro, "press 1")
come from the catalogs, in the language of the text spoken, or in English with an English
voice when that catalog lacks them, so no voice reads a language it does not speak; so does
the "automatic translation" note said after a machine-translated message.
"""
from __future__ import annotations

from dataclasses import dataclass

from notifier import alert_texts, machine_translation
from notifier.i18n import N_, normalize, pick_language, translations

# Language tag → (Twilio `<Say language>`, `voice`), from Twilio's text-to-speech voice list.
# Amazon Polly voices where Twilio offers one, Google voices for languages Polly lacks
# (Vietnamese, Filipino, Bengali, Cantonese, Taiwanese Mandarin). Of the sixteen languages
# (notifier.languages) only Haitian Creole has no voice at Twilio: `voice_supported("ht")` is
# False, and the preview says which text its callers hear instead.
VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"), "en-GB": ("en-GB", "Polly.Amy"),
    "en-AU": ("en-AU", "Polly.Nicole"), "en-IN": ("en-IN", "Polly.Raveena"),
    "es": ("es-US", "Polly.Lupe"), "es-MX": ("es-MX", "Polly.Mia"),
    "es-ES": ("es-ES", "Polly.Lucia"),
    "fr": ("fr-FR", "Polly.Lea"), "fr-CA": ("fr-CA", "Polly.Chantal"),
    "pt": ("pt-BR", "Polly.Camila"), "pt-PT": ("pt-PT", "Polly.Ines"),
    "zh": ("cmn-CN", "Polly.Zhiyu"), "zh-Hans": ("cmn-CN", "Polly.Zhiyu"),
    "zh-TW": ("cmn-TW", "Google.cmn-TW-Standard-A"),
    "zh-Hant": ("cmn-TW", "Google.cmn-TW-Standard-A"),
    "zh-HK": ("yue-HK", "Google.yue-HK-Standard-A"), "yue": ("yue-HK", "Google.yue-HK-Standard-A"),
    "vi": ("vi-VN", "Google.vi-VN-Standard-A"),
    "ko": ("ko-KR", "Polly.Seoyeon"),
    "ru": ("ru-RU", "Polly.Tatyana"),
    "ar": ("arb", "Polly.Zeina"),
    "tl": ("fil-PH", "Google.fil-PH-Standard-A"), "fil": ("fil-PH", "Google.fil-PH-Standard-A"),
    "de": ("de-DE", "Polly.Marlene"), "it": ("it-IT", "Polly.Carla"),
    "ja": ("ja-JP", "Polly.Mizuki"), "hi": ("hi-IN", "Polly.Aditi"),
    "bn": ("bn-IN", "Google.bn-IN-Standard-C"),
    "pl": ("pl-PL", "Polly.Ewa"), "uk": ("uk-UA", "Google.uk-UA-Standard-A"),
}
FALLBACK_VOICE = VOICES["en"]

INTRO = {
    "Actual": N_("This is an emergency message from %(agency)s."),
    "Exercise": N_("This is an exercise message from %(agency)s. This is only an exercise."),
    "Test": N_("This is a test message from %(agency)s. This is only a test."),
}
PROMPT = N_("To confirm that you received this message, press 1. To hear it again, press 2.")
THANKS = N_("Thank you. Your confirmation has been recorded. Goodbye.")


@dataclass(frozen=True)
class Spoken:
    """One `<Say>`: the words and the Twilio language/voice that read them."""

    text: str
    language: str
    voice: str


@dataclass(frozen=True)
class VoiceScript:
    """A call: `intro`, then `message` (said twice, each time followed by `note` when the text
    was machine translated), then `prompt` inside the Gather."""

    language: str  # the tag of the alert text spoken
    intro: Spoken
    message: Spoken
    prompt: Spoken
    thanks: Spoken
    note: Spoken | None = None
    headline: Spoken | None = None  # said once, after the intro, when written for this language

    def opening(self) -> tuple[Spoken, ...]:
        """What the call says before the message: the intro, then the headline if any."""
        return (self.intro,) if self.headline is None else (self.intro, self.headline)

    def said_message(self) -> tuple[Spoken, ...]:
        """The message as said once: the text, then its note if any."""
        return (self.message,) if self.note is None else (self.message, self.note)

    def transcript(self) -> str:
        """What the resident hears, as one text (for the sandbox outbox and logs)."""
        message = [spoken.text for spoken in self.said_message()]
        opening = [spoken.text for spoken in self.opening()]
        return " ".join((*opening, *message, *message, self.prompt.text))


def voice_for(language: str | None) -> tuple[str, str] | None:
    """(Twilio language, voice) for a language tag: the exact tag, then its base; else None."""
    if not language:
        return None
    tag = normalize(language)
    found = VOICES.get(tag)
    if found is None:
        parts = tag.split("-")
        # zh-Hant-TW → zh-Hant → zh: the script decides the voice before the base does.
        for n in range(len(parts) - 1, 0, -1):
            found = VOICES.get("-".join(parts[:n]))
            if found is not None:
                break
    return found


def voice_supported(language: str | None) -> bool:
    """True when Twilio can speak `language` (for the preview's warning)."""
    return voice_for(language) is not None


def spoken_language(alert, language: str, settings) -> str:
    """The tag of the alert text a caller wanting `language` hears: one Twilio can speak."""
    speakable = [tag for tag in alert.messages if voice_supported(tag)]
    return pick_language(speakable or list(alert.messages), language, settings.default_language)


def _say(language: str, text: str) -> Spoken:
    say_language, voice = voice_for(language) or FALLBACK_VOICE
    return Spoken(text, say_language, voice)


def _catalog_say(language: str, message: str, **values) -> Spoken:
    """`message` translated into `language` and said by its voice; in English when untranslated."""
    translated = translations(language).gettext(message)
    base = normalize(language).split("-")[0]
    if translated == message and base != "en" or not voice_supported(language):
        return _say("en", message % values)
    return _say(language, translated % values)


def render_voice(alert, language: str, settings) -> VoiceScript:
    """The script of a call to someone wanting `language` (DESIGN §5)."""
    chosen = spoken_language(alert, language, settings)
    agency = settings.agency_name or ""
    intro = _catalog_say(chosen, INTRO.get(alert.status, INTRO["Actual"]), agency=agency)
    # A headline made from the message's first sentence would only be said twice over.
    headline = alert_texts.headline(alert, chosen)
    return VoiceScript(
        headline=_say(chosen, " ".join(headline.text.split())) if headline.own else None,
        language=chosen,
        intro=intro,
        message=_say(chosen, " ".join(alert.messages[chosen].split())),
        prompt=_catalog_say(chosen, PROMPT),
        thanks=_catalog_say(chosen, THANKS),
        note=_catalog_say(chosen, machine_translation.NOTE)
        if machine_translation.is_marked(alert, chosen) else None,
    )
