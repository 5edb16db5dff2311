"""Machine translation in a real browser: "Translate the missing languages" fills the empty rows
marked machine translated, Enter in a field still previews, and the live send asks for the
machine translations to be accepted; axe-core finds nothing serious."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from tests.browser.conftest import axe_violations
from tests.browser.test_dispatcher_flow import sign_in
from tests.support.translate_standin import translated
from tests.workers.helpers import use_env

pytestmark = pytest.mark.browser

EN = "Boil tap water before drinking."
SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                              [-71.07, 42.37], [-71.07, 42.35]]]}


@pytest.fixture
def town(env, monkeypatch, translate_standin) -> Settings:
    merged = use_env(monkeypatch, env, SANDBOX="1", MAP_TILE_URL="none",
                     TRANSLATE_URL=translate_standin.url, TRANSLATE_API_KEY="lt-test-key")
    settings = Settings.from_env(merged)
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def test_translate_fills_the_rows_and_a_live_send_asks_for_acceptance(
        town, serve, page, translate_standin):
    base = serve(create_app(town))
    sign_in(page, base)
    page.get_by_test_id("nav-new-alert").click()
    page.get_by_test_id("status-Actual").check()
    page.get_by_test_id("compose-headline").fill("Boil water")
    for name, value in (("severity", "Moderate"), ("urgency", "Expected"),
                        ("certainty", "Likely")):
        page.get_by_test_id(f"compose-{name}").select_option(value)
    page.get_by_test_id("message-text-0").fill(EN)
    page.locator("#area_geojson").evaluate("(box, value) => { box.value = value; }",
                                           json.dumps(SQUARE))

    # Enter in a one-line field previews as before; it never asks for a translation.
    page.get_by_test_id("compose-event").press("Enter")
    expect(page.get_by_test_id("preview-recipients")).to_be_visible()
    assert translate_standin.requests == []
    page.get_by_test_id("edit-draft").click()
    page.get_by_test_id("add-language").click()
    page.get_by_test_id("message-lang-1").select_option("es")

    page.get_by_test_id("translate-missing").click()
    expect(page.get_by_test_id("message-text-1")).to_have_value(translated(EN, "es"))
    expect(page.get_by_test_id("message-machine-1")).to_be_checked()
    expect(page.get_by_test_id("message-machine-0")).not_to_be_checked()
    assert [b["target"] for b in translate_standin.bodies()] == ["es"]
    assert axe_violations(page) == []

    page.get_by_test_id("compose-preview").click()
    accept = page.get_by_test_id("accept-machine-translation")
    expect(accept).to_be_visible()
    expect(page.get_by_test_id("preview-machine-es")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("confirm-word").fill("SEND")
    page.get_by_test_id("send-button").click()  # the browser holds it: the box is required
    expect(accept).to_be_visible()
    assert "/preview" in page.url
    accept.check()
    page.get_by_test_id("send-button").click()
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())
