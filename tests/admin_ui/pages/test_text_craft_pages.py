"""Text craft on the pages: plain punctuation on compose and preview, each text's fit (WEA,
voice), and right-to-left text where a language is shown."""
from __future__ import annotations

import json

from lxml import html as lxml_html
from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.admin_ui.pages.test_alerts import alert_row, compose, residents  # noqa: F401

CURLY = ("Boil water before drinking it: the main broke on Elm St and it\u2019s not yet "
         "repaired. Bottled water at the school gym until 8 pm. Call 311 with questions.")


def page(client, path: str):
    return lxml_html.fromstring(client.get(path).get_data(as_text=True))


def test_the_compose_box_rewrites_the_texts_before_they_are_stored_and_says_so(
        signed_in, residents, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, text_0=CURLY, plain_punctuation="1")
    assert alert_row(settings, alert_id).messages["en"] == CURLY.replace("\u2019", "'")
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert "Plain punctuation written in en: \u2019 \u2192 &#39; (1)." in html


def test_without_the_box_the_preview_offers_it_with_the_segments_saved(
        signed_in, residents, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, text_0=CURLY, channels=["sms", "voice"], lang_1="ht",
                       text_1="Bouyi dlo a.")
    assert alert_row(settings, alert_id).messages["en"] == CURLY  # as written
    doc = page(client, f"/alerts/{alert_id}/preview")
    [plain] = doc.xpath('//*[@data-testid="text-fit-plain-en"]')
    assert (plain.get("data-before"), plain.get("data-after")) == ("3", "2")
    assert "3 \u2192 2 SMS segments with plain quotes and dashes" in plain.text_content()
    assert doc.xpath('//*[@data-testid="text-fit-plain-ht"]')[0].text_content() == "\u2014"
    # WEA lengths, as information.
    [wea] = doc.xpath('//*[@data-testid="text-fit-wea-en"]')
    assert (wea.get("data-fits-90"), wea.get("data-fits-360")) == ("false", "true")
    assert "fits 360 (WEA 3.0), not 90" in wea.text_content()
    assert "fits 90 and 360" in doc.xpath('//*[@data-testid="text-fit-wea-headline-en"]')[0] \
        .text_content()
    # Haitian Creole has no voice: its callers hear the English text.
    [voice] = doc.xpath('//*[@data-testid="text-fit-voice-ht"]')
    assert voice.get("data-fallback") == "true"
    assert "callers hear the en text" in voice.text_content()
    assert "Polly.Joanna" in doc.xpath('//*[@data-testid="text-fit-voice-en"]')[0].text_content()

    # One click rewrites the draft; the note says what changed; the audit too.
    assert doc.xpath('//*[@data-testid="use-plain-punctuation"]')
    response = client.post(f"/alerts/{alert_id}/plain-punctuation",
                           data={"csrf_token": client.csrf})
    assert response.status_code == 302 and response.location.endswith(f"/alerts/{alert_id}/preview")
    assert alert_row(settings, alert_id).messages == {"en": CURLY.replace("\u2019", "'"),
                                                      "ht": "Bouyi dlo a."}
    after = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert "Plain punctuation written in en:" in after
    assert 'data-testid="use-plain-punctuation"' not in after  # nothing left to gain
    with session_scope(settings.database_url) as session:
        details = session.scalars(select(AuditEvent.details)
                                  .where(AuditEvent.action == "alert.update")).one()
    assert details["plain_punctuation"]["en"][0]["from"] == "\u2019"


def test_a_sent_alert_cannot_be_rewritten(signed_in, residents, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, text_0=CURLY, status="Exercise")
    client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf})
    response = client.post(f"/alerts/{alert_id}/plain-punctuation",
                           data={"csrf_token": client.csrf})
    assert response.status_code == 302 and response.location.endswith(f"/alerts/{alert_id}")
    assert alert_row(settings, alert_id).messages["en"] == CURLY


def test_the_compose_counter_says_what_plain_punctuation_would_make_of_the_sms(signed_in):
    client = signed_in("dispatcher")
    answer = client.post("/alerts/sms-info.json", json={"text": CURLY, "language": "en"},
                         headers={"X-CSRFToken": client.csrf}).get_json()
    assert (answer["encoding"], answer["segments"]) == ("UCS-2", 3)
    assert answer["plain"] == {"encoding": "GSM-7", "segments": 2}
    plain = client.post("/alerts/sms-info.json", json={"text": "Stay inside.", "language": "en"},
                        headers={"X-CSRFToken": client.csrf}).get_json()
    assert plain["plain"] is None


def test_message_rows_take_the_direction_of_their_language(signed_in, residents):
    client = signed_in("dispatcher")
    alert_id = compose(client, lang_1="ar", text_1="\u0627\u0628\u0642\u0648\u0627 \u0641\u064a "
                                                   "\u0627\u0644\u0645\u0646\u0627\u0632\u0644.")
    doc = page(client, f"/alerts/new?from={alert_id}")
    english, arabic = doc.xpath('//*[@id="message-rows"]//textarea')
    assert (english.get("lang"), english.get("dir")) == ("en", "ltr")
    assert (arabic.get("lang"), arabic.get("dir")) == ("ar", "rtl")
    directions = json.loads(doc.xpath('//*[@id="message-rows"]')[0].get("data-directions"))
    assert (directions["ar"], directions["en"], directions["zh-Hant"]) == ("rtl", "ltr", "ltr")
    # A row without a language yet lets the browser judge.
    [blank] = doc.xpath('//template[@id="message-row-template"]')
    assert 'dir="auto"' in lxml_html.tostring(blank, encoding="unicode")
    # The preview shows the Arabic SMS right to left.
    preview = page(client, f"/alerts/{alert_id}/preview")
    [sms] = preview.xpath('//*[@data-testid="preview-sms-ar"]//blockquote')
    assert (sms.get("lang"), sms.get("dir")) == ("ar", "rtl")


def test_the_admin_in_arabic_is_laid_out_right_to_left(signed_in):
    client = signed_in("dispatcher")
    doc = page(client, "/alerts?lang=ar")
    assert (doc.get("lang"), doc.get("dir")) == ("ar", "rtl")
    assert doc.xpath("//link[contains(@href, 'css/fonts.css')]")
    assert page(client, "/alerts?lang=en").get("dir") == "ltr"
