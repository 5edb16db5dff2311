"""Each language's fit: plain punctuation's offer, WEA lengths, and the voice that reads it."""
from __future__ import annotations

import dataclasses

from notifier.languages import LANGUAGES
from notifier.models import Alert
from notifier.render_voice import voice_for, voice_supported
from notifier.text_fit import (apply_plain_punctuation, plain_punctuation, sms_warnings,
                               text_fit, voices, wea_fit)

CURLY = ("Boil water before drinking it: the main broke on Elm St and it\u2019s not yet "
         "repaired. Bottled water at the school gym until 8 pm. Call 311 with questions.")


def make_alert(**fields) -> Alert:
    values = dict(status="Actual", msg_type="Alert", headline="Boil water", confirm=False,
                  messages={"en": CURLY, "es": "Hierva el agua \u2013 ¡ya!"}, channels=["sms"],
                  area={"everyone": True})
    values.update(fields)
    return Alert(**values)


def test_plain_punctuation_is_offered_where_it_makes_the_sms_gsm7(settings):
    offers = plain_punctuation(make_alert(), settings)
    assert set(offers) == {"en", "es"}
    en = offers["en"]
    assert en["before"]["encoding"] == "UCS-2" and en["after"]["encoding"] == "GSM-7"
    assert (en["before"]["segments"], en["after"]["segments"]) == (3, 2)
    assert en["text"] == CURLY.replace("\u2019", "'")
    assert en["substitutions"] == [{"from": "\u2019", "to": "'", "count": 1, "codepoint": "U+2019"}]
    assert (offers["es"]["before"]["segments"], offers["es"]["after"]["segments"]) == (1, 1)


def test_it_is_not_offered_when_the_sms_stays_ucs2_for_another_reason(settings):
    # The agency's name is part of every SMS: plain quotes in the text would gain nothing.
    curly_agency = dataclasses.replace(settings, agency_name="St. Mary\u2019s County")
    assert plain_punctuation(make_alert(), curly_agency) == {}
    # A letter outside GSM, and a text already GSM-7.
    alert = make_alert(messages={"fr": "Restez \u00e0 l\u2019int\u00e9rieur, fen\u00eatres ferm\u00e9es.",
                                 "en": "Stay inside."})
    assert plain_punctuation(alert, settings) == {}


def test_applying_it_rewrites_only_the_texts_it_helps(settings):
    data = {"status": "Actual", "msg_type": "Alert", "confirm": False,
            "messages": {"en": CURLY, "zh-Hans": "\u8bf7\u7559\u5728\u5ba4\u5185\u201c\u73b0\u5728\u201d"}}
    changed = apply_plain_punctuation(data, settings)
    assert list(changed) == ["en"]
    assert data["messages"]["en"] == CURLY.replace("\u2019", "'")
    assert data["messages"]["zh-Hans"] == "\u8bf7\u7559\u5728\u5ba4\u5185\u201c\u73b0\u5728\u201d"
    assert list(data["messages"]) == ["en", "zh-Hans"]  # the order (the fallback first) is kept


def test_the_wea_lengths_are_measured_per_language():
    alert = make_alert(messages={"en": "x" * 90, "es": "y" * 91, "fr": "z" * 361},
                       headlines={"es": "Hierva el agua"})
    fit = wea_fit(alert)
    assert fit["en"]["message"] == {"characters": 90, "fits_90": True, "fits_360": True}
    assert fit["es"]["message"] == {"characters": 91, "fits_90": False, "fits_360": True}
    assert fit["fr"]["message"] == {"characters": 361, "fits_90": False, "fits_360": False}
    assert fit["en"]["headline"]["characters"] == len("Boil water")  # the first language's
    assert fit["es"]["headline"]["characters"] == len("Hierva el agua")
    assert fit["fr"]["headline"] is None


def test_every_language_but_haitian_creole_has_a_twilio_voice():
    assert [row.tag for row in LANGUAGES if not voice_supported(row.tag)] == ["ht"]
    assert voice_for("bn") == ("bn-IN", "Google.bn-IN-Standard-C")
    assert voice_for("zh-Hant") == ("cmn-TW", "Google.cmn-TW-Standard-A")
    assert voice_for("tl") == ("fil-PH", "Google.fil-PH-Standard-A")
    assert voice_for("de")[0] == "de-DE" and voice_for("ja")[0] == "ja-JP"
    assert voice_for("hi")[0] == "hi-IN"


def test_the_fallback_of_a_language_without_voice_is_reported(settings):
    alert = make_alert(messages={"en": "Stay inside.", "ht": "Rete anndan kay ou.",
                                 "bn": "\u0998\u09b0\u09c7 \u09a5\u09be\u0995\u09c1\u09a8\u0964"})
    spoken = voices(alert, settings)
    assert spoken["ht"] == {"spoken": "en", "language": "en-US", "voice": "Polly.Joanna",
                            "fallback": True}
    assert spoken["bn"] == {"spoken": "bn", "language": "bn-IN",
                            "voice": "Google.bn-IN-Standard-C", "fallback": False}
    assert spoken["en"]["fallback"] is False


def test_text_fit_gathers_it_all_and_the_warnings_point_at_the_saving(settings):
    alert = make_alert()
    fit = text_fit(alert, settings)
    assert set(fit) == {"en", "es"}
    assert fit["en"]["plain_punctuation"]["after"]["segments"] == 2
    assert fit["en"]["wea"]["message"]["fits_360"] is True
    assert fit["en"]["voice"]["voice"] == "Polly.Joanna"
    texts = {"en": "Tocsin demo: " + CURLY}
    warnings = sms_warnings(alert, texts, fit)
    assert "because of '\u2019' (U+2019)" in warnings[0]
    assert warnings[1].startswith("Plain punctuation would make the 'en' SMS GSM-7: "
                                  "3 segment(s) \u2192 2")
    assert sms_warnings(make_alert(channels=["email"]), texts, fit) == []
    # Spanish turns GSM-7 too, in as many segments: offered in text_fit, no warning.
    assert fit["es"]["plain_punctuation"]["after"]["segments"] == 1
    spanish = sms_warnings(alert, {"es": "Tocsin demo: Hierva el agua \u2013 ¡ya!"}, fit)
    assert not [w for w in spanish if w.startswith("Plain punctuation")]
