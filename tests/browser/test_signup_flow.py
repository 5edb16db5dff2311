"""A resident signs up on a phone in a real browser, in Spanish and in Arabic (right to left):
suggestions as they type, the code read from the sandbox outbox, axe-core finds nothing serious
on the form or the confirmation, and nothing scrolls sideways."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admin_ui import create_app
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Subscriber
from tests.admin_ui.api.test_addresses import load_town
from tests.admin_ui.signup_support import last_code
from tests.browser.conftest import axe_violations
from tests.browser.test_mobile import PHONE, too_wide

pytestmark = pytest.mark.browser
NUMBER = "+16175550142"


@pytest.mark.parametrize("locale, tag, direction", [("es-ES", "es", "ltr"), ("ar", "ar", "rtl")])
def test_a_resident_signs_up_on_a_phone_and_confirms_with_the_texted_code(
        env, serve, chromium, locale, tag, direction):
    settings = Settings.from_env({**env, "SANDBOX": "1"})
    load_town(settings)
    context = chromium.new_context(viewport=PHONE, locale=locale)
    page = context.new_page()
    try:
        base = serve(create_app(settings))
        page.goto(base + "/signup")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", tag)
        expect(html).to_have_attribute("dir", direction)
        page.get_by_test_id("signup-phone").fill("617 555 0142")
        page.get_by_test_id("signup-language").select_option(tag)
        page.get_by_test_id("signup-address-0").press_sequentially("ave", delay=30)
        expect(page.locator("#address-suggestions-0 option")).to_have_count(3)
        page.get_by_test_id("signup-address-0").fill("9 Main St")
        page.get_by_test_id("signup-channel-sms").check()
        page.get_by_test_id("signup-consent").check()
        assert axe_violations(page) == []
        layout = too_wide(page)
        assert layout["scrollWidth"] <= PHONE["width"] and layout["wide"] == [], layout
        page.get_by_test_id("signup-submit").click()
        expect(page.get_by_test_id("code-form")).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_test_id("code-input").fill(last_code(settings, NUMBER))
        page.get_by_test_id("code-submit").click()
        expect(page.get_by_test_id("phone-confirmed")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("dir", direction)
        assert axe_violations(page) == []
    finally:
        context.close()
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.scalar(select(Subscriber).where(Subscriber.phone == NUMBER))
        assert (sub.language, sub.channels) == (tag, ["sms"])


def test_my_page_opens_from_the_texted_link_and_stops_everything_axe_clean(env, serve, chromium):
    from notifier.models import OptOut
    from tests.admin_ui.conftest import make_subscriber
    from tests.admin_ui.signup_support import last_link

    settings = Settings.from_env({**env, "SANDBOX": "1"})
    load_town(settings)
    with session_scope(settings.database_url) as session:
        make_subscriber(session, phone=NUMBER, language="vi", channels=["sms"])
    context = chromium.new_context(viewport=PHONE, locale="vi")
    page = context.new_page()
    try:
        base = serve(create_app(settings))
        page.goto(base + "/me")
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        assert axe_violations(page) == []
        page.get_by_test_id("me-address").fill("617-555-0142")
        page.get_by_test_id("me-send-link").click()
        expect(page.get_by_test_id("me-notes")).to_be_visible()
        page.goto(base + last_link(settings, NUMBER))
        page.get_by_test_id("message-button").click()
        expect(page.get_by_test_id("me-form")).to_be_visible()
        assert axe_violations(page) == []
        layout = too_wide(page)
        assert layout["scrollWidth"] <= PHONE["width"] and layout["wide"] == [], layout
        page.get_by_test_id("me-stop").click()
        expect(page.get_by_test_id("me-stopped")).to_be_visible()
    finally:
        context.close()
    with session_scope(settings.database_url, readonly=True) as session:
        assert set(session.scalars(select(OptOut.channel).where(OptOut.address == NUMBER))) == \
            {"sms", "voice"}
