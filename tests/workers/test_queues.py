"""Queue names, chunking and scheduling on a real Redis."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import redis
from rq.registry import ScheduledJobRegistry

from workers.queues import (QUEUES, enqueue_deliveries, enqueue_fan_out, job_timeout,
                            queue)

from tests.workers.helpers import queued


def test_alerts_come_first():
    assert QUEUES[0] == "alerts"


def test_deliveries_are_chunked_to_the_batch_size(settings, redis_url):
    small = dataclasses.replace(settings, batch_size=4)
    jobs = enqueue_deliveries(small, "sms", range(1, 11))
    assert [j.args for j in queued(redis_url, "sms")] == [
        ("sms", [1, 2, 3, 4]), ("sms", [5, 6, 7, 8]), ("sms", [9, 10])]
    assert len(jobs) == 3
    assert all(j.func_name == "workers.jobs.deliver_batch" for j in jobs)


def test_a_delay_schedules_instead_of_queueing(settings, redis_url):
    enqueue_deliveries(settings, "sms", [1, 2], delay=timedelta(seconds=30))
    assert queued(redis_url, "sms") == []
    registry = ScheduledJobRegistry("sms", connection=redis.Redis.from_url(redis_url))
    assert len(registry.get_job_ids()) == 1


def test_a_paced_channel_gets_smaller_jobs_with_time_to_finish(settings, redis_url):
    # Voice defaults to one call a second: a thousand calls would be a quarter-hour job.
    enqueue_deliveries(settings, "voice", range(1000))
    jobs = queued(redis_url, "voice")
    assert max(len(j.args[1]) for j in jobs) <= 120
    assert all(j.timeout >= job_timeout(settings, "voice", len(j.args[1])) >= 480 for j in jobs)


def test_fan_out_is_one_job_per_alert(settings, redis_url):
    enqueue_fan_out(settings, 7)
    assert [(j.id, j.args) for j in queued(redis_url, "alerts")][0] == ("fan-out-7", (7,))
    assert queued(redis_url, "alerts")[0].timeout >= 3600


def test_an_unknown_queue_is_refused(settings):
    with pytest.raises(ValueError, match="unknown queue"):
        queue(settings, "fax")
