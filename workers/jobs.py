"""The RQ job functions, by the dotted names the queues use (`workers.jobs.…`).

Each runs under a heartbeat (workers/heartbeat.py): alive before a delivery job claims its rows,
gone once its last outcome is written, so a claim or a fan-out whose heartbeat is gone belongs
to a dead worker, and the healing sweep (workers/healing.py) gives its work back.
"""
from __future__ import annotations

from typing import Sequence

from notifier.config import Settings
from workers import deliver, fan_out
from workers.heartbeat import Heartbeat, fan_out_token

__all__ = ["deliver_batch", "fan_out_alert"]


def deliver_batch(channel: str, delivery_ids: Sequence[int]) -> dict:
    """workers.deliver.deliver_batch, its claim named after its heartbeat."""
    with Heartbeat(Settings.from_env()) as beat:
        return deliver.deliver_batch(channel, delivery_ids, claim_token=beat.token)


def fan_out_alert(alert_id: int) -> dict:
    """workers.fan_out.fan_out_alert under a heartbeat, so that the sweep can tell a long
    fan-out at work from one whose worker died."""
    with Heartbeat(Settings.from_env(), fan_out_token(alert_id)):
        return fan_out.fan_out_alert(alert_id)
