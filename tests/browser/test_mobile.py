"""Every page on a 390 × 844 phone in a real browser: nothing scrolls sideways, the main menu
folds into a button that opens it, wide tables scroll inside their own region, and axe-core
finds nothing serious (issue 11 item 13)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts, audit
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import InboundMessage, Location, SandboxMessage, SubscriberZone, Zone
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.browser.conftest import axe_violations, screenshot
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
T0 = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)
NORTH = {"type": "Polygon", "coordinates": [[[-71.08, 42.40], [-71.04, 42.40], [-71.04, 42.44],
                                              [-71.08, 42.44], [-71.08, 42.40]]]}
# Long words with no place to break: what widens a page on a phone.
LONG_NAME = "Northeast-Riverside-Industrial-Waterfront-Evacuation-District"
LONG_ADDRESS = "a.very.long.mailbox.name.for.testing@subdomain.example-municipality.org"


@pytest.fixture
def town(env, monkeypatch):
    """An admin; a zone; a resident in it with a long email address; a sent alert with
    deliveries in several statuses; a draft; texts in the inbox and in the sandbox; audit
    events. Returns (settings, sent alert id, draft id)."""
    merged = use_env(monkeypatch, env, SANDBOX="1", TIMEZONE="America/New_York",
                     MAP_TILE_URL="http://127.0.0.1:9/tile.openstreetmap.org/{z}/{x}/{y}.png")
    settings = Settings.from_env(merged)
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "ada", "admin", "correct horse battery")
        session.add(Zone(code="north", name=LONG_NAME, geometry=NORTH, keywords=["harbour"],
                         min_lat=42.40, min_lon=-71.08, max_lat=42.44, max_lon=-71.04))
        resident = make_subscriber(session, name="Ana Lima", email=LONG_ADDRESS,
                                   channels=["sms", "email"])
        resident.locations.append(Location(label="home", lat=42.42, lon=-71.06))
        session.add(SubscriberZone(subscriber_id=resident.id, zone_code="north"))
        sent = make_alert(session, state="sent", sent_at=T0, area={"zones": ["north"]},
                          channels=["sms", "email"], headline="Boil water before drinking it")
        for i, status in enumerate(("delivered", "failed", "sent", "pending")):
            sub = resident if i == 0 else make_subscriber(session, phone=f"+1617555{i:04d}")
            make_delivery(session, sent, sub, status=status, provider_id=f"SB{i:032x}")
        make_delivery(session, sent, resident, channel="email", address=LONG_ADDRESS,
                      status="delivered", provider_id="SB" + "e" * 32)
        draft = make_alert(session, state="draft", status="Exercise", area={"zones": ["north"]})
        for i in range(3):
            audit.record(session, "user:ada", "alert.send", f"alert:{sent.id}",
                         {"status": "Actual", "note": LONG_ADDRESS}, T0 + timedelta(minutes=i))
        session.add(InboundMessage(at=T0, from_number="+16175550100", to_number="+15005550006",
                                   body="Is the shelter on Elm St open? " + LONG_ADDRESS))
        session.add(SandboxMessage(at=T0, channel="email", to=LONG_ADDRESS, subject="Boil water",
                                   body="Boil water before drinking it.", provider_id="SB" + "f" * 32))
        return settings, sent.id, draft.id


def pages(sent: int, draft: int) -> list[str]:
    return ["/dashboard", "/alerts", "/alerts/new", f"/alerts/{draft}/preview",
            f"/alerts/{sent}", f"/alerts/{sent}/report", "/subscribers", "/subscribers/1",
            "/zones", "/inbox", "/audit", "/admin/users", "/admin/tokens", "/account/two-factor",
            "/sandbox"]


def too_wide(page) -> dict:
    """The page's scroll width, and the elements that stick out past the viewport (outside
    maps and scroll regions, which scroll on their own)."""
    return page.evaluate("""() => ({
      scrollWidth: document.documentElement.scrollWidth,
      wide: Array.from(document.body.querySelectorAll('*'))
        .filter(e => !e.closest('.leaflet-container, .table-scroll, .skip-link')
                     && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                  + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '')
                  + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)})""")


def test_no_page_scrolls_sideways_on_a_phone(town, serve, chromium, tmp_path):
    settings, sent, draft = town
    base = serve(create_app(settings))
    context = chromium.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        page.goto(base + "/login")
        assert too_wide(page) == {"scrollWidth": 390, "wide": []}
        assert axe_violations(page) == []
        page.get_by_test_id("login-username").fill("ada")
        page.get_by_test_id("login-password").fill("correct horse battery")
        page.get_by_test_id("login-submit").click()
        page.wait_for_url("**/dashboard")
        menu = page.get_by_test_id("menu-toggle")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_test_id("nav-alerts")).to_be_hidden()  # folded
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        page.get_by_test_id("nav-alerts").click()  # open, and it works
        page.wait_for_url("**/alerts")
        problems = {}
        for path in pages(sent, draft):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            found = too_wide(page)
            if found["scrollWidth"] > 390 or found["wide"]:
                problems[path] = found
            screenshot(page, "phone" + path.replace("/", "-"), tmp_path)
            violations = axe_violations(page)
            if violations:
                problems[path + " axe"] = violations
        assert problems == {}
    finally:
        context.close()
