"""POST /api/v1/alerts/preview: each resident language with the text its readers get."""
from __future__ import annotations

import itertools

import pytest

from notifier.db import session_scope
from notifier.models import Location
from tests.admin_ui.api.test_alerts import URL, with_changes
from tests.admin_ui.api.test_openapi import check_answer
from tests.admin_ui.conftest import make_subscriber

MESSAGES = {"en": "Stay indoors.", "es": "Quédese adentro.", "zh-Hans": "请留在室内。"}
TOWN = {"es-MX": 3, "zh-TW": 2, "zh-Hant": 1, "de": 4, "fil": 1, "en": 2, "sw": 1}


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def test_the_preview_says_who_gets_their_own_language_and_who_a_fallback(
        client, headers, settings, document):
    numbers = itertools.count(200)
    with session_scope(settings.database_url) as session:
        for language, n in TOWN.items():
            for _ in range(n):
                sub = make_subscriber(session, phone=f"+1617555{next(numbers):04d}",
                                      language=language)
                sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))
    response = client.post(f"{URL}/preview", headers=headers,
                           json=with_changes(messages=MESSAGES, channels=["sms"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    readers = {e["language"]: (e["residents"], e["gets"], e["own"], e["missing"], e["catalog"])
               for e in body["resident_languages"]}
    assert readers == {
        "es-MX": (3, "es", True, None, "es"),
        "en": (2, "en", True, None, "en"),
        "zh-TW": (2, "zh-Hans", False, "zh-Hant", "zh-Hant"),
        "zh-Hant": (1, "zh-Hans", False, "zh-Hant", "zh-Hant"),
        "de": (4, "en", False, "de", "de"),
        "fil": (1, "en", False, "tl", "tl"),
        "sw": (1, "en", False, "sw", None),
    }
    assert [e["language"] for e in body["resident_languages"]][:2] == ["de", "es-MX"]
    assert body["fixed_texts_in_english"] == 1
    # The keys that were there keep their shape.
    assert body["recipients"] == 14
    assert body["languages"] == {"en": 8, "es": 3, "zh-Hans": 3}
    assert set(body["sms"]) == set(MESSAGES)
    check_answer(document, "/api/v1/alerts/preview", "POST", response)
