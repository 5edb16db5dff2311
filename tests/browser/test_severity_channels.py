"""Channels by severity in a real browser (DESIGN §12): the boxes follow the severity, a box
ticked by hand means "these channels", and those that differ ask why before the preview."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from tests.browser.conftest import axe_violations
from tests.browser.test_dispatcher_flow import sign_in
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser


@pytest.fixture
def routed(env, monkeypatch) -> Settings:
    """Sandboxed, SEVERITY_CHANNELS at its default; SOCIAL_URLS so every channel can send."""
    base = {k: v for k, v in env.items() if k != "SEVERITY_CHANNELS"}
    monkeypatch.delenv("SEVERITY_CHANNELS", raising=False)
    settings = Settings.from_env(use_env(monkeypatch, base, SANDBOX="1", MAP_TILE_URL="none",
                                         SOCIAL_URLS="json://127.0.0.1:9/posts"))
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def boxes(page) -> list[str]:
    return [box.get_attribute("value") for box in page.locator('input[name="channels"]').all()
            if box.is_checked()]


def test_the_channel_boxes_follow_the_severity_until_the_dispatcher_ticks_one(
        routed, serve, page):
    base = serve(create_app(routed))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    expect(page.get_by_test_id("channels-by-severity")).to_be_checked()
    expect(page.get_by_test_id("severity-channels-Minor")).to_have_text("Minor: email, social")
    page.get_by_test_id("compose-severity").select_option("Minor")
    assert boxes(page) == ["email", "social"]
    page.get_by_test_id("compose-severity").select_option("Extreme")
    assert boxes(page) == ["sms", "voice", "email", "social"]
    assert axe_violations(page) == []

    page.get_by_test_id("status-Exercise").check()
    page.get_by_test_id("compose-headline").fill("Road closed")
    page.get_by_test_id("compose-category").select_option("Transport")
    page.get_by_test_id("compose-severity").select_option("Minor")
    page.get_by_test_id("compose-urgency").select_option("Expected")
    page.get_by_test_id("compose-certainty").select_option("Observed")
    page.get_by_test_id("message-text-0").fill("Main St is closed until 6 PM.")
    page.get_by_test_id("compose-everyone").check()
    page.get_by_test_id("channel-sms").click()  # by hand: "the channels ticked below"
    expect(page.get_by_test_id("channels-ticked")).to_be_checked()
    page.get_by_test_id("compose-preview").click()
    expect(page.get_by_test_id("errors-channels_reason")).to_contain_text("say why")
    page.get_by_test_id("channels-reason").fill("The detour needs drivers to know now")
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    expect(page.get_by_test_id("preview-sms-en")).to_contain_text("Main St is closed")
