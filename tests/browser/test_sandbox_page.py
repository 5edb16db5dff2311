"""Training mode in a real browser: a dispatcher texts JOIN then STOP as a resident from the
sandbox page and sees each reply, and the resident's simulated phone; axe-core is satisfied."""
from __future__ import annotations

import pytest

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def training(env) -> Settings:
    settings = Settings.from_env({**env, "SANDBOX": "1"})
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def text_as_resident(page, body: str) -> str:
    page.get_by_test_id("simulate-from").fill("(617) 555-0100")
    page.get_by_test_id("simulate-body").fill(body)
    page.get_by_test_id("simulate-send").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("simulate-sent").inner_text() == body
    return page.get_by_test_id("simulate-reply").inner_text()


def test_a_dispatcher_simulates_join_then_stop_and_sees_the_replies(training, serve, page, tmp_path):
    base = serve(create_app(training))
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("dana")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")
    page.get_by_test_id("nav-sandbox").click()
    page.wait_for_url(base + "/sandbox")  # is_visible() does not wait for the navigation
    assert page.get_by_test_id("training-banner").is_visible()
    assert axe_violations(page) == []

    assert "subscribed" in text_as_resident(page, "JOIN")
    assert "unsubscribed" in text_as_resident(page, "STOP")
    phone = page.locator('[data-testid="device"][data-address="+16175550100"]')
    messages = phone.get_by_test_id("sandbox-message").all_inner_texts()
    assert len(messages) == 2 and "unsubscribed" in messages[0]  # newest first
    assert axe_violations(page) == []
    screenshot(page, "sandbox", tmp_path)

    page.get_by_test_id("nav-subscribers").click()
    page.get_by_test_id("subscriber-row").first.locator("a").first.click()
    assert "STOP" in page.get_by_test_id("opt-outs").inner_text()  # the STOP is in the ledger
    assert axe_violations(page) == []
