"""Quiet hours through the API: the preview says what would wait and until when; an alert's
stats count its `scheduled` deliveries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifier import quiet_hours
from notifier.db import session_scope
from notifier.models import Location
from tests.admin_ui.api.test_alerts import URL, with_changes
from tests.admin_ui.api.test_openapi import check_answer
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def window_around_now() -> tuple[str, datetime]:
    """A resident's window from an hour ago to two hours on (the request's clock is real),
    and when it ends."""
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    window = f"{start:%H}:00-{start + timedelta(hours=3):%H}:00"
    return window, quiet_hours.quiet_until(quiet_hours.parse(window), datetime.now(timezone.utc),
                                           ZoneInfo("UTC"))


def add_resident(settings, phone: str, quiet: str | None):
    with session_scope(settings.database_url) as session:
        sub = make_subscriber(session, phone=phone, quiet_hours=quiet)
        sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))


def test_the_preview_counts_the_deliveries_that_wait_and_when_the_last_goes(
        client, headers, settings, document):
    window, end = window_around_now()
    add_resident(settings, "+16175550100", window)
    add_resident(settings, "+16175550101", "off")
    response = client.post(f"{URL}/preview", headers=headers, json=with_changes(
        severity="Minor", urgency="Expected", channels=["sms"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["deliveries"]["sms"] == 2
    assert body["scheduled"] == {"sms": 1}
    assert datetime.fromisoformat(body["scheduled_until"]) == end
    assert body["skipped_daily_limit"] == 0
    check_answer(document, "/api/v1/alerts/preview", "POST", response)


def test_a_severe_immediate_preview_has_nothing_waiting(client, headers, settings, document):
    window, _ = window_around_now()
    add_resident(settings, "+16175550100", window)
    body = client.post(f"{URL}/preview", headers=headers, json=with_changes(
        channels=["sms"])).get_json()
    assert body["scheduled"] == {} and body["scheduled_until"] is None


def test_an_alerts_stats_count_its_scheduled_deliveries(client, headers, settings, document):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, severity="Minor")
        sub = make_subscriber(session)
        make_delivery(session, alert, sub, status="scheduled", sent_at=None,
                      next_attempt_at=datetime(2026, 11, 22, 13, 0, tzinfo=timezone.utc))
        alert_id = alert.id
    response = client.get(f"{URL}/{alert_id}", headers=headers)
    assert response.get_json()["stats"]["channels"]["sms"]["scheduled"] == 1
    check_answer(document, "/api/v1/alerts/{alert_id}", "GET", response)
