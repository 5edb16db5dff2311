"""The preview in a real browser: the decision (summary and send box) is in view without
scrolling on a desk screen, sending works from there, and a phone never scrolls sideways."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier.db import session_scope
from notifier.models import Subscriber, SubscriberZone
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_compose_reach import axe_violations_in_main, town  # noqa: F401
from tests.browser.test_dispatcher_flow import sign_in

pytestmark = pytest.mark.browser


def compose_live_alert(page, base: str) -> None:
    page.goto(base + "/alerts/new")
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("zone-north").check()
    page.get_by_test_id("compose-headline").fill("Shelter in place")
    page.get_by_test_id("compose-severity").select_option("Severe")
    page.get_by_test_id("compose-urgency").select_option("Immediate")
    page.get_by_test_id("compose-certainty").select_option("Likely")
    page.get_by_test_id("message-text-0").fill("Stay indoors. Close windows.")
    page.get_by_test_id("add-language").click()
    page.get_by_test_id("message-lang-1").select_option("es")
    page.get_by_test_id("message-text-1").fill("Quédese adentro. Cierre las ventanas.")
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")


def test_the_decision_is_in_view_and_sends_from_there(town, serve, page, tmp_path):
    base = serve(create_app(town))
    sign_in(page, base)
    compose_live_alert(page, base)
    height = page.viewport_size["height"]
    for testid in ("preview-recipients", "preview-channels", "preview-languages",
                   "confirm-word", "send-button"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (testid, box, height)
    assert page.get_by_test_id("preview-warnings").bounding_box()["y"] < height  # begun in view
    assert page.evaluate("() => window.scrollY") == 0
    expect(page.get_by_test_id("preview-recipients")).to_have_text("2")
    expect(page.get_by_test_id("preview-channel-mode-sms")).to_contain_text(
        "Simulated — nobody receives it")
    expect(page.get_by_test_id("preview-segments-es")).to_have_text("1")
    assert axe_violations(page) == []
    screenshot(page, "preview-fallbacks", tmp_path)
    screenshot(page, "preview-decision", tmp_path)
    page.get_by_test_id("confirm-word").fill("SEND")
    page.get_by_test_id("send-button").click()
    page.wait_for_url("**/alerts/*")
    assert "/preview" not in page.url


def test_the_preview_fits_a_phone(town, serve, chromium, tmp_path):
    base = serve(create_app(town))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, base)
        compose_live_alert(page, base)
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
            .filter(e => !e.closest('.leaflet-container') && !e.closest('.table-scroll')
                         && e.getBoundingClientRect().right > 390)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' '
                      + Math.round(e.getBoundingClientRect().right))""")
        assert wide == [], f"wider than a 390 px phone: {wide}"
        assert axe_violations_in_main(page) == []
        screenshot(page, "preview-phone", tmp_path)
    finally:
        context.close()


def test_residents_without_their_language_are_said_in_the_first_screen(town, serve, page,
                                                                      tmp_path):
    with session_scope(town.database_url) as session:
        for i, language in enumerate(("de", "zh-TW", "sw")):
            sub = Subscriber(name=f"F{i}", phone=f"+1617556{i:04d}", language=language,
                             channels=["sms"])
            sub.zone_links.append(SubscriberZone(zone_code="north"))
            session.add(sub)
    base = serve(create_app(town))
    sign_in(page, base)
    compose_live_alert(page, base)
    height = page.viewport_size["height"]
    for testid in ("preview-fallbacks", "preview-channels", "send-button"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (testid, box, height)
    assert page.get_by_test_id("preview-languages").bounding_box()["y"] < height  # begun in view
    expect(page.get_by_test_id("preview-fallback-zh-TW")).to_contain_text(
        "get the English (en) text")
    expect(page.get_by_test_id("preview-fixed-texts-english")).to_contain_text("Kiswahili (sw)")
    assert axe_violations(page) == []
    screenshot(page, "preview-fallbacks", tmp_path)
