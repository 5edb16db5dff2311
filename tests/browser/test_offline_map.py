"""The maps without tiles, in a real browser (issue 11, item 12): the zones are drawn with their
names, a note says why the map is plain, a click on a zone ticks its box (and the reach follows),
ticked zones are highlighted on the compose page and on the preview."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Subscriber, SubscriberZone, Zone
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dispatcher_flow import sign_in
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser

UNREACHABLE_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
ZONES = {"north": ("North End", 42.40), "south": ("South End", 42.30)}


def square(south: float) -> dict:
    ring = [[-71.08, south], [-71.04, south], [-71.04, south + 0.04], [-71.08, south + 0.04],
            [-71.08, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def town(env, monkeypatch, tiles: str) -> Settings:
    """Two zones, one resident on SMS in each; sandboxed channels."""
    settings = Settings.from_env(use_env(monkeypatch, env, SANDBOX="1", MAP_TILE_URL=tiles))
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
        for i, (code, (name, south)) in enumerate(ZONES.items()):
            session.add(Zone(code=code, name=name, geometry=square(south), keywords=[],
                             min_lat=south, min_lon=-71.08, max_lat=south + 0.04, max_lon=-71.04))
            sub = Subscriber(name=f"R{i}", phone=f"+1617555{i:04d}", language="en",
                             channels=["sms"])
            session.add(sub)
            session.flush()
            session.add(SubscriberZone(subscriber_id=sub.id, zone_code=code))
    return settings


def click_zone(page, code: str) -> None:
    """Click the middle of zone `code` as the map shows it."""
    south = ZONES[code][1]
    page.get_by_test_id("map").scroll_into_view_if_needed()
    box = page.get_by_test_id("map").bounding_box()
    point = page.evaluate("([lat, lon]) => tocsinMap.latLngToContainerPoint([lat, lon])",
                          [south + 0.01, -71.07])  # off the centred name, inside the outline
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def chosen(page) -> list[str]:
    return sorted(page.evaluate("""() => Array.from(document.querySelectorAll('#map [data-zone]'))
        .map(e => e.getAttribute('data-zone')).filter(z => z.endsWith(' chosen'))
        .map(z => z.split(' ')[0])"""))


def test_with_tiles_failing_the_zones_are_the_map_and_a_click_ticks_one(
        env, monkeypatch, serve, page, tmp_path):
    base = serve(create_app(town(env, monkeypatch, UNREACHABLE_TILES)))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    note = page.get_by_test_id("map-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("could not be loaded")
    assert note.get_attribute("data-reason") == "failed"
    labels = page.locator("#map .zone-label")
    expect(labels).to_have_count(2)
    assert sorted(labels.all_inner_texts()) == ["North End", "South End"]
    assert chosen(page) == []

    page.get_by_test_id("status-Actual").check()
    page.evaluate("() => tocsinMap.fitBounds([[42.29, -71.09], [42.45, -71.03]], {animate: false})")
    click_zone(page, "north")
    expect(page.get_by_test_id("zone-north")).to_be_checked()
    expect(page.get_by_test_id("zone-south")).not_to_be_checked()
    expect(page.get_by_test_id("compose-reach")).to_have_text("Would reach 1 resident: SMS 1")
    assert chosen(page) == ["north"]
    page.get_by_test_id("zone-south").check()  # the list and the map are one choice
    page.wait_for_function("() => document.querySelectorAll('#map [data-zone$=chosen]').length === 2")
    expect(page.get_by_test_id("compose-reach")).to_have_text("Would reach 2 residents: SMS 2")
    click_zone(page, "north")  # a second click unticks it
    expect(page.get_by_test_id("zone-north")).not_to_be_checked()
    assert chosen(page) == ["south"]
    assert axe_violations(page) == []
    screenshot(page, "compose-offline-map", tmp_path)

    # Drawing across a zone does not tick it: the click that ends the shape is not a choice.
    page.locator(".leaflet-draw-draw-rectangle").click()
    page.get_by_test_id("map").scroll_into_view_if_needed()
    box = page.get_by_test_id("map").bounding_box()
    start = page.evaluate("() => tocsinMap.latLngToContainerPoint([42.405, -71.075])")
    end = page.evaluate("() => tocsinMap.latLngToContainerPoint([42.415, -71.065])")
    page.mouse.move(box["x"] + start["x"], box["y"] + start["y"])
    page.mouse.down()
    page.mouse.move(box["x"] + end["x"], box["y"] + end["y"], steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("drawn-summary")).to_have_attribute("data-shapes", "1")
    page.wait_for_timeout(200)
    expect(page.get_by_test_id("zone-north")).not_to_be_checked()


def test_with_tiles_off_the_note_says_so_and_the_preview_highlights_the_chosen_zone(
        env, monkeypatch, serve, page):
    base = serve(create_app(town(env, monkeypatch, "none")))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    expect(page.get_by_test_id("map-note")).to_contain_text("No background map")
    assert page.locator("#map .leaflet-tile").count() == 0  # nothing was even asked for
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("zone-south").check()
    page.get_by_test_id("compose-headline").fill("Water main break")
    page.get_by_test_id("compose-severity").select_option("Moderate")
    page.get_by_test_id("compose-urgency").select_option("Expected")
    page.get_by_test_id("compose-certainty").select_option("Observed")
    page.get_by_test_id("message-text-0").fill("Avoid Elm St.")
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    expect(page.locator("#map .zone-label")).to_have_count(2)
    page.wait_for_function("() => document.querySelector('#map [data-zone$=chosen]')")
    assert chosen(page) == ["south"]
    expect(page.get_by_test_id("map-note")).to_contain_text("No background map")
    assert axe_violations(page) == []

    page.goto(base + "/zones")
    expect(page.get_by_test_id("zones-map-note")).to_contain_text("No background map")
