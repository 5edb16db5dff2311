"""The RQ job functions, by the dotted names the queues use (`workers.jobs.…`)."""
from __future__ import annotations

from workers.deliver import deliver_batch
from workers.fan_out import fan_out_alert

__all__ = ["deliver_batch", "fan_out_alert"]
