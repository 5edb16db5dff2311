"""A dispatcher starts an alert from a template in a real browser: every language's row is
filled before the preview, the page stays accessible, and the preview shows the texts."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts, languages
from notifier.config import Settings
from notifier.db import session_scope
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dispatcher_flow import sign_in
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox(env, monkeypatch) -> Settings:
    """A sandboxed installation with the dispatcher `dana`, its clocks in New York."""
    settings = Settings.from_env(use_env(monkeypatch, env, SANDBOX="1", MAP_TILE_URL="none",
                                         TIMEZONE="America/New_York"))
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def test_a_dispatcher_fills_a_weather_warning_from_a_template_and_previews_it(
        sandbox, serve, page, tmp_path):
    base = serve(create_app(sandbox))
    sign_in(page, base)
    page.get_by_test_id("nav-new-alert").click()
    page.get_by_test_id("template-choice").select_option("severe_weather")
    page.get_by_test_id("template-choose").click()
    page.wait_for_url("**/alerts/new?template=severe_weather")
    page.get_by_test_id("param-area").fill("Downtown")
    page.get_by_test_id("param-until").fill("2099-11-24T18:00")
    page.get_by_test_id("template-fill").click()
    expect(page.get_by_test_id(f"message-text-{len(languages.TAGS) - 1}")).to_be_visible()
    assert page.get_by_test_id("message-lang-7").input_value() == "ar"
    assert page.get_by_test_id("message-text-0").input_value().startswith(
        "SEVERE WEATHER WARNING for Downtown until Tue, Nov 24, 2099, 6:00 PM.")
    assert page.get_by_test_id("compose-severity").input_value() == "Severe"
    assert page.get_by_test_id("headline-ar").input_value() == "تحذير من طقس شديد: Downtown"
    expect(page.get_by_test_id("machine-languages")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "compose-template", tmp_path)

    page.get_by_test_id("status-Exercise").check()
    page.get_by_test_id("compose-everyone").check()
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    assert "AVISO DE TIEMPO SEVERO para Downtown" in page.get_by_test_id("preview-sms-es").inner_text()
    assert "UNWETTERWARNUNG für Downtown" in page.get_by_test_id("preview-sms-de").inner_text()
    assert axe_violations(page) == []


def test_a_dispatcher_orders_an_evacuation_from_its_template_and_the_preview_names_the_fallback(
        sandbox, serve, page):
    from notifier.models import Location
    from tests.admin_ui.conftest import make_subscriber
    with session_scope(sandbox.database_url) as session:
        for n, tag in enumerate(("es", "zh-TW", "it")):
            make_subscriber(session, phone=f"+1617555{n:04d}", language=tag,
                            locations=[Location(label="home", lat=42.36, lon=-71.06)])
    base = serve(create_app(sandbox))
    sign_in(page, base)
    page.goto(base + "/alerts/new?template=evacuate_now")
    page.get_by_test_id("param-area").fill("Main St between 1st and 5th")
    page.get_by_test_id("param-shelter").fill("Lincoln High School")
    page.get_by_test_id("param-by").fill("2099-06-01T16:30")
    page.get_by_test_id("template-fill").click()
    expect(page.get_by_test_id(f"message-text-{len(languages.TAGS) - 1}")).to_be_visible()
    assert page.get_by_test_id("message-text-0").input_value().startswith(
        "EVACUATE NOW: Main St between 1st and 5th. Leave immediately. Deadline to leave: "
        "Mon, Jun 1, 2099, 4:30")
    page.get_by_test_id("status-Actual").check()  # previewed, not sent
    page.get_by_test_id("compose-everyone").check()
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    assert "Plazo para salir: lun, 1 jun 2099, 16:30" in page.get_by_test_id(
        "preview-sms-es").inner_text()
    # Taiwan's reader gets Traditional Chinese (their own); only Italian falls back, and says so.
    fallbacks = page.get_by_test_id("preview-fallbacks")
    expect(fallbacks.get_by_test_id("preview-fallback-it")).to_contain_text("English")
    expect(fallbacks.get_by_test_id("preview-fallback-zh-TW")).to_have_count(0)
    assert axe_violations(page) == []
