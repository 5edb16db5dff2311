"""`"gsm_safe": true` on the alerts API: texts rewritten only when asked, said and audited."""
from __future__ import annotations

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.admin_ui.api.test_alerts import URL, headers, with_changes  # noqa: F401

CURLY = ("Boil water before drinking it: the main broke on Elm St and it\u2019s not yet "
         "repaired. Bottled water at the school gym until 8 pm. Call 311 with questions.")
MESSAGES = {"en": CURLY, "fr": "Faites bouillir l\u2019eau \u2013 fen\u00eatres ferm\u00e9es."}


def test_without_it_the_texts_are_stored_exactly_as_written(client, headers):
    response = client.post(URL, json=with_changes(messages=MESSAGES), headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["messages"] == MESSAGES and "plain_punctuation" not in body


def test_it_rewrites_the_texts_it_makes_gsm7_and_says_so(client, headers, settings):
    response = client.post(URL, json=with_changes(messages=MESSAGES, gsm_safe=True),
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # French keeps its ê (and so stays UCS-2): its apostrophe is left too.
    assert body["messages"] == {"en": CURLY.replace("\u2019", "'"), "fr": MESSAGES["fr"]}
    assert body["plain_punctuation"] == {
        "en": [{"from": "\u2019", "to": "'", "count": 1, "codepoint": "U+2019"}]}
    assert "gsm_safe" not in body
    with session_scope(settings.database_url) as session:
        details = session.scalars(select(AuditEvent.details)
                                  .where(AuditEvent.action == "alert.create")).one()
    assert details["plain_punctuation"] == body["plain_punctuation"]


def test_the_preview_counts_the_segments_before_and_after(client, headers):
    plain = client.post(f"{URL}/preview", json=with_changes(messages=MESSAGES), headers=headers)
    fit = plain.get_json()["text_fit"]
    assert fit["en"]["plain_punctuation"]["before"]["segments"] == 3
    assert fit["en"]["plain_punctuation"]["after"] == {"encoding": "GSM-7", "segments": 2,
                                                       "characters": len("Tocsin demo: " + CURLY)}
    assert fit["fr"]["plain_punctuation"] is None
    assert fit["en"]["wea"]["message"] == {"characters": len(CURLY), "fits_90": False,
                                           "fits_360": True}
    assert fit["en"]["voice"] == {"spoken": "en", "language": "en-US", "voice": "Polly.Joanna",
                                  "fallback": False}
    assert any(w.startswith("Plain punctuation would make the 'en' SMS GSM-7: 3 segment(s) → 2")
               for w in plain.get_json()["warnings"])
    # Asked for, the preview counts the rewritten texts (as they would be stored).
    asked = client.post(f"{URL}/preview", json=with_changes(messages=MESSAGES, gsm_safe=True),
                        headers=headers).get_json()
    assert asked["sms"]["en"] == {"encoding": "GSM-7", "segments": 2,
                                  "characters": len("Tocsin demo: " + CURLY)}
    assert asked["text_fit"]["en"]["plain_punctuation"] is None


def test_a_draft_is_rewritten_by_patch_and_the_change_is_audited(client, headers, settings):
    draft = client.post(URL, json=with_changes(messages=MESSAGES), headers=headers).get_json()
    response = client.patch(f"{URL}/{draft['id']}", json={"gsm_safe": True}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["messages"]["en"] == CURLY.replace("\u2019", "'")
    assert list(response.get_json()["plain_punctuation"]) == ["en"]
    with session_scope(settings.database_url) as session:
        details = session.scalars(select(AuditEvent.details)
                                  .where(AuditEvent.action == "alert.update")).one()
    assert details["fields"] == ["messages"] and "en" in details["plain_punctuation"]


def test_gsm_safe_must_be_a_boolean(client, headers):
    response = client.post(URL, json=with_changes(gsm_safe="please"), headers=headers)
    assert response.status_code == 422
    assert "gsm_safe" in response.get_json()["errors"]
