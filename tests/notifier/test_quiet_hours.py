"""notifier.quiet_hours: which alerts wait, and until when, across midnight and DST."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from notifier import quiet_hours
from notifier.quiet_hours import Window, day_bounds, is_routine, parse, quiet_until

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")


@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("urgency", URGENCIES)
def test_only_minor_unknown_or_not_imminent_alerts_are_routine(severity, urgency):
    threat = severity in ("Extreme", "Severe", "Moderate") and urgency in ("Immediate", "Expected")
    assert is_routine(severity, urgency) is (not threat)


@pytest.mark.parametrize("raw, expected", [
    ("21:00-08:00", Window(time(21), time(8))), ("7:30-9:05", Window(time(7, 30), time(9, 5))),
    (" 22:00 - 06:00 ", Window(time(22), time(6))), ("off", None), ("OFF", None)])
def test_a_window_is_hh_mm_dash_hh_mm_or_off(raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize("raw", ["", "21-08", "24:00-08:00", "21:60-08:00", "21:00", "nightly",
                                 "21:00-21:00", "21:00–08:00", "9pm-8am"])
def test_anything_else_is_refused_in_plain_words(raw):
    with pytest.raises(ValueError) as caught:
        parse(raw)
    assert "21:00-08:00" in str(caught.value)


def test_a_window_is_stored_zero_padded():
    assert quiet_hours.normalized("7:00-9:30") == "07:00-09:30"
    assert quiet_hours.normalized("Off") == "off"


def test_a_window_across_midnight_holds_the_late_evening_and_the_early_morning():
    window = parse("21:00-08:00")
    evening = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)
    assert quiet_until(window, evening, ZoneInfo("UTC")) == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    early = datetime(2026, 6, 11, 5, 0, tzinfo=UTC)
    assert quiet_until(window, early, ZoneInfo("UTC")) == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert quiet_until(window, datetime(2026, 6, 11, 8, 0, tzinfo=UTC), ZoneInfo("UTC")) is None
    assert quiet_until(window, datetime(2026, 6, 11, 20, 59, tzinfo=UTC), ZoneInfo("UTC")) is None
    assert quiet_until(window, datetime(2026, 6, 11, 21, 0, tzinfo=UTC), ZoneInfo("UTC")) == \
        datetime(2026, 6, 12, 8, 0, tzinfo=UTC)


def test_a_window_within_one_day_ends_the_same_day():
    window = parse("13:00-15:00")
    zone = ZoneInfo("UTC")
    assert quiet_until(window, datetime(2026, 6, 10, 14, 0, tzinfo=UTC), zone) == \
        datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
    assert quiet_until(window, datetime(2026, 6, 10, 16, 0, tzinfo=UTC), zone) is None


def test_the_window_is_read_in_the_agency_time_zone():
    # 02:00 UTC is 22:00 the evening before in New York (EDT, UTC-4): quiet until 08:00 EDT.
    at = datetime(2026, 6, 11, 2, 0, tzinfo=UTC)
    assert quiet_until(parse("21:00-08:00"), at, NEW_YORK) == datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
    assert quiet_until(parse("21:00-08:00"), at, ZoneInfo("UTC")) == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)


def test_the_end_follows_the_clocks_on_the_night_they_spring_forward():
    # 2026-03-08 02:00 EST the clocks go to 03:00 EDT: 08:00 is then 12:00 UTC, not 13:00.
    at = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert quiet_until(parse("21:00-08:00"), at, NEW_YORK) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_the_end_follows_the_clocks_on_the_night_they_fall_back():
    # 2026-11-01 02:00 EDT the clocks go back to 01:00 EST: 08:00 is then 13:00 UTC.
    at = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    assert quiet_until(parse("21:00-08:00"), at, NEW_YORK) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_an_end_the_clocks_skip_comes_when_they_jump():
    # 02:30 never happens on 2026-03-08 in New York: the window ends at 03:00 EDT (07:00 UTC).
    at = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    assert quiet_until(parse("22:00-02:30"), at, NEW_YORK) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_an_end_in_the_repeated_hour_is_its_first_occurrence():
    at = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    assert quiet_until(parse("22:00-01:30"), at, NEW_YORK) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_no_window_never_waits():
    assert quiet_until(None, datetime(2026, 6, 10, 23, 0, tzinfo=UTC), NEW_YORK) is None


def test_a_resident_window_is_theirs_else_the_default():
    default = parse("21:00-08:00")
    assert quiet_hours.resident_window(None, default) == default
    assert quiet_hours.resident_window("off", default) is None
    assert quiet_hours.resident_window("23:00-06:00", default) == parse("23:00-06:00")


def test_a_local_day_is_23_hours_long_when_the_clocks_spring_forward():
    start, end = day_bounds(datetime(2026, 3, 8, 15, 0, tzinfo=UTC), NEW_YORK)
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 23 * 3600
