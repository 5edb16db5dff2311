"""The preview's quiet hours at a fixed clock: how many deliveries would wait, per channel,
and until when; counted per group of residents, the same rule the fan-out follows."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier import audience
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Location
from tests.admin_ui.conftest import make_alert, make_subscriber

UTC = timezone.utc
NIGHT = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # TIMEZONE UTC: inside 21:00-08:00
NOON = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(env) -> Settings:
    """The agency's default quiet hours (21:00-08:00), which the suite's env turns off."""
    return Settings.from_env({k: v for k, v in env.items() if k != "QUIET_HOURS"})


@pytest.fixture
def town(settings):
    """Five residents downtown: three on the default hours (one of them by SMS and email),
    one with quiet hours off, one quiet until 06:00."""
    with session_scope(settings.database_url) as session:
        for i, (quiet, channels) in enumerate([(None, ["sms"]), (None, ["sms"]),
                                               (None, ["sms", "email"]), ("off", ["sms"]),
                                               ("22:00-06:00", ["sms"])]):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}", channels=channels,
                                  email=f"r{i}@example.org", quiet_hours=quiet)
            sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))


def preview_at(settings, now, **fields):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, state="draft", channels=["sms", "email"], **fields)
        return audience.preview(session, alert, settings, now)


def test_a_routine_alert_at_night_says_how_many_wait_and_until_when(settings, town):
    counts = preview_at(settings, NIGHT, severity="Minor", urgency="Expected")
    assert counts["deliveries"] == {"sms": 5, "email": 1, "voice": 0}
    assert counts["scheduled"] == {"sms": 4, "email": 1}
    assert counts["scheduled_until"] == "2026-06-11T08:00:00+00:00"
    assert any("5 message(s) would wait" in w for w in counts["warnings"])
    assert counts["skipped_daily_limit"] == 0


def test_a_threat_that_is_expected_never_waits(settings, town):
    counts = preview_at(settings, NIGHT, severity="Severe", urgency="Expected")
    assert counts["scheduled"] == {} and counts["scheduled_until"] is None


def test_nothing_waits_by_day(settings, town):
    counts = preview_at(settings, NOON, severity="Minor", urgency="Future")
    assert counts["scheduled"] == {} and counts["scheduled_until"] is None


def test_quiet_hours_off_leave_only_the_residents_own_windows(env, town):
    settings = Settings.from_env({**env, "QUIET_HOURS": "off"})
    counts = preview_at(settings, NIGHT, severity="Unknown", urgency="Immediate")
    assert counts["scheduled"] == {"sms": 1}
    assert counts["scheduled_until"] == "2026-06-11T06:00:00+00:00"


def test_the_window_is_judged_in_the_agency_time_zone(env, town):
    # 23:30 UTC is 19:30 in New York (EDT): before 21:00, so nothing waits there.
    settings = Settings.from_env({**env, "TIMEZONE": "America/New_York"})
    assert preview_at(settings, NIGHT, severity="Minor", urgency="Expected")["scheduled"] == {}
