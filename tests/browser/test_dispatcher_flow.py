"""A dispatcher in a real browser: sign in, draw the area, preview, send an exercise, watch it
delivered by a real RQ worker, cancel; axe-core finds no serious problem on the way."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Location, Subscriber, SubscriberGroup, Zone
from tests.browser.conftest import axe_violations, screenshot
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

CENTRE = (42.36, -71.06)
DOWNTOWN = {"type": "Polygon", "coordinates": [[[-71.08, 42.34], [-71.04, 42.34], [-71.04, 42.38],
                                                 [-71.08, 42.38], [-71.08, 42.34]]]}


@pytest.fixture
def town(env, monkeypatch) -> Settings:
    """Three residents of the test group downtown, one zone, a dispatcher; sandboxed channels."""
    # Tiles from a closed local port: no network, but the OSM attribution (and its links,
    # which axe checks) appears as in production.
    merged = use_env(monkeypatch, env, SANDBOX="1",
                     MAP_TILE_URL="http://127.0.0.1:9/tile.openstreetmap.org/{z}/{x}/{y}.png")
    settings = Settings.from_env(merged)
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
        session.add(Zone(code="downtown", name="Downtown", geometry=DOWNTOWN, keywords=[],
                         min_lat=42.34, min_lon=-71.08, max_lat=42.38, max_lon=-71.04))
        for i, language in enumerate(("en", "es", "en")):
            sub = Subscriber(name=f"Tester {i}", phone=f"+1617555{i:04d}", language=language,
                             channels=["sms"])
            sub.locations.append(Location(label="home", lat=CENTRE[0] + i * 0.001, lon=CENTRE[1]))
            sub.group_links.append(SubscriberGroup(name="test"))
            session.add(sub)
    return settings


def sign_in(page, base: str) -> None:
    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.get_by_test_id("login-username").fill("dana")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")


def click_at(page, lat: float, lon: float) -> None:
    """Click the map where (lat, lon) is shown."""
    box = page.get_by_test_id("map").bounding_box()
    point = page.evaluate("([lat, lon]) => tocsinMap.latLngToContainerPoint([lat, lon])", [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_timeout(120)  # leaflet-draw ignores a second click within 50 ms


def draw_square(page, south: float, west: float, north: float, east: float) -> None:
    page.locator(".leaflet-draw-draw-polygon").click()
    for lat, lon in ((south, west), (south, east), (north, east), (north, west), (south, west)):
        click_at(page, lat, lon)


def test_a_dispatcher_draws_previews_sends_an_exercise_and_watches_it_delivered(
        town, serve, page, redis_url, tmp_path):
    base = serve(create_app(town))
    page.goto(base + "/login")
    assert axe_violations(page) == []
    screenshot(page, "sign-in", tmp_path)
    sign_in(page, base)

    page.get_by_test_id("nav-new-alert").click()
    page.get_by_test_id("status-Exercise").check()
    # The page script recolours the page on change: wait for it rather than read at once.
    expect(page.locator("body")).to_have_class(re.compile(r"\bstatus-exercise\b"))
    expect(page.locator("[data-testid=status-banner]:visible")).to_have_attribute("data-status", "Exercise")
    page.get_by_test_id("compose-headline").fill("Flood drill")
    page.get_by_test_id("compose-event").fill("Flood Warning")
    page.get_by_test_id("compose-category").select_option("Met")
    page.get_by_test_id("compose-severity").select_option("Severe")
    page.get_by_test_id("compose-urgency").select_option("Immediate")
    page.get_by_test_id("compose-certainty").select_option("Likely")
    page.get_by_test_id("message-text-0").fill("Move to higher ground now.")
    page.get_by_test_id("add-language").click()
    page.get_by_test_id("message-lang-1").select_option("es")  # a pick-list since issue 11
    page.get_by_test_id("message-text-1").fill("Suba a un terreno más alto ahora.")
    counter = page.get_by_test_id("sms-counter-0")
    counter.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('counter_0').dataset.segments === '1'")
    assert counter.get_attribute("data-encoding") == "GSM-7"

    draw_square(page, 42.35, -71.07, 42.37, -71.05)
    expect(page.get_by_test_id("drawn-summary")).to_have_attribute("data-shapes", "1")
    assert '"Polygon"' in page.get_by_test_id("area-geojson").input_value()
    assert axe_violations(page) == []
    screenshot(page, "compose", tmp_path)

    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    assert page.get_by_test_id("preview-recipients").inner_text() == "3"
    assert "[EXERCISE]" in page.get_by_test_id("preview-sms-en").inner_text()
    assert "[SIMULACRO]" in page.get_by_test_id("preview-sms-es").inner_text()
    assert page.locator("[data-testid=status-banner]").get_attribute("data-status") == "Exercise"
    assert axe_violations(page) == []
    screenshot(page, "preview", tmp_path)

    page.get_by_test_id("send-button").click()
    page.wait_for_url("**/alerts/*")
    # A real RQ worker in its own process (Playwright's event loop owns this thread), while
    # the page polls stats.json every two seconds.
    worker = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    page.wait_for_function(
        "() => document.querySelector('[data-testid=alert-progress]').dataset.percent === '100'",
        timeout=15_000)
    expect(page.get_by_test_id("count-sms-delivered")).to_have_text("3")
    expect(page.get_by_test_id("progress-total")).to_have_text("3")
    assert axe_violations(page) == []
    screenshot(page, "alert", tmp_path)

    page.get_by_test_id("cancel-button").click()
    page.get_by_test_id("cancel-confirm").click()  # asked once, with what stops
    expect(page.get_by_test_id("alert-state")).to_have_text("Stopped")
