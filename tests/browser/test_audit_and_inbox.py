"""An admin in a real browser: the audit log (filter, verify the chain), the inbox, the accounts
pages; axe-core finds no serious problem on any of them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from admin_ui import create_app
from notifier import accounts, audit
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import InboundMessage
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser
T0 = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def office(env) -> Settings:
    settings = Settings.from_env({**env, "SANDBOX": "1", "TIMEZONE": "America/New_York"})
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "ada", "admin", "correct horse battery")
        for i in range(3):
            audit.record(session, "user:dana", "alert.send", f"alert:{i}", {"status": "Exercise"},
                         T0 + timedelta(minutes=i))
        for i, body in enumerate(("Is the shelter on Elm St open?", "My street is flooding")):
            session.add(InboundMessage(at=T0 + timedelta(minutes=i), from_number=f"+1617555010{i}",
                                       to_number="+15005550006", body=body, keyword=None))
    return settings


def test_an_admin_reads_the_audit_log_verifies_it_and_reads_the_inbox(page, serve, office,
                                                                       tmp_path):
    app = create_app(office)
    base = serve(app)
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("ada")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/dashboard")

    page.get_by_test_id("nav-audit").click()
    page.wait_for_url(base + "/audit")
    assert page.get_by_test_id("audit-table").locator("tbody tr").count() == 4  # and the sign-in
    page.get_by_test_id("filter-action").select_option("alert.send")
    page.get_by_test_id("filter-submit").click()
    page.wait_for_url("**/audit?**action=alert.send**")
    assert page.get_by_test_id("audit-table").locator("tbody tr").count() == 3
    page.get_by_test_id("verify-chain").click()
    assert page.get_by_test_id("verify-result").get_attribute("data-ok") == "true"
    assert axe_violations(page) == []
    screenshot(page, "audit-log", tmp_path)

    page.get_by_test_id("nav-inbox").click()
    page.wait_for_url(base + "/inbox")
    rows = page.get_by_test_id("inbox-table").locator("tbody tr")
    assert rows.count() == 2 and "flooding" in rows.first.inner_text()
    assert "+16175550101" not in page.content()
    assert axe_violations(page) == []
    screenshot(page, "inbox", tmp_path)

    page.get_by_test_id("nav-users").click()
    page.wait_for_url(base + "/admin/users")
    assert axe_violations(page) == []
    page.get_by_test_id("nav-two-factor").click()
    page.wait_for_url(base + "/account/two-factor")
    assert page.get_by_test_id("totp-secret").inner_text().strip()
    assert axe_violations(page) == []
