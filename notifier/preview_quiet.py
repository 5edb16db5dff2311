"""The preview's quiet hours and frequency guard (DESIGN §12): which of the counted deliveries
would wait for the residents' quiet hours to end, until when, and how many residents the
daily limit of routine messages would skip.

Both work on the preview's groups (residents per language, channels, addresses, quiet hours),
never per resident: a town has a handful of distinct quiet-hours values, so the windows are
judged a few times whatever the count. The daily limit reads the day's guarded deliveries
(few alerts, grouped in SQL) and meets the reach in numpy, as the opt-out ledger does.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier import frequency_guard
from notifier.models import Delivery
from notifier.quiet_hours import Planner
from notifier.reach import Reach, only


class Waiting:
    """Tallies the deliveries that wait, per channel, and the latest end among them."""

    def __init__(self, alert, settings, now: datetime):
        self.planner = Planner(alert, settings, alert.sent_at or now)
        self.zone = ZoneInfo(settings.timezone)
        self.scheduled: dict[str, int] = {}
        self.until: datetime | None = None

    def add(self, quiet: str | None, channel: str, n: int) -> None:
        """`n` deliveries on `channel` to residents whose own quiet hours are `quiet`."""
        end = self.planner.not_before(quiet)
        if end is None or n <= 0:
            return
        self.scheduled[channel] = self.scheduled.get(channel, 0) + n
        self.until = end if self.until is None else max(self.until, end)

    def as_dict(self) -> dict:
        return {"scheduled": self.scheduled,
                "scheduled_until": self.until.isoformat() if self.until else None}

    def warning(self) -> list[str]:
        """What the preview says when some wait: how many, until when (local time)."""
        total = sum(self.scheduled.values())
        if not total:
            return []
        until = self.until.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")
        return [f"{total} message(s) would wait for the residents' quiet hours to end, the "
                f"last until {until}: this alert is routine (Minor or Unknown severity, or "
                "Future, Past or Unknown urgency)."]


def capped_ids(session: Session, alert, settings, reach: Reach, now: datetime) -> np.ndarray:
    """Sorted ids of the reached residents the daily limit would skip (empty when the guard
    does not apply to `alert`)."""
    cap = settings.max_routine_per_day
    if not frequency_guard.applies(alert, cap):
        return np.empty(0, dtype=np.int64)
    guarded = frequency_guard.guarded_today(session, alert, ZoneInfo(settings.timezone), now)
    if not guarded:
        return np.empty(0, dtype=np.int64)
    stmt = (select(Delivery.subscriber_id)
            .where(Delivery.alert_id.in_(guarded), Delivery.subscriber_id.is_not(None),
                   Delivery.status.not_in(frequency_guard.NOT_COUNTED))
            .group_by(Delivery.subscriber_id)
            .having(func.count(Delivery.alert_id.distinct()) >= cap))
    ids = np.array(session.scalars(stmt).all(), dtype=np.int64)
    ids.sort()
    return only(ids, reach.ids) if reach.ids is not None else ids
