"""Public channels through the API and pages: a zone's own accounts (masked when shown, kept
when sent back masked), the preview's post texts."""
from __future__ import annotations

import pytest

from notifier.config import Settings
from tests.admin_ui.api.test_alerts import ALERT
from tests.admin_ui.api.test_zones import BEAT

ZONES = "/api/v1/zones"
TOKEN_URL = "mastodon://beat3-secret-token@mastodon.example"


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({**env, "SOCIAL_URLS": "mastodon://agency-secret@mastodon.example",
                              "AGENCY_NAME": "Metro PD"})


def test_a_zones_accounts_are_masked_when_shown_and_kept_when_sent_back_masked(client, auth):
    headers = auth("dispatcher")
    made = client.put(f"{ZONES}/beat-3", json={**BEAT, "social_urls": [f"es: {TOKEN_URL}"]},
                      headers=headers)
    assert made.status_code == 201, made.get_json()
    shown = made.get_json()["social_urls"]
    assert len(shown) == 1 and shown[0].startswith("es: mastodon://mastodon.example #")
    assert "secret" not in made.get_data(as_text=True)
    # What a client read, sent back unchanged, keeps the stored account.
    again = client.put(f"{ZONES}/beat-3", json={**BEAT, "social_urls": shown}, headers=headers)
    assert again.status_code == 200 and again.get_json()["social_urls"] == shown
    # Omitted, the accounts stay; an empty list removes them.
    kept = client.put(f"{ZONES}/beat-3", json=BEAT, headers=headers)
    assert kept.get_json()["social_urls"] == shown
    gone = client.put(f"{ZONES}/beat-3", json={**BEAT, "social_urls": []}, headers=headers)
    assert gone.get_json()["social_urls"] == []


def test_a_bad_account_is_a_422_in_words(client, auth):
    response = client.put(f"{ZONES}/beat-3", json={**BEAT, "social_urls": [
        "not a url", "mastodon://mastodon.example #ffff"]}, headers=auth("dispatcher"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["social_urls"]
    assert errors[0] == "not a url is not an Apprise URL (scheme://…)"
    assert "is masked and is not one of this zone's accounts" in errors[1]


def test_the_preview_shows_each_post_as_it_will_be_sent(client, auth):
    headers = auth("dispatcher")
    client.put(f"{ZONES}/beat-3", json={**BEAT, "social_urls": [TOKEN_URL]}, headers=headers)
    body = {**ALERT, "channels": ["sms", "social"],
            "area": {**ALERT["area"], "zones": ["beat-3"]}}
    preview = client.post("/api/v1/alerts/preview", json=body, headers=headers)
    assert preview.status_code == 200, preview.get_json()
    posts = preview.get_json()["posts"]
    assert len(posts) == 2  # the agency's account and the beat's
    for post in posts:
        assert post["text"] == f"Metro PD: {ALERT['messages']['en']}"
        assert post["length"] == len(post["text"]) and post["limit"] == 500
        assert "secret" not in post["address"]
    exercise = client.post("/api/v1/alerts/preview", json={**body, "status": "Exercise"},
                           headers=headers)
    assert exercise.get_json()["posts"] == []  # an exercise never reaches the public
