"""A dispatcher imports a CSV file in a real browser: the progress bar fills chunk by chunk and
the bad rows are listed with their row, field and message; axe-core finds no serious problem."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from admin_ui.pages import subscriber_import
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def office(env) -> Settings:
    settings = Settings.from_env({**env, "SANDBOX": "1"})
    with session_scope(settings.database_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    return settings


def test_a_dispatcher_imports_a_csv_and_sees_the_progress_and_each_bad_row(
        office, serve, page, tmp_path, monkeypatch):
    monkeypatch.setattr(subscriber_import, "CHUNK", 10)  # several chunks from a small file
    lines = ["name,phone,email,language,zones"]
    lines += [f"Resident {i},+1617555{i:04d},,en,downtown" for i in range(40)]
    lines[6] = "Broken,12,,en,"
    lines.append("Nobody,,not-an-email,xx-nope,")
    csv_file = tmp_path / "residents.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    base = serve(create_app(office))
    page.goto(base + "/login")
    page.get_by_test_id("login-username").fill("dana")
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/alerts")
    page.get_by_test_id("nav-subscribers").click()
    page.get_by_test_id("import-link").click()
    assert axe_violations(page) == []

    page.get_by_test_id("import-file").set_input_files(str(csv_file))
    page.get_by_test_id("import-submit").click()
    page.get_by_test_id("import-report-link").wait_for(state="visible")
    assert page.get_by_test_id("import-percent").get_attribute("data-percent") == "100"
    assert page.get_by_test_id("import-created").inner_text() == "39"
    assert page.get_by_test_id("import-rejected").inner_text() == "2"
    rows = page.get_by_test_id("import-error-row")
    found = [tuple(rows.nth(i).locator("td").all_inner_texts()) for i in range(rows.count())]
    assert [(row, field) for row, field, _message in found] == [("6", "phone"), ("41", "email"),
                                                                 ("41", "language")]
    assert axe_violations(page) == []
    screenshot(page, "subscribers-import", tmp_path)

    page.get_by_test_id("import-report-link").click()
    assert page.get_by_test_id("import-created").inner_text() == "39"
    assert page.get_by_test_id("import-error-row").count() == 3
    page.get_by_test_id("nav-subscribers").click()
    page.get_by_test_id("search-q").fill("555-0003")
    page.get_by_test_id("search-submit").click()
    page.wait_for_url("**/subscribers?q=555-0003*")
    # Waited for, not counted at once: the list before the search also has rows (seen on CI).
    expect(page.get_by_test_id("subscriber-row")).to_have_count(1)
    assert axe_violations(page) == []
