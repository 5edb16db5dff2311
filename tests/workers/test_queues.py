"""Queue names, chunking and scheduling on a real Redis."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from notifier import deliveries
from notifier.db import session_scope
from workers.queues import (EMERGENCY_QUEUES, QUEUES, SERIALIZER, enqueue_deliveries,
                            enqueue_fan_out, job_timeout, queue, with_twins)

from tests.workers.helpers import add_alert, add_residents, now, queued


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
    assert queue(settings, "emergency-sms").name == "emergency-sms"


def test_each_queue_has_an_emergency_twin_and_the_five_names_stay():
    # The wave 1 names stay as they were (deployments name them); a new channel adds its own.
    assert QUEUES == ("alerts", "sms", "voice", "email", "social", "webhook")
    assert EMERGENCY_QUEUES == ("emergency-alerts", "emergency-sms", "emergency-voice",
                                "emergency-email", "emergency-social", "emergency-webhook")


def test_a_worker_serves_every_emergency_twin_before_any_routine_queue():
    assert with_twins(QUEUES) == list(EMERGENCY_QUEUES + QUEUES)
    assert with_twins(["sms", "email"]) == ["emergency-sms", "emergency-email", "sms", "email"]
    assert with_twins(["sms", "emergency-sms"]) == ["emergency-sms", "sms"]
    assert with_twins(["emergency-alerts", "emergency-sms"]) == [
        "emergency-alerts", "emergency-sms"]  # a dedicated emergency worker


def test_twins_of_rq_queues_share_their_connection_and_serializer(redis_url):
    conn = redis.Redis.from_url(redis_url)
    [twin, sms] = with_twins([Queue("sms", connection=conn, serializer=SERIALIZER)])
    assert (twin.name, twin.connection, twin.serializer) == ("emergency-sms", conn, sms.serializer)


def test_a_severe_or_extreme_alert_fans_out_in_the_emergency_lane(settings, db_url, redis_url):
    lanes = {severity: add_alert(db_url, severity=severity)
             for severity in ("Extreme", "Severe", "Moderate", "Minor", "Unknown")}
    for alert_id in lanes.values():
        enqueue_fan_out(settings, alert_id)
    assert [j.args[0] for j in queued(redis_url, "emergency-alerts")] == [
        lanes["Extreme"], lanes["Severe"]]
    assert [j.args[0] for j in queued(redis_url, "alerts")] == [
        lanes["Moderate"], lanes["Minor"], lanes["Unknown"]]


def test_deliveries_find_their_lane_by_their_alert(settings, db_url, redis_url):
    add_residents(db_url, 3)
    severe, minor = add_alert(db_url, severity="Severe"), add_alert(db_url, severity="Minor")
    ids = {}
    for alert_id in (severe, minor):
        with session_scope(db_url) as session:
            ids[alert_id] = [i for i, _ in deliveries.insert_pending(session, [
                {"alert_id": alert_id, "subscriber_id": s, "channel": "sms",
                 "address": f"+1617555{s:04d}", "language": "en"} for s in (1, 2, 3)], now())]
    enqueue_deliveries(settings, "sms", sorted(ids[severe] + ids[minor]))
    assert [j.args[1] for j in queued(redis_url, "emergency-sms")] == [ids[severe]]
    assert [j.args[1] for j in queued(redis_url, "sms")] == [ids[minor]]


def test_handed_back_work_goes_to_the_front_in_its_order(settings, redis_url):
    small = dataclasses.replace(settings, batch_size=2)
    enqueue_deliveries(small, "sms", [9], emergency=False)
    enqueue_deliveries(small, "sms", [1, 2, 3], emergency=False, at_front=True)
    assert [j.args[1] for j in queued(redis_url, "sms")] == [[1, 2], [3], [9]]
