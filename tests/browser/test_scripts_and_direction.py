"""Scripts and direction in Chromium: an Arabic public page runs right to left (and the CSS
follows: borders on the start side, nothing scrolls sideways on a phone), Chinese and Hindi
pages say their language and get their script's fonts, a compose row takes its language's
direction as it is chosen, and the admin in Arabic is right to left.

Whether Devanagari or Han glyphs really are drawn (no "tofu") depends on the fonts installed;
this machine has none, so the test checks what the page controls: lang, dir, the font stack."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts, zones
from notifier.config import Settings
from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert
from tests.browser.conftest import axe_violations
from tests.browser.test_dispatcher_flow import sign_in
from tests.browser.test_mobile import PHONE, too_wide

pytestmark = pytest.mark.browser
NOW = datetime.now(timezone.utc).replace(microsecond=0)
NORTH = {"type": "Polygon", "coordinates": [[[-71.08, 42.40], [-71.04, 42.40], [-71.04, 42.44],
                                              [-71.08, 42.44], [-71.08, 42.40]]]}
MESSAGES = {"en": "Chemical leak near Main St. Stay indoors.",
            "ar": "\u062a\u0633\u0631\u0628 \u0643\u064a\u0645\u064a\u0627\u0626\u064a "
                  "\u0642\u0631\u0628 \u0627\u0644\u0634\u0627\u0631\u0639. "
                  "\u0627\u0628\u0642\u0648\u0627 \u0641\u064a \u0645\u0646\u0627\u0632\u0644\u0643\u0645.",
            "zh-Hant": "\u4e3b\u8857\u9644\u8fd1\u5316\u5b78\u54c1\u6d29\u6f0f\u3002\u8acb\u7559\u5728\u5ba4\u5167\u3002",
            "hi": "\u092e\u0947\u0928 \u0938\u094d\u091f\u094d\u0930\u0940\u091f \u0915\u0947 "
                  "\u092a\u093e\u0938 \u0930\u093e\u0938\u093e\u092f\u0928\u093f\u0915 \u0930\u093f\u0938\u093e\u0935\u0964",
            "bn": "\u09ae\u09c7\u0987\u09a8 \u09b8\u09cd\u099f\u09cd\u09b0\u09bf\u099f\u09c7\u09b0 "
                  "\u0995\u09be\u099b\u09c7 \u09b0\u09be\u09b8\u09be\u09af\u09bc\u09a8\u09bf\u0995 \u09ab\u09c1\u099f\u09cb\u0964"}


@pytest.fixture
def published(env) -> tuple[Settings, str]:
    settings = Settings.from_env({**env, "SANDBOX": "1", "MAP_TILE_URL": "none",
                                  "AGENCY_NAME": "Springfield"})
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
        zones.put_zone(session, "north", {"name": "North End", "geometry": NORTH}, NOW)
        alert = make_alert(session, state="sent", sent_at=NOW - timedelta(minutes=5),
                           expires_at=NOW + timedelta(hours=4), headline="Shelter in place",
                           instruction="Close windows and doors.", messages=MESSAGES,
                           area={"description": "Downtown", "zones": ["north"], "circles": [
                               {"lat": 42.36, "lon": -71.06, "radius_m": 500}]})
        return settings, f"/a/{alert.public_id}"


def styles(page, testid: str) -> dict:
    return page.get_by_test_id(testid).evaluate("""e => { const s = getComputedStyle(e);
      return {direction: s.direction, lang: e.lang, fontFamily: s.fontFamily,
              borderLeft: s.borderLeftWidth, borderRight: s.borderRightWidth}; }""")


def test_the_arabic_public_page_runs_right_to_left_on_a_phone(published, serve, chromium):
    settings, path = published
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(serve(create_app(settings)) + path + "?lang=ar")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("[document.documentElement.dir, document.documentElement.lang,"
                             " getComputedStyle(document.body).direction]") == ["rtl", "ar", "rtl"]
        message = styles(page, "message")
        assert (message["direction"], message["lang"]) == ("rtl", "ar")
        assert '"Noto Sans Arabic"' in message["fontFamily"]
        # No Arabic headline was written: the Arabic message's first sentence stands in, right
        # to left; the only instruction is English and keeps its own direction.
        assert styles(page, "headline")["direction"] == "rtl"
        instruction = styles(page, "instruction")
        # Its bar is on the start side of its own (English) text: the left.
        assert (instruction["direction"], instruction["borderLeft"]) == ("ltr", "6px")
        # The page's own lists indent from the right, the start of Arabic lines.
        indent = page.get_by_test_id("zones").evaluate(
            "e => [getComputedStyle(e).paddingRight, getComputedStyle(e).paddingLeft]")
        assert indent == ["20px", "0px"]  # 1.25rem
        assert too_wide(page) == {"scrollWidth": PHONE["width"], "wide": []}
        serious = [v["id"] for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
        assert serious == []
    finally:
        context.close()


@pytest.mark.parametrize("tag, font", [("zh-Hant", '"PingFang TC"'), ("hi", '"Noto Sans Devanagari"'),
                                       ("bn", '"Noto Sans Bengali"')])
def test_chinese_and_indic_pages_name_their_language_and_script_fonts(
        published, serve, page, tag, font):
    settings, path = published
    page.goto(serve(create_app(settings)) + path + f"?lang={tag}")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir,"
                         " document.characterSet]") == [tag, "ltr", "UTF-8"]
    message = styles(page, "message")
    assert message["lang"] == tag and font in message["fontFamily"]
    expect(page.get_by_test_id("message")).to_have_text(MESSAGES[tag])
    # Traditional Chinese glyphs come first for zh-Hant, never the Simplified or Japanese ones.
    if tag == "zh-Hant":
        assert message["fontFamily"].index('"PingFang TC"') < message["fontFamily"].index("system-ui")
        assert '"PingFang SC"' not in message["fontFamily"]


def test_a_compose_row_takes_the_direction_of_the_language_chosen(published, serve, page):
    settings, _path = published
    base = serve(create_app(settings))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    box = page.get_by_test_id("message-text-0")
    expect(box).to_have_attribute("dir", "ltr")
    page.get_by_test_id("add-language").click()
    second = page.get_by_test_id("message-text-1")
    expect(second).to_have_attribute("dir", "auto")  # no language yet
    page.get_by_test_id("message-lang-1").select_option("ar")
    expect(second).to_have_attribute("dir", "rtl")
    expect(second).to_have_attribute("lang", "ar")
    assert second.evaluate("e => getComputedStyle(e).direction") == "rtl"
    page.get_by_test_id("message-lang-1").select_option("zh-Hant")
    expect(second).to_have_attribute("dir", "ltr")
    expect(second).to_have_attribute("lang", "zh-Hant")
    # The counter says what plain punctuation would make of a curly English text.
    box.fill("Boil water before drinking it: the main broke on Elm St and it\u2019s not yet "
             "repaired. Bottled water at the school gym until 8 pm. Call 311 with questions.")
    counter = page.get_by_test_id("sms-counter-0")
    expect(counter).to_have_attribute("data-plain-segments", "2")
    expect(counter).to_contain_text("with plain punctuation: GSM-7, 2 segment(s)")


def test_the_admin_in_arabic_is_right_to_left_and_fits_a_phone(published, serve, chromium):
    settings, _path = published
    base = serve(create_app(settings))
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, base)
        page.goto(base + "/alerts?lang=ar")
        assert page.evaluate("[document.documentElement.dir, "
                             "getComputedStyle(document.body).direction]") == ["rtl", "rtl"]
        assert too_wide(page)["scrollWidth"] == PHONE["width"]
        page.goto(base + "/alerts/new")  # the language stays chosen for the session
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert too_wide(page)["scrollWidth"] == PHONE["width"]
    finally:
        context.close()
