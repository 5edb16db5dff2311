"""A worker leaves promptly: RQ's command-channel thread must not hold its exit for a minute."""
from __future__ import annotations

import time

from tests.workers.helpers import run_jobs, use_env
from workers.queues import enqueue_fan_out


def test_a_burst_worker_exits_within_seconds_of_its_last_job(monkeypatch, env, settings,
                                                            redis_url):
    use_env(monkeypatch, env)
    started = time.monotonic()
    # The wait came from a race (the thread read RQ's unsubscribe, then waited 60 s for a
    # subscription): a few workers in a row meet it.
    for _ in range(4):
        enqueue_fan_out(settings, 999)  # no such alert: a job that ends at once
        assert run_jobs(redis_url, queues=("alerts",))
    # redis-py 8.2 joins the pubsub thread at exit; RQ's own 60 s poll made this take minutes.
    assert time.monotonic() - started < 20
