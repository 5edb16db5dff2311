"""The alert page in a real browser while the server stops answering, in the sandbox, while
the fan-out writes rows, and on a phone (issue 11 items 4 and 5)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.browser.conftest import axe_violations, screenshot
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser
CLOCK = r"\d\d:\d\d:\d\d [A-Z]+"


@pytest.fixture
def sandboxed(env, monkeypatch) -> Settings:
    """SANDBOX=1 (every channel simulated) and a dispatcher, Dana."""
    settings = Settings.from_env(use_env(monkeypatch, env, SANDBOX="1"))
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def sending_alert(settings: Settings, *statuses: str, **overrides) -> int:
    """A sending SMS alert with one delivery per status (sandbox provider ids)."""
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, state="sending", **overrides)
        add_rows(session, alert, statuses)
        return alert.id


def add_rows(session, alert, statuses, first: int = 0) -> None:
    for i, status in enumerate(statuses, start=first):
        sub = make_subscriber(session, phone=f"+1617555{i:04d}")
        make_delivery(session, alert, sub, status=status, provider_id=f"SB{i:032x}")


def open_alert(page, base: str, alert_id: int) -> None:
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("dana")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")
    page.goto(f"{base}/alerts/{alert_id}")


def test_the_page_warns_after_two_failed_polls_and_clears_when_answers_return(
        sandboxed, serve, page, tmp_path):
    alert_id = sending_alert(sandboxed, "delivered", "pending")
    base = serve(create_app(sandboxed))
    open_alert(page, base, alert_id)
    status, warning = page.get_by_test_id("live-status"), page.get_by_test_id("live-stale")
    expect(status).to_have_text(re.compile(rf"^Last updated {CLOCK}\."))
    assert "every 2 seconds" not in page.content()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_be_hidden()  # empty: nothing to announce

    failed = []
    page.route("**/stats.json", lambda route: (failed.append(route.request.url), route.abort()))
    while not failed:
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)
    assert len(failed) == 1 and warning.inner_text() == ""  # one miss is not yet a warning
    expect(warning).to_have_text(re.compile(
        rf"^No update since {CLOCK} — the server is not answering; these numbers may be out of date\.$"),
        timeout=12_000)
    assert len(failed) >= 2  # not after the first miss
    last = re.search(CLOCK, status.inner_text()).group(0)
    assert last in warning.inner_text()  # the time of the last poll that was answered
    expect(warning).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "alert-stale", tmp_path)

    with session_scope(sandboxed.database_url) as session:
        add_rows(session, session.get(Alert, alert_id), ["delivered"], first=5)
    page.unroute("**/stats.json")
    expect(warning).to_be_hidden(timeout=8_000)
    expect(warning).to_have_text("")
    expect(page.get_by_test_id("count-sms-delivered")).to_have_text("2")
    expect(status).to_have_text(re.compile(rf"^Last updated {CLOCK}\."))


def test_a_signed_out_page_says_so_rather_than_blaming_the_server(sandboxed, serve, page):
    alert_id = sending_alert(sandboxed, "pending")
    base = serve(create_app(sandboxed))
    open_alert(page, base, alert_id)
    page.context.clear_cookies()
    expect(page.get_by_test_id("live-stale")).to_have_text(
        re.compile(rf"^No update since {CLOCK} — you have been signed out"), timeout=12_000)


def test_a_sandboxed_channel_is_marked_simulated_beside_its_counts_and_rows(
        sandboxed, serve, page, tmp_path):
    alert_id = sending_alert(sandboxed, "delivered", "delivered", "failed")
    base = serve(create_app(sandboxed))
    open_alert(page, base, alert_id)
    expect(page.get_by_test_id("mode-mark-sms")).to_have_text("(simulated)")
    expect(page.get_by_test_id("counts-channel-sms")).to_contain_text("SMS")
    note = page.get_by_test_id("mode-note-sms")
    expect(note).to_contain_text("simulated: training mode")
    expect(note).to_contain_text("nobody receives them")
    expect(note).to_contain_text("SANDBOX=1")
    statuses = page.get_by_test_id("delivery-status").all_inner_texts()
    assert statuses == ["Delivered (simulated)", "Delivered (simulated)", "Failed"]
    expect(page.get_by_text("Residents it would have reached (simulated)")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "alert-sandbox", tmp_path)


def test_the_deliveries_table_never_says_none_under_counts_that_show_deliveries(
        sandboxed, serve, page, tmp_path):
    # Opened straight after Send, before the fan-out wrote a row (what issue 11 saw).
    alert_id = sending_alert(sandboxed)
    base = serve(create_app(sandboxed))
    open_alert(page, base, alert_id)
    empty = page.get_by_test_id("deliveries-empty")
    expect(empty).to_contain_text("still being chosen")
    expect(page.get_by_test_id("deliveries-stale")).to_be_hidden()

    with session_scope(sandboxed.database_url) as session:
        add_rows(session, session.get(Alert, alert_id), ["delivered"] * 3)
    expect(page.get_by_test_id("alert-progress")).to_have_attribute("data-percent", "100")
    expect(page.get_by_test_id("count-sms-delivered")).to_have_text("3")
    expect(empty).to_have_text(
        "Deliveries have been recorded since this table was loaded: refresh the table to see them.")
    assert "None yet" not in page.content()
    expect(page.get_by_test_id("deliveries-stale")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_test_id("deliveries-refresh").click()
    expect(page.get_by_test_id("delivery-status")).to_have_count(3)
    expect(page.get_by_test_id("deliveries-total")).to_have_text("3 deliveries")
    page.wait_for_timeout(2_500)  # a poll: the counts still match the table
    expect(page.get_by_test_id("deliveries-stale")).to_be_hidden()


def test_polling_stops_once_every_message_has_its_last_status(sandboxed, serve, page):
    alert_id = sending_alert(sandboxed, "delivered", "pending")
    base = serve(create_app(sandboxed))
    open_alert(page, base, alert_id)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/stats.json") else None)
    with session_scope(sandboxed.database_url) as session:
        session.get(Alert, alert_id).state = "sent"
        add_rows(session, session.get(Alert, alert_id), ["failed"], first=7)
        from sqlalchemy import update

        from notifier.models import Delivery
        session.execute(update(Delivery).where(Delivery.status == "pending")
                        .values(status="delivered"))
    expect(page.get_by_test_id("live-status")).to_have_text(
        re.compile(rf"^Final numbers as of {CLOCK}: every message has its last status\.$"),
        timeout=12_000)
    expect(page.get_by_test_id("alert-state")).to_have_text("Sent")
    seen = len(polls)
    page.wait_for_timeout(4_500)
    assert len(polls) == seen  # nothing will change: no more polls


def test_the_alert_page_fits_a_phone(sandboxed, serve, chromium, tmp_path):
    alert_id = sending_alert(sandboxed, "delivered", "failed", "pending")
    base = serve(create_app(sandboxed))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        open_alert(page, base, alert_id)
        expect(page.get_by_test_id("counts")).to_be_visible()
        live = page.evaluate("""() => {
          const r = document.getElementById('live').getBoundingClientRect();
          return {right: r.right, width: document.documentElement.clientWidth,
                  counts: document.querySelector('[data-testid=counts]').getBoundingClientRect().right};
        }""")
        assert live["right"] <= live["width"] and live["counts"] <= live["width"], live
        screenshot(page, "alert-phone", tmp_path)
        print("page scroll width at 390:", page.evaluate("document.documentElement.scrollWidth"))
    finally:
        context.close()
