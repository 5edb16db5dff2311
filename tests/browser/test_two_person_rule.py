"""Two dispatchers in two real browsers: Ann composes a live alert to everyone, which waits;
Bob finds it on his dashboard, approves it on its preview; Ann sends it. The alert list and the
dashboard stay axe-core clean throughout."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.db import session_scope
from notifier.models import Alert
from tests.browser.conftest import axe_violations, is_csp_violation, screenshot
from tests.browser.test_dispatcher_flow import town  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def second_page(chromium):
    """Another person's browser: its own context (cookies), the same CSP check as `page`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if is_csp_violation(m.text) else None)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


def sign_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill(name)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")


def test_a_live_alert_to_everyone_waits_for_a_second_dispatcher_then_goes_out(
        town, serve, page, second_page, tmp_path):  # noqa: F811
    with session_scope(town.database_url) as session:
        accounts.create_user(session, "bob", "dispatcher", PASSWORD)
    base = serve(create_app(town))

    # Ann composes a live alert to the whole service area.
    sign_in(page, base, "dana")
    page.get_by_test_id("nav-new-alert").click()
    page.get_by_test_id("status-Actual").check()
    expect(page.locator("body")).to_have_class(re.compile(r"\bstatus-actual\b"))
    page.get_by_test_id("compose-headline").fill("Evacuate the river district")
    page.get_by_test_id("compose-event").fill("Flood Warning")
    page.get_by_test_id("compose-category").select_option("Met")
    page.get_by_test_id("compose-severity").select_option("Extreme")
    page.get_by_test_id("compose-urgency").select_option("Immediate")
    page.get_by_test_id("compose-certainty").select_option("Observed")
    page.get_by_test_id("message-text-0").fill("Leave the river district now. Go uphill.")
    page.get_by_test_id("compose-everyone").check()
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    alert_id = int(page.url.rstrip("/").split("/")[-2])
    expect(page.get_by_test_id("alert-state")).to_have_attribute("data-state", "awaiting-approval")
    expect(page.get_by_test_id("send-button")).to_have_count(0)
    expect(page.get_by_test_id("approve-button")).to_have_count(0)  # never the author's own

    page.get_by_test_id("nav-alerts").click()
    state = page.get_by_test_id(f"alert-state-{alert_id}")
    expect(state).to_have_attribute("data-state", "awaiting-approval")
    expect(state).to_contain_text("Awaiting approval")
    expect(state).to_contain_text("other than user:dana")
    assert axe_violations(page) == []
    page.get_by_test_id("nav-dashboard").click()
    expect(page.get_by_test_id(f"awaiting-mine-{alert_id}")).to_contain_text(
        "Waiting for a second person")
    assert axe_violations(page) == []

    # Bob, at his own desk, finds it on the dashboard and approves it on its preview.
    sign_in(second_page, base, "bob")
    second_page.get_by_test_id("nav-dashboard").click()
    notice = second_page.get_by_test_id("awaiting-approval")
    expect(notice).to_contain_text("1 alert awaiting approval")
    expect(notice).to_contain_text("It goes to everyone in the service area.")
    expect(second_page.get_by_test_id(f"awaiting-approve-{alert_id}")).to_be_visible()
    assert axe_violations(second_page) == []
    screenshot(second_page, "dashboard-awaiting-approval", tmp_path)
    second_page.get_by_test_id(f"awaiting-link-{alert_id}").click()
    second_page.wait_for_url(f"**/alerts/{alert_id}/preview")
    second_page.get_by_test_id("approve-button").click()
    second_page.wait_for_url(f"**/alerts/{alert_id}/preview")
    expect(second_page.get_by_test_id("approval-done")).to_contain_text("user:bob")
    second_page.get_by_test_id("nav-dashboard").click()
    expect(second_page.get_by_test_id("awaiting-approval")).to_have_count(0)

    # Ann sends it, typing SEND.
    page.goto(f"{base}/alerts/{alert_id}/preview")
    page.get_by_test_id("confirm-word").fill("SEND")
    page.get_by_test_id("send-button").click()
    page.wait_for_url(f"{base}/alerts/{alert_id}")
    with session_scope(town.database_url, readonly=True) as session:
        alert = session.get(Alert, alert_id)
        assert (alert.state, alert.approved_by, alert.created_by) == (
            "sending", "user:bob", "user:dana")
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_test_id(f"alert-state-{alert_id}")).to_have_attribute("data-state", "sending")
    assert axe_violations(page) == []
