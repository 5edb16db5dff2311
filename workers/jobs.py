"""The RQ job functions, by the dotted names the queues use (`workers.jobs.…`)."""
from __future__ import annotations

from notifier.config import Settings
from workers import fan_out
from workers.deliver import deliver_batch
from workers.heartbeat import Heartbeat, fan_out_token

__all__ = ["deliver_batch", "fan_out_alert"]


def fan_out_alert(alert_id: int) -> dict:
    """workers.fan_out.fan_out_alert under a heartbeat, so that the sweep (workers/healing.py)
    can tell a long fan-out at work from one whose worker died."""
    with Heartbeat(Settings.from_env(), fan_out_token(alert_id)):
        return fan_out.fan_out_alert(alert_id)
