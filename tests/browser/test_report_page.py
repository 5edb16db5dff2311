"""An auditor opens an alert's after-action report in a real browser: the chart is drawn, axe
finds nothing serious, and printed it loses the navigation and keeps the chart."""
from __future__ import annotations

from datetime import timedelta

import pytest

from admin_ui import create_app
from notifier import accounts, audit
from notifier.config import Settings
from notifier.db import session_scope
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def sent(env) -> tuple[Settings, int]:
    settings = Settings.from_env({**env, "SANDBOX": "1"})
    with session_scope(settings.database_url) as s:
        accounts.create_user(s, "avery", "auditor", "correct horse battery")
        alert = make_alert(s, state="sent", sent_at=NOW, fanned_out_at=NOW, confirm=True,
                           channels=["sms", "email"])
        for i in range(40):
            person = make_subscriber(s, phone=f"+1617555{i:04d}", name=None,
                                     language="es" if i % 3 == 0 else "en")
            make_delivery(s, alert, person, language=person.language,
                          sent_at=NOW + timedelta(seconds=2 * i),
                          delivered_at=NOW + timedelta(seconds=3 * i + 4) if i % 4 else None,
                          status="delivered" if i % 4 else "sent",
                          acknowledged_at=NOW + timedelta(minutes=2 + i) if i % 5 == 0 else None)
            if i % 2:
                make_delivery(s, alert, person, channel="email", address=f"r{i}@example.org",
                              sent_at=NOW + timedelta(seconds=i), status="sent")
        make_delivery(s, alert, make_subscriber(s, phone="+16175559999"), status="undelivered",
                      error_code="30003", sent_at=NOW + timedelta(seconds=5))
        audit.record(s, "user:dana", "alert.send", f"alert:{alert.id}", {}, NOW)
        return settings, alert.id


def test_an_auditor_reads_the_report_on_screen_and_in_print(page, serve, sent, tmp_path):
    settings, alert_id = sent
    base = serve(create_app(settings))
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("avery")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()
    page.goto(f"{base}/alerts/{alert_id}")
    page.get_by_test_id("report-link").click()
    page.wait_for_url(f"{base}/alerts/{alert_id}/report")

    chart = page.get_by_test_id("report-chart")
    assert chart.locator("svg[role=img] title").first.text_content().startswith("Messages handed")
    assert chart.locator("polyline").count() == 4  # sms and email, handed over and delivered
    assert page.get_by_test_id("report-ack-chart").locator("polyline").count() == 1
    timeline = page.get_by_test_id("report-timeline")
    assert "user:dana" in timeline.locator("tr[data-event=sent]").inner_text()
    assert "30003" in page.get_by_test_id("report-failures").inner_text()
    assert "+1617555" not in page.content() and "example.org" not in page.content()
    assert page.get_by_test_id("print-report").is_visible()  # report.js ran under the CSP
    assert axe_violations(page) == []
    screenshot(page, "alert-report", tmp_path)

    page.emulate_media(media="print")
    assert page.locator("header.top nav").is_hidden()
    assert page.get_by_test_id("back-to-alert").is_hidden()
    assert chart.is_visible()
    pdf = tmp_path / "report.pdf"
    # Chromium prints to PDF only headless; the page must fit A4 without spilling sideways.
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.stat().st_size > 10_000
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280
