"""A dispatcher places a resident by address in a real browser: the suggestions come from the
address search as they type, the chosen one is saved; axe-core finds no serious problem."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Subscriber
from tests.admin_ui.api.test_addresses import load_town
from tests.admin_ui.conftest import make_subscriber
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def office(env) -> Settings:
    settings = Settings.from_env({**env, "SANDBOX": "1"})
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    load_town(settings)
    return settings


def test_typing_an_address_offers_the_matches_and_saving_one_places_the_resident(
        office, serve, page):
    with session_scope(office.database_url) as session:
        sub_id = make_subscriber(session).id
    base = serve(create_app(office))
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("dana")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")
    page.goto(f"{base}/subscribers/{sub_id}/edit")

    page.get_by_test_id("edit-address").press_sequentially("ave", delay=30)
    options = page.locator("#address-suggestions option")
    expect(options).to_have_count(3)
    assert [options.nth(i).get_attribute("value") for i in range(3)] == [
        "Avenue Plaza 1", "3 Beech Ave", "12 Avenue Rd"]
    assert axe_violations(page) == []

    page.get_by_test_id("edit-address").fill("12 Avenue Rd")
    page.get_by_test_id("edit-save").click()
    page.wait_for_url(f"{base}/subscribers/{sub_id}")
    with session_scope(office.database_url, readonly=True) as session:
        sub = session.get(Subscriber, sub_id)
        assert [(loc.lat, loc.lon, loc.label) for loc in sub.locations] == [
            (42.1, -71.1, "12 Avenue Rd")]
        assert [link.zone_code for link in sub.zone_links] == ["beat-1"]
