"""Quiet hours (DESIGN §12): which alerts wait for the night to end, and until when.

Only a routine alert waits: severity Minor or Unknown, or urgency Future, Past or Unknown. A
possible threat to life (Moderate and above) that is Immediate or Expected goes out at once,
night or day. A window is "HH:MM-HH:MM" in the agency's TIMEZONE and may cross midnight; its
end is found on the local calendar, so a DST change moves it with the clocks (08:00 stays
08:00), and a time the clocks skip ends the window when they jump.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

OFF = "off"
DEFAULT = "21:00-08:00"
ROUTINE_SEVERITIES = frozenset({"Minor", "Unknown"})
ROUTINE_URGENCIES = frozenset({"Future", "Past", "Unknown"})
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Why a window is refused, in words a dispatcher or an operator reads.
SHAPE = "must be off or a window such as 21:00-08:00 (24-hour HH:MM-HH:MM)"


class Window(NamedTuple):
    """From `start` to `end` local time; `end` not after `start` means it crosses midnight."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse(value: str) -> Window | None:
    """"HH:MM-HH:MM" → its Window; "off" → None. Raises ValueError (with SHAPE's words) for
    anything else, and for a window that starts when it ends (empty, or the whole day?)."""
    if not isinstance(value, str):
        raise ValueError(SHAPE)
    if value.strip().lower() == OFF:
        return None
    found = _WINDOW.match(value)
    if not found:
        raise ValueError(SHAPE)
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(SHAPE)
    window = Window(time(h1, m1), time(h2, m2))
    if window.start == window.end:
        raise ValueError("must start and end at different times, such as 21:00-08:00")
    return window


def normalized(value: str) -> str:
    """`value` written the one stored way: "off" or zero-padded "HH:MM-HH:MM" (ValueError)."""
    window = parse(value)
    return OFF if window is None else str(window)


def is_routine(severity: str | None, urgency: str | None) -> bool:
    """True when an alert of this CAP severity and urgency may wait for quiet hours to end."""
    return severity in ROUTINE_SEVERITIES or urgency in ROUTINE_URGENCIES


def resident_window(own: str | None, default: Window | None) -> Window | None:
    """The window that applies to a resident: theirs ("off" or a window), else the default
    (QUIET_HOURS). A stored value that no longer parses counts as the default."""
    if own is None:
        return default
    try:
        return parse(own)
    except ValueError:
        return default


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at `at` in `zone`, as UTC; a time the clocks skip (spring forward) becomes the
    first minute after the jump, an hour that repeats (fall back) its first occurrence."""
    wall = datetime.combine(day, at)
    for _ in range(24 * 60):
        moment = wall.replace(tzinfo=zone, fold=0)
        if moment.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == wall:
            return moment.astimezone(timezone.utc)
        wall += timedelta(minutes=1)
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)  # pragma: no cover


def quiet_until(window: Window | None, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet window holding `now` ends (aware UTC), or None when `now` is outside it
    (or there is no window). The window holding `now` started today or, crossing midnight,
    yesterday."""
    if window is None:
        return None
    now = now.astimezone(timezone.utc)
    today = now.astimezone(zone).date()
    crosses = window.end <= window.start
    for start_day in (today - timedelta(days=1), today):
        start = _local(start_day, window.start, zone)
        end = _local(start_day + timedelta(days=1) if crosses else start_day, window.end, zone)
        if start <= now < end:
            return end
    return None


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local calendar day (in `zone`) holding `moment`, as [start, end) in UTC: 23 or 25
    hours long on a DST change."""
    day = moment.astimezone(zone).date()
    return _local(day, time(0, 0), zone), _local(day + timedelta(days=1), time(0, 0), zone)


class Planner:
    """When each resident's delivery of one alert may go: None (at once), or the end of their
    quiet hours. The fan-out and the preview both ask it; it remembers each window's answer
    (a town has few distinct windows). `at` is the alert's moment: when it was sent, or now
    for a preview — the one clock both read, set by whoever builds the planner."""

    def __init__(self, alert, settings, at: datetime):
        self.routine = is_routine(alert.severity, alert.urgency)
        self.default = settings.quiet_window
        self.zone = ZoneInfo(settings.timezone)
        self.at = at
        self._ends: dict[str | None, datetime | None] = {}

    def not_before(self, own: str | None) -> datetime | None:
        """The end of the quiet hours that hold the alert's moment for a resident whose own
        setting is `own` (None: the default); None when their delivery goes at once."""
        if not self.routine:
            return None
        if own not in self._ends:
            self._ends[own] = quiet_until(resident_window(own, self.default), self.at, self.zone)
        return self._ends[own]
