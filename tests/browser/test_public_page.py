"""The public alert page in a real browser: on a 390 px phone nothing scrolls sideways, axe-core
finds nothing serious, the area is drawn with no tiles (offline) or failing ones, and without
JavaScript everything but the map is there."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import zones
from notifier.config import Settings
from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_mobile import PHONE, too_wide

pytestmark = pytest.mark.browser
NOW = datetime.now(timezone.utc).replace(microsecond=0)
BEAT = {"type": "Polygon", "coordinates": [[[-71.08, 42.40], [-71.04, 42.40], [-71.04, 42.44],
                                             [-71.08, 42.44], [-71.08, 42.40]]]}
DRAWN = {"type": "Polygon", "coordinates": [[[-71.06, 42.41], [-71.02, 42.41], [-71.02, 42.43],
                                              [-71.06, 42.43], [-71.06, 42.41]]]}
# Long words with no place to break: what widens a page on a phone.
LONG = "Northeast-Riverside-Industrial-Waterfront-Evacuation-District"


def published(env, tiles: str, **values) -> tuple[Settings, str]:
    """A sent Actual alert in two languages over a zone; (settings, page path)."""
    settings = Settings.from_env({**env, "TIMEZONE": "America/New_York", "MAP_TILE_URL": tiles,
                                  "AGENCY_NAME": "Springfield Police Department"})
    with session_scope(settings.database_url) as session:
        zones.put_zone(session, "north", {"name": LONG, "geometry": BEAT}, NOW)
        row = dict(state="sent", sent_at=NOW - timedelta(minutes=10),
                   expires_at=NOW + timedelta(hours=4),
                   headline="Shelter in place: chemical leak near the harbour",
                   instruction="Go indoors. Close windows and doors. Turn off fans.",
                   messages={"en": f"A chemical leak in {LONG}. Stay indoors.",
                             "es": f"Fuga química en {LONG}. Quédese adentro."},
                   area={"description": f"{LONG} and the harbour", "geojson": DRAWN,
                         "circles": [{"lat": 42.42, "lon": -71.07, "radius_m": 400}]})
        alert = make_alert(session, **{**row, **values})
        return settings, f"/a/{alert.public_id}"


@pytest.mark.parametrize("language", ["en-US", "es-ES"])
def test_the_page_fits_a_phone_and_axe_finds_nothing_serious(env, serve, chromium, tmp_path,
                                                             language):
    settings, path = published(env, "none")
    context = chromium.new_context(viewport=PHONE, locale=language)
    page = context.new_page()
    try:
        page.goto(serve(create_app(settings)) + path)
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("public-map")).to_be_visible()
        # The drawn shape, the circle and the zone: vector paths, no tiles needed.
        assert page.locator("#public-map .leaflet-overlay-pane path").count() >= 3
        note = page.get_by_test_id("public-map-note")
        expect(note).to_be_visible()
        assert note.get_attribute("data-reason") == "none"
        assert page.locator("html").get_attribute("lang") == language[:2]
        assert too_wide(page) == {"scrollWidth": 390, "wide": []}
        assert axe_violations(page) == []
        screenshot(page, f"public-alert-phone-{language[:2]}", tmp_path)
    finally:
        context.close()


def test_with_failing_tiles_the_note_says_so_and_axe_stays_clean(env, serve, page, tmp_path):
    settings, path = published(env, "http://127.0.0.1:9/tile.openstreetmap.org/{z}/{x}/{y}.png")
    page.goto(serve(create_app(settings)) + path)
    note = page.get_by_test_id("public-map-note")
    expect(note).to_be_visible()
    assert note.get_attribute("data-reason") == "failed"
    assert axe_violations(page) == []


def test_without_javascript_the_page_says_everything_but_the_map(env, serve, chromium):
    settings, path = published(env, "none", state="cancelled",
                               cancelled_at=NOW - timedelta(minutes=1))
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(serve(create_app(settings)) + path)
        expect(page.get_by_test_id("stopped")).to_contain_text("This alert was stopped on")
        expect(page.get_by_test_id("instruction")).to_contain_text("Close windows and doors.")
        expect(page.get_by_test_id("area-description")).to_contain_text("the harbour")
        expect(page.get_by_test_id("zones")).to_contain_text(LONG)
        expect(page.get_by_test_id("public-map")).to_be_hidden()  # no empty box
        expect(page.get_by_test_id("cap-link")).to_be_visible()
        assert too_wide(page)["scrollWidth"] == 390
    finally:
        context.close()
