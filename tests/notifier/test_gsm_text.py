"""Plain punctuation: which characters are swapped, and that no letter ever is."""
from __future__ import annotations

import pytest

from notifier.gsm_text import PLAIN, describe, gsm_safe, is_gsm
from notifier.render import sms_info


@pytest.mark.parametrize("text, plain", [
    ("Don\u2019t drink tap water.", "Don't drink tap water."),
    ("\u2018Shelter\u2019 \u201cnow\u201d \u201ehere\u201f", "'Shelter' \"now\" \"here\""),
    ("Main St \u2013 Elm St \u2014 closed \u2012 \u2015 \u2010 \u2011 \u2212", "Main St - Elm St - closed - - - - -"),
    ("Wait\u2026", "Wait..."),
    ("10\u00a0km\u2007away\u202fnow\u2009please", "10 km away now please"),
    ("Stay\u200b inside\u2060\ufeff", "Stay inside"),
    ("\u2022 Close windows\n\u2022 Stay inside", "- Close windows\n- Stay inside"),
    ("\u00abRestez chez vous\u00bb", '"Restez chez vous"'),
    ("5\u2032 of water, 2\u2033 of rain", "5' of water, 2\" of rain"),
    ("Evacua\u00adtion", "Evacuation"),
    # Accented letters of the GSM alphabet stay as they are.
    ("Qu\u00e9dese adentro \u2013 \u00a1ya!", "Quédese adentro - ¡ya!"),
])
def test_it_swaps_typographic_punctuation_for_its_gsm_look_alike(text, plain):
    swapped, substitutions = gsm_safe(text)
    assert swapped == plain
    assert is_gsm(swapped) and substitutions


@pytest.mark.parametrize("text", [
    "Restez \u00e0 l\u2019int\u00e9rieur, fen\u00eatres ferm\u00e9es.",  # ê is outside GSM
    "Gy\u0151r \u2013 closed",                                      # ő too
    "\u8bf7\u7559\u5728\u5ba4\u5185\u201c\u73b0\u5728\u201d",        # Chinese keeps its quotes
    "\u0627\u0628\u0642\u0648\u0627 \u0641\u064a \u0627\u0644\u0645\u0646\u0627\u0632\u0644\u2026",
    "\u0939\u093f\u0902\u200d\u0926\u0940 \u2013",                   # a joiner shapes Indic text
    "Stay inside \U0001F6A8 \u2013 now",                            # an emoji stays UCS-2
])
def test_a_text_that_stays_ucs2_anyway_is_left_exactly_as_written(text):
    assert gsm_safe(text) == (text, [])


def test_a_gsm_text_needs_nothing():
    assert gsm_safe("Stay indoors. Close windows & doors: 50% [now] \u20ac") == (
        "Stay indoors. Close windows & doors: 50% [now] \u20ac", [])


def test_no_letter_or_digit_is_ever_swapped():
    assert not [ch for ch in PLAIN if ch.isalnum()]
    assert all(is_gsm(plain) for plain in PLAIN.values())


def test_it_counts_each_swap_in_order_of_first_appearance():
    _text, substitutions = gsm_safe("It\u2019s \u2013 it\u2019s\u00a0now\u2026")
    assert [s.as_dict() for s in substitutions] == [
        {"from": "\u2019", "to": "'", "count": 2, "codepoint": "U+2019"},
        {"from": "\u2013", "to": "-", "count": 1, "codepoint": "U+2013"},
        {"from": "\u00a0", "to": " ", "count": 1, "codepoint": "U+00A0"},
        {"from": "\u2026", "to": "...", "count": 1, "codepoint": "U+2026"}]
    assert describe([s.as_dict() for s in substitutions]) == (
        "\u2019 \u2192 ' (2), \u2013 \u2192 - (1), U+00A0 \u2192 U+0020 (1), \u2026 \u2192 ... (1)")
    assert describe([{"from": "\u200b", "to": "", "count": 3}]) == "U+200B \u2192 \u2205 (3)"


def test_one_curly_apostrophe_is_the_difference_between_two_segments_and_three():
    text = "Boil water before drinking it: the main broke on Elm St and it\u2019s not yet " \
           "repaired. Bottled water at the school gym until 8 pm. Call 311 with questions, " \
           "or to report a leak."
    assert sms_info(text) == {"encoding": "UCS-2", "segments": 3, "characters": 172}
    assert sms_info(gsm_safe(text)[0]) == {"encoding": "GSM-7", "segments": 2, "characters": 172}
