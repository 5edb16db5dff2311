"""What a call says, and in which Twilio language and voice."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from notifier.render_voice import VOICES, render_voice, spoken_language, voice_for, voice_supported

SETTINGS = SimpleNamespace(default_language="en", agency_name="Springfield OEM")


def alert(messages: dict, status: str = "Actual"):
    return SimpleNamespace(messages=messages, status=status)


@pytest.mark.parametrize("tag, expected", [
    ("en", ("en-US", "Polly.Joanna")), ("es", ("es-US", "Polly.Lupe")),
    ("es-MX", ("es-MX", "Polly.Mia")), ("es-419", ("es-US", "Polly.Lupe")),
    ("ES_es", ("es-ES", "Polly.Lucia")), ("zh", ("cmn-CN", "Polly.Zhiyu")),
    ("zh-Hant-TW", ("cmn-TW", "Google.cmn-TW-Standard-A")),
    ("vi", ("vi-VN", "Google.vi-VN-Standard-A")), ("ar", ("arb", "Polly.Zeina")),
    ("tl", ("fil-PH", "Google.fil-PH-Standard-A")),
])
def test_it_maps_language_tags_to_twilio_voices(tag, expected):
    assert voice_for(tag) == expected
    assert voice_supported(tag)


def test_haitian_creole_has_no_voice():
    assert voice_for("ht") is None
    assert not voice_supported("ht") and not voice_supported("") and not voice_supported(None)


def test_every_voice_names_a_polly_or_google_voice_with_a_locale():
    for language, voice in VOICES.values():
        assert voice.startswith(("Polly.", "Google."))
        assert "-" in language or language == "arb"


def test_a_spanish_speaker_hears_the_spanish_text_with_spanish_words_around_it():
    script = render_voice(alert({"en": "Flood warning.", "es": "Aviso de inundación."}),
                          "es-MX", SETTINGS)

    assert script.language == "es"
    assert script.message.text == "Aviso de inundación."
    assert (script.message.language, script.message.voice) == ("es-US", "Polly.Lupe")
    assert script.intro.text == "Este es un mensaje de emergencia de Springfield OEM."
    assert script.intro.language == "es-US"
    assert "oprima 1" in script.prompt.text and "oprima 2" in script.prompt.text
    assert script.transcript().count("Aviso de inundación.") == 2


def test_a_language_without_a_voice_hears_a_text_that_can_be_spoken():
    messages = {"en": "Flood warning.", "ht": "Avètisman inondasyon."}

    assert spoken_language(alert(messages), "ht", SETTINGS) == "en"
    script = render_voice(alert(messages), "ht", SETTINGS)
    assert script.message.text == "Flood warning." and script.message.language == "en-US"


def test_words_missing_from_a_catalog_are_said_in_english_by_an_english_voice():
    script = render_voice(alert({"it": "Allerta alluvione."}), "it", SETTINGS)

    assert script.message.voice == "Polly.Carla"
    assert script.intro.text == "This is an emergency message from Springfield OEM."
    assert script.intro.voice == "Polly.Joanna"


@pytest.mark.parametrize("status, words", [("Exercise", "simulacro"), ("Test", "prueba")])
def test_exercises_and_tests_say_so_first(status, words):
    script = render_voice(alert({"es": "Aviso."}, status), "es", SETTINGS)

    assert words in script.intro.text and "Springfield OEM" in script.intro.text
