"""The compose page in a real browser: the reach follows the zones, channels, drawn area and
status as they change; the language comes from a pick-list; a channel that cannot send is
disabled with its reason; axe-core finds nothing serious, and a phone never scrolls sideways."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Location, Subscriber, SubscriberZone, Zone
from tests.browser.conftest import AXE, axe_violations, screenshot
from tests.browser.test_dispatcher_flow import draw_square, sign_in
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser

NORTH = {"type": "Polygon", "coordinates": [[[-71.08, 42.40], [-71.04, 42.40], [-71.04, 42.44],
                                              [-71.08, 42.44], [-71.08, 42.40]]]}


@pytest.fixture
def town(env, monkeypatch) -> Settings:
    """Zone `north` (a resident on SMS, one on SMS and email) and two residents downtown (one
    on voice, one on SMS); sandboxed channels."""
    merged = use_env(monkeypatch, env, SANDBOX="1",
                     MAP_TILE_URL="http://127.0.0.1:9/tile.openstreetmap.org/{z}/{x}/{y}.png")
    settings = Settings.from_env(merged)
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
        session.add(Zone(code="north", name="North End", geometry=NORTH, keywords=[],
                         min_lat=42.40, min_lon=-71.08, max_lat=42.44, max_lon=-71.04))
        for i, (email, channels, zone) in enumerate([(None, ["sms"], True),
                                                     ("b@example.org", ["sms", "email"], True),
                                                     (None, ["voice"], False),
                                                     (None, ["sms"], False)]):
            sub = Subscriber(name=f"R{i}", phone=f"+1617555{i:04d}", email=email, language="en",
                             channels=channels)
            if not zone:
                sub.locations.append(Location(label="home", lat=42.36, lon=-71.06 + i * 0.001))
            session.add(sub)
            session.flush()
            if zone:
                session.add(SubscriberZone(subscriber_id=sub.id, zone_code="north"))
    return settings


def test_the_reach_follows_the_form_and_unavailable_channels_are_disabled(
        town, serve, page, tmp_path):
    base = serve(create_app(town))
    sign_in(page, base)
    page.get_by_test_id("nav-new-alert").click()
    reach = page.get_by_test_id("compose-reach")
    expect(reach).to_have_attribute("data-state", "invalid")
    expect(reach).to_contain_text("Choose the status")

    page.get_by_test_id("status-Actual").check()
    expect(reach).to_contain_text("the area is empty")
    page.get_by_test_id("zone-north").check()
    expect(reach).to_have_text("Would reach 2 residents: SMS 2")
    page.get_by_test_id("channel-email").check()
    expect(reach).to_have_text("Would reach 2 residents: SMS 2, email 1")
    page.get_by_test_id("channel-voice").check()
    # Both places in view, at once: a click during the zoom animation would miss its point.
    page.evaluate("() => tocsinMap.fitBounds([[42.34, -71.09], [42.45, -71.03]], {animate: false})")
    page.wait_for_timeout(300)
    draw_square(page, 42.35, -71.07, 42.37, -71.05)  # the two downtown residents
    expect(page.get_by_test_id("drawn-summary")).to_have_attribute("data-shapes", "1")
    expect(reach).to_have_text("Would reach 4 residents: SMS 3, voice 1, email 1")
    assert reach.get_attribute("data-recipients") == "4"
    page.get_by_test_id("channel-sms").uncheck()
    expect(reach).to_have_text("Would reach 2 residents: voice 1, email 1")
    page.get_by_test_id("status-Exercise").check()  # nobody here is in the test group
    expect(reach).to_have_text("Would reach 0 residents: voice 0, email 0")

    social = page.get_by_test_id("channel-social")
    expect(social).to_be_disabled()
    expect(page.get_by_test_id("channel-unavailable-social")).to_contain_text(
        "no SOCIAL_URLS are set, so there is nothing to post to")
    assert page.evaluate("() => document.getElementById("
                         "document.querySelector('[data-testid=channel-social]')"
                         ".getAttribute('aria-describedby')).textContent").startswith("Cannot send")
    expect(page.get_by_test_id("channel-sandbox-sms")).to_contain_text("simulated — nobody receives it")

    lang = page.get_by_test_id("message-lang-0")
    expect(lang).to_have_value("en")
    page.get_by_test_id("add-language").click()
    page.get_by_test_id("message-lang-1").select_option(label="Español (es)")
    expect(page.get_by_test_id("message-lang-1")).to_have_value("es")
    page.get_by_test_id("message-text-1").fill("Quédese adentro.")
    page.wait_for_function("() => document.getElementById('counter_1').dataset.segments === '1'")
    assert axe_violations(page) == []
    screenshot(page, "compose-reach", tmp_path)

    page.get_by_test_id("compose-headline").fill("Shelter in place")
    page.get_by_test_id("compose-severity").select_option("Severe")
    page.get_by_test_id("compose-urgency").select_option("Immediate")
    page.get_by_test_id("compose-certainty").select_option("Likely")
    page.get_by_test_id("message-text-0").fill("Stay indoors.")
    page.get_by_test_id("status-Actual").check()
    expect(reach).to_have_text("Would reach 2 residents: voice 1, email 1")
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    assert page.get_by_test_id("preview-recipients").inner_text() == "2"  # the same count


def test_a_stale_answer_never_replaces_a_newer_one(town, serve, page):
    base = serve(create_app(town))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    slow = {"first": True}

    def delay_first(route):
        if slow.pop("first", False):
            page.wait_for_timeout(1500)  # the first question answers after the second one
        route.continue_()
    page.route("**/alerts/reach.json", delay_first)
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("zone-north").check()
    page.wait_for_timeout(600)
    page.get_by_test_id("zone-north").uncheck()
    page.get_by_test_id("compose-everyone").check()
    expect(page.get_by_test_id("compose-reach")).to_have_text("Would reach 3 residents: SMS 3")
    page.wait_for_timeout(2000)
    expect(page.get_by_test_id("compose-reach")).to_have_text("Would reach 3 residents: SMS 3")


def test_a_count_that_fails_shows_no_old_number(town, serve, page):
    base = serve(create_app(town))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("zone-north").check()
    reach = page.get_by_test_id("compose-reach")
    expect(reach).to_have_text("Would reach 2 residents: SMS 2")
    page.route("**/alerts/reach.json", lambda route: route.abort())
    page.get_by_test_id("compose-everyone").check()
    expect(reach).to_have_attribute("data-state", "failed")
    expect(reach).to_contain_text("could not be counted")


def test_the_compose_page_fits_a_phone(town, serve, chromium, tmp_path):
    base = serve(create_app(town))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, base)
        page.goto(base + "/alerts/new")
        page.get_by_test_id("status-Exercise").check()  # the widest look: a border on the left
        page.get_by_test_id("add-language").click()
        expect(page.get_by_test_id("compose-reach")).to_contain_text("area is empty")
        # The compose form itself; the site-wide header is the mobile layout's own concern.
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
            .filter(e => !e.closest('.leaflet-container') && e.getBoundingClientRect().right > 390)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' '
                      + Math.round(e.getBoundingClientRect().right))""")
        assert wide == [], f"wider than a 390 px phone: {wide}"
        assert page.evaluate("() => document.querySelector('main').scrollWidth") <= 390
        assert axe_violations_in_main(page) == []
        screenshot(page, "compose-phone", tmp_path)
    finally:
        context.close()


def axe_violations_in_main(page) -> list[dict]:
    """Serious and critical axe-core violations inside <main> (the page's own content; the
    site-wide header on a phone is the mobile layout's, checked with it)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    results = page.evaluate("() => axe.run({include: [['main']]}, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"] if v["impact"] in ("serious", "critical")]
