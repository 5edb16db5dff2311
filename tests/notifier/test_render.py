"""The text residents receive and its SMS cost: GSM-7 vs UCS-2, segments, status prefixes."""
from __future__ import annotations

import pytest

from notifier.models import Alert
from notifier.render import render_sms, sms_info


def make_alert(**fields) -> Alert:
    values = dict(status="Actual", msg_type="Alert", headline="Shelter in place", confirm=False,
                  messages={"en": "Stay indoors.", "es": "Quédese adentro."}, channels=["sms"],
                  area={"everyone": True})
    values.update(fields)
    return Alert(**values)


def test_an_actual_alert_is_the_agency_and_the_text(settings):
    assert render_sms(make_alert(), "en", settings) == "Tocsin demo: Stay indoors."


def test_an_exercise_is_prefixed_in_the_language_of_the_text_chosen(settings):
    alert = make_alert(status="Exercise")
    assert render_sms(alert, "es-MX", settings) == "[SIMULACRO] Tocsin demo: Quédese adentro."
    # Korean has a catalog, but no Korean text: the English text gets the English prefix.
    assert render_sms(alert, "ko", settings) == "[EXERCISE] Tocsin demo: Stay indoors."


def test_a_test_alert_asking_for_confirmation_ends_with_a_translated_reply_line(settings):
    alert = make_alert(status="Test", confirm=True)
    assert render_sms(alert, "es", settings) == (
        "[PRUEBA] Tocsin demo: Quédese adentro. Responda SÍ para confirmar.")
    assert render_sms(alert, "en", settings, agency=False) == (
        "[TEST] Stay indoors. Reply YES to confirm.")


def test_a_language_without_text_falls_back_to_the_default_then_the_first(settings):
    assert render_sms(make_alert(), "vi", settings).endswith("Stay indoors.")
    alert = make_alert(messages={"fr": "Restez à l'intérieur.", "es": "Quédese adentro."})
    assert render_sms(alert, "vi", settings).endswith("Restez à l'intérieur.")


@pytest.mark.parametrize("text, expected", [
    ("a" * 160, ("GSM-7", 1, 160)),
    ("a" * 161, ("GSM-7", 2, 161)),
    ("a" * 306, ("GSM-7", 2, 306)),
    ("a" * 307, ("GSM-7", 3, 307)),
    ("€" * 80, ("GSM-7", 1, 160)),          # extension characters take two septets
    ("a" * 159 + "€", ("GSM-7", 2, 161)),
    ("a" * 152 + "€" + "a" * 10, ("GSM-7", 2, 164)),  # the escape pair moves whole to part 2
    ("ä" * 70, ("GSM-7", 1, 70)),           # in the basic table
    ("ж" * 70, ("UCS-2", 1, 70)),
    ("ж" * 71, ("UCS-2", 2, 71)),
    ("ж" * 134, ("UCS-2", 2, 134)),
    ("ж" * 135, ("UCS-2", 3, 135)),
    ("a" * 69 + "\u00a0", ("UCS-2", 1, 70)),  # a non-breaking space makes it UCS-2
    ("a" * 100 + "\u00a0", ("UCS-2", 2, 101)),
    ("😀" * 35, ("UCS-2", 1, 70)),          # an emoji is two UTF-16 code units
    ("a" * 66 + "😀" + "a" * 66, ("UCS-2", 3, 134)),  # a surrogate pair is never split
    ("", ("GSM-7", 0, 0)),
])
def test_it_counts_encoding_segments_and_characters(text, expected):
    info = sms_info(text)
    assert (info["encoding"], info["segments"], info["characters"]) == expected


def test_curly_quotes_are_not_gsm_but_straight_ones_are():
    assert sms_info("Don't go out")["encoding"] == "GSM-7"
    assert sms_info("Don’t go out")["encoding"] == "UCS-2"
