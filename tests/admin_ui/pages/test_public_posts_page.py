"""The dispatcher pages and public posts: social is offered once there are accounts, and the
preview shows each post as it will be sent (cut at a word with the page link when too long)."""
from __future__ import annotations

import html as html_text

import pytest

from notifier.config import Settings
from tests.admin_ui.pages.test_alerts import compose, form, residents  # noqa: F401,F811 - a fixture

LONG = "Gas leak on Main Street. Leave the buildings on both sides now and walk upwind. " * 8


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({**env, "SOCIAL_URLS": "mastodon://agency-secret@mastodon.example",
                              "AGENCY_NAME": "Metro PD"})


def test_social_is_offered_on_the_compose_page_once_it_has_accounts(signed_in):
    page = signed_in("dispatcher").get("/alerts/new").get_data(as_text=True)
    tag = page[page.rindex("<input", 0, page.index('data-testid="channel-social"')):]
    tag = tag[:tag.index(">")]
    assert "disabled" not in tag


def test_the_preview_shows_the_post_cut_for_mastodon_with_the_page_link(signed_in, residents):
    client = signed_in("dispatcher")
    alert_id = compose(client, channels=["sms", "social"], text_0=LONG)
    page = html_text.unescape(client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True))
    post = page.split('data-testid="preview-post"')[1].split("</figure>")[0]
    assert "mastodon://mastodon.example #" in post and "agency-secret" not in page
    text = post.split('data-testid="preview-post-text">')[1].split("</blockquote>")[0]
    assert text.startswith("Metro PD: Gas leak on Main Street.") and "… http" in text
    length = post.split('data-testid="preview-post-length">')[1].split("<")[0]
    shown, limit = [int(n) for n in length.split() if n.isdigit()]
    assert limit == 500 and 480 < shown <= 500


def test_the_compose_pages_count_carries_the_posts_with_the_texts_as_written(signed_in, residents):
    client = signed_in("dispatcher")
    data = form(client, channels=["sms", "social"], text_0="Boil water until Friday.")
    got = client.post("/alerts/reach.json", data=data, headers={"Accept": "application/json"})
    assert got.status_code == 200
    [post] = got.get_json()["posts"]
    assert post["text"] == "Metro PD: Boil water until Friday."
    assert post["caption"].endswith("· en · 34 of 500 characters")
    # No text yet: no post to show (the count itself needs none).
    blank = client.post("/alerts/reach.json", headers={"Accept": "application/json"},
                        data=form(client, channels=["sms", "social"], text_0="", text_1=""))
    assert blank.get_json()["posts"] == []
    # An exercise posts nothing.
    drill = client.post("/alerts/reach.json", headers={"Accept": "application/json"},
                        data=form(client, channels=["sms", "social"], status="Exercise"))
    assert drill.get_json()["posts"] == []
