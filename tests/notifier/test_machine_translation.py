"""Machine-translated messages (DESIGN §11): the note residents read with them by SMS, email and
voice, in the text's language; the approval digest covers the marks; the send rule; the request
in LibreTranslate's codes. The note's wording comes from the catalogs (not asserted here)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier import machine_translation
from notifier.approval import content_digest
from notifier.errors import MachineTranslationNotAccepted
from notifier.models import Alert
from notifier.render import render_sms
from notifier.render_email import render_email
from notifier.render_voice import render_voice

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def make_alert(**fields) -> Alert:
    values = dict(status="Actual", msg_type="Alert", headline="Shelter in place", confirm=False,
                  severity="Severe", messages={"en": "Stay indoors.", "es": "Quédese adentro.",
                                               "zh-Hant": "留在室內。"},
                  channels=["sms"], area={"everyone": True}, machine_translated=["es", "zh-Hant"])
    values.update(fields)
    return Alert(**values)


def test_the_sms_of_a_machine_text_ends_with_the_note_in_its_language(settings):
    alert = make_alert()
    note = machine_translation.note("es")
    assert render_sms(alert, "es", settings) == f"Tocsin demo: Quédese adentro. {note}"
    assert render_sms(alert, "zh-TW", settings).endswith(machine_translation.note("zh-Hant"))
    assert render_sms(alert, "en", settings) == "Tocsin demo: Stay indoors."  # a person's text


def test_the_note_comes_before_the_reply_line(settings):
    text = render_sms(make_alert(confirm=True), "es", settings)
    assert text.index(machine_translation.note("es")) < text.index("Responda SÍ")


def test_a_reader_given_another_text_gets_no_note_of_a_machine_text_they_did_not_get(settings):
    # A Vietnamese reader falls back to the English text, written by a person.
    assert machine_translation.note("vi") not in render_sms(make_alert(), "vi", settings)


def test_the_email_says_it_under_the_message_in_text_and_html(settings):
    content = render_email(make_alert(), "es", settings, 1, NOW)
    note = machine_translation.note("es")
    assert f"Quédese adentro.\n\n{note}\n" in content.text
    assert f"<p style=\"font-style:italic\">{note}</p>" in content.html
    english = render_email(make_alert(), "en", settings, 2, NOW)
    assert machine_translation.note("en") not in english.text


def test_the_call_says_it_after_each_reading_of_the_message(settings):
    script = render_voice(make_alert(), "es", settings)
    assert script.note is not None and script.note.text == machine_translation.note("es")
    assert script.transcript().count(script.note.text) == 2
    assert script.said_message() == (script.message, script.note)
    assert render_voice(make_alert(), "en", settings).note is None


def test_the_approval_digest_covers_the_marks_and_ignores_their_absence():
    alert = make_alert()
    assert content_digest(alert) != content_digest(make_alert(machine_translated=["es"]))
    # An approval stored before the marks existed still matches an alert without any.
    assert content_digest(make_alert(machine_translated=None)) == \
        content_digest(make_alert(machine_translated=[]))


def test_only_an_actual_send_needs_the_acceptance():
    with pytest.raises(MachineTranslationNotAccepted) as caught:
        machine_translation.require_acceptance(make_alert(), accepted=False)
    assert caught.value.languages == ["es", "zh-Hant"]
    assert "Spanish (es), Chinese (Traditional) (zh-Hant)" in caught.value.message
    machine_translation.require_acceptance(make_alert(), accepted=True)
    machine_translation.require_acceptance(make_alert(status="Exercise"), accepted=False)
    machine_translation.require_acceptance(make_alert(machine_translated=None), accepted=False)


def test_marks_follow_the_messages_order_and_tags_case():
    alert = make_alert(machine_translated=["ZH-hant", "es", "de"])
    assert machine_translation.marked(alert) == ["es", "zh-Hant"]  # de has no message


def test_the_request_uses_libretranslates_codes_and_answers_by_tag():
    asked = []

    def translator(text, source, targets):
        asked.append((text, source, targets))
        return {code: f"<{code}>" for code in targets}

    answer = machine_translation.translate("Hello", "en", ["zh-Hant", "zh-Hans", "es"],
                                           translator)
    assert asked == [("Hello", "en", ["zt", "zh", "es"])]
    assert answer == {"translations": {"zh-Hant": {"text": "<zt>", "machine": True},
                                       "zh-Hans": {"text": "<zh>", "machine": True},
                                       "es": {"text": "<es>", "machine": True}}}
