"""The RQ job functions, by the dotted names the queues use (`workers.jobs.…`).

Each runs under a heartbeat (workers/heartbeat.py): alive before a delivery job claims its rows,
gone once its last outcome is written, so a claim or a fan-out whose heartbeat is gone belongs
to a dead worker, and the healing sweep (workers/healing.py) gives its work back.
"""
from __future__ import annotations

from typing import Sequence

from notifier.config import Settings
from notifier import broadcast
from notifier.db import session_scope
from notifier.models import Alert
from workers import deliver, fan_out
from workers.heartbeat import Heartbeat, fan_out_token

__all__ = ["announce_cancel", "deliver_batch", "fan_out_alert"]


def deliver_batch(channel: str, delivery_ids: Sequence[int]) -> dict:
    """workers.deliver.deliver_batch, its claim named after its heartbeat."""
    with Heartbeat(Settings.from_env()) as beat:
        return deliver.deliver_batch(channel, delivery_ids, claim_token=beat.token)


def fan_out_alert(alert_id: int) -> dict:
    """workers.fan_out.fan_out_alert under a heartbeat, so that the sweep can tell a long
    fan-out at work from one whose worker died."""
    with Heartbeat(Settings.from_env(), fan_out_token(alert_id)):
        return fan_out.fan_out_alert(alert_id)


def announce_cancel(alert_id: int) -> int:
    """Tell the partner systems a public alert was stopped (`alert.cancelled` webhooks);
    nothing for an alert that is not cancelled or never went out."""
    settings = Settings.from_env()
    with session_scope(settings.database_url, readonly=True) as session:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.cancelled_at is None or alert.sent_at is None:
            return 0
    return fan_out.fan_out_broadcast(settings, alert_id, broadcast.ALERT_CANCELLED)
