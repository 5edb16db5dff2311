"""The compose page shows each public post as it will be sent, once social is ticked and a text
is written; axe-core finds nothing serious."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Zone
from tests.browser.conftest import axe_violations
from tests.browser.test_dispatcher_flow import sign_in
from tests.browser.test_offline_map import square
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser

LONG = "Gas leak on Main Street. Leave the buildings on both sides now and walk upwind. " * 8


@pytest.fixture
def town(env, monkeypatch) -> Settings:
    settings = Settings.from_env(use_env(
        monkeypatch, env, SANDBOX="1", AGENCY_NAME="Metro PD", MAP_TILE_URL="none",
        SOCIAL_URLS="mastodon://agency-token@mastodon.example\nbluesky://metro:pw@bsky.social"))
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
        session.add(Zone(code="north", name="North End", geometry=square(42.40), keywords=[],
                         min_lat=42.40, min_lon=-71.08, max_lat=42.44, max_lon=-71.04))
    return settings


def test_the_posts_follow_the_text_and_are_cut_for_each_service(town, serve, page):
    base = serve(create_app(town))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("zone-north").check()
    page.get_by_test_id("channel-social").check()
    page.get_by_test_id("message-text-0").fill(LONG)
    page.get_by_test_id("message-text-0").blur()
    posts = page.get_by_test_id("compose-post")
    expect(posts).to_have_count(2)
    texts = {p.locator("p").inner_text().split(" #")[0]: p.locator("blockquote").inner_text()
             for p in posts.all()}
    toot, skeet = texts["mastodon://mastodon.example"], texts["bluesky://bsky.social"]
    assert toot.startswith("Metro PD: Gas leak") and "… http" in toot and len(toot) > len(skeet)
    assert len(skeet) <= 280 and "… http" in skeet
    assert "agency-token" not in page.content()
    assert axe_violations(page) == []
    page.get_by_test_id("status-Exercise").check()  # a drill never posts
    expect(page.get_by_test_id("compose-posts")).to_be_hidden()
