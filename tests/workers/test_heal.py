"""The healing sweep, one round at a time with the time passed in: dead claims, a Redis that
lost its data, lost fan-outs and orphaned rows come back; live work is left alone."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job

from notifier import deliveries
from notifier.db import session_scope
from workers import healing
from workers.fan_out import fan_out_alert
from workers.heartbeat import Heartbeat, fan_out_token, ttl_seconds
from workers.queues import SERIALIZER

from tests.workers.helpers import (add_alert, add_residents, deliveries_of, now, queued, run_jobs,
                                   use_env)


def next_round(redis_url: str) -> None:
    """The lock of one round is over (it lasts most of HEAL_SECONDS, in Redis's own time)."""
    redis.Redis.from_url(redis_url).delete(healing.LOCK_KEY)


def sweep(settings, redis_url, at):
    next_round(redis_url)
    return healing.heal(settings, at)


@pytest.fixture
def fanned_out(monkeypatch, env, settings, db_url, redis_url):
    """Three pending SMS rows of a fanned-out alert, their job queued, and a first round done."""
    use_env(monkeypatch, env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url)
    fan_out_alert(alert_id)
    assert healing.heal(settings, now())["redis_lost"]  # a new Redis: the epoch is written
    return alert_id


def claim_all(settings, db_url, alert_id, at, token):
    ids = [r.id for r in deliveries_of(db_url, alert_id)]
    with session_scope(db_url) as session:
        return deliveries.claim(session, ids, at, token)


def test_a_claim_whose_heartbeat_lives_is_left_alone_and_comes_back_once_it_is_gone(
        fanned_out, settings, db_url, redis_url):
    later = now() + timedelta(seconds=ttl_seconds(settings) + 1)
    beat = Heartbeat(settings).start()
    claim_all(settings, db_url, fanned_out, now(), beat.token)
    assert sweep(settings, redis_url, later)["released"] == 0
    assert {r.status for r in deliveries_of(db_url, fanned_out)} == {"sending"}

    beat.stop()  # as if SIGKILLed: no outcome was written, the key is gone
    redis.Redis.from_url(redis_url).delete("rq:queue:sms")
    counts = sweep(settings, redis_url, later)
    assert counts["released"] == 3
    rows = deliveries_of(db_url, fanned_out)
    assert {(r.status, r.error_message, r.claim_token) for r in rows} == {
        ("retry_wait", healing.GAVE_BACK, None)}
    assert [sorted(j.args[1]) for j in queued(redis_url, "sms")] == [sorted(r.id for r in rows)]
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, fanned_out)} == {"delivered"}
    assert sweep(settings, redis_url, later)["released"] == 0


def test_a_second_sweeper_in_the_same_round_does_nothing(fanned_out, settings, db_url,
                                                          redis_url):
    claim_all(settings, db_url, fanned_out, now(), "a-dead-worker")
    later = now() + timedelta(minutes=1)
    assert sweep(settings, redis_url, later)["released"] == 3
    claim_all(settings, db_url, fanned_out, now(), "another-dead-worker")
    assert healing.heal(settings, later) is None  # the lock of this round is held
    assert {r.status for r in deliveries_of(db_url, fanned_out)} == {"sending"}


def test_after_redis_lost_its_data_everything_is_queued_again_and_claims_wait_a_heartbeat(
        fanned_out, settings, db_url, redis_url):
    rows = deliveries_of(db_url, fanned_out)
    with session_scope(db_url) as session:  # a live worker holds the first row
        deliveries.claim(session, [rows[0].id], now(), "live-worker")
    redis.Redis.from_url(redis_url).flushdb()  # Redis restarted without persistence
    at = now()
    counts = healing.heal(settings, at)
    assert counts["redis_lost"] and counts["resumed"]["pending"] == 2
    requeued = sorted(i for j in queued(redis_url, "sms") for i in j.args[1])
    assert requeued == [r.id for r in rows[1:]]
    # The live worker has a heartbeat lifetime to write its key again before it is judged.
    assert sweep(settings, redis_url, at + timedelta(seconds=1))["released"] == 0
    with Heartbeat(settings, "live-worker"):
        beyond = at + timedelta(seconds=ttl_seconds(settings) + 1)
        assert sweep(settings, redis_url, beyond)["released"] == 0
    assert sweep(settings, redis_url, beyond)["released"] == 1


def test_an_alert_whose_fan_out_job_is_gone_is_fanned_out_again(monkeypatch, env, settings,
                                                                 db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=now() - timedelta(minutes=1))
    fresh_id = add_alert(db_url)  # its fan-out is being queued right now
    assert healing.heal(settings, now())["redis_lost"]
    redis.Redis.from_url(redis_url).flushdb()
    healing.heal(settings, now())  # the new epoch after the flush
    redis.Redis.from_url(redis_url).delete(  # both fan-out jobs are lost
        "rq:queue:alerts", f"rq:job:fan-out-{alert_id}", f"rq:job:fan-out-{fresh_id}")
    with Heartbeat(settings, fan_out_token(alert_id)):  # a worker fanning it out
        assert sweep(settings, redis_url, now())["fan_outs"] == 0
    assert sweep(settings, redis_url, now())["fan_outs"] == 1
    assert [j.args for j in queued(redis_url, "alerts")] == [(alert_id,)]
    assert sweep(settings, redis_url, now())["fan_outs"] == 0  # its job waits in the queue
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    # The fresh alert lost its job too: it comes back once its grace is over.
    assert sweep(settings, redis_url, now() + timedelta(minutes=1))["fan_outs"] == 1
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, fresh_id)} == {"delivered"}


def test_rows_left_pending_while_their_queue_is_empty_lost_their_job_and_are_queued_again(
        fanned_out, settings, db_url, redis_url):
    assert sweep(settings, redis_url, now() + timedelta(minutes=1))["orphans"] == 0  # queued
    redis.Redis.from_url(redis_url).delete("rq:queue:sms")  # the job was evicted
    assert sweep(settings, redis_url, now())["orphans"] == 0  # too young to tell
    assert sweep(settings, redis_url, now() + timedelta(minutes=1))["orphans"] == 3
    assert sweep(settings, redis_url, now() + timedelta(minutes=1))["orphans"] == 0
    run_jobs(redis_url)
    assert Counter(r.status for r in deliveries_of(db_url, fanned_out)) == {"delivered": 3}


def test_a_retry_whose_job_is_late_waits_for_it_a_while(fanned_out, settings, db_url, redis_url):
    due = now()
    [first, *_] = claim_all(settings, db_url, fanned_out, now(), None)
    with session_scope(db_url) as session:
        deliveries.schedule_retry(session, [(first.id, "20500", "try again", due)], due)
    redis.Redis.from_url(redis_url).delete("rq:queue:sms")
    assert sweep(settings, redis_url, due + timedelta(seconds=30))["orphans"] == 0
    assert sweep(settings, redis_url, due + timedelta(minutes=3))["orphans"] == 1


def test_retries_not_yet_due_are_scheduled_again_after_redis_lost_them(fanned_out, settings,
                                                                      db_url, redis_url):
    soon = now() + timedelta(seconds=25)
    [first, *_] = claim_all(settings, db_url, fanned_out, now(), None)
    with session_scope(db_url) as session:
        deliveries.schedule_retry(session, [(first.id, "20500", "try again", soon)], now())
    redis.Redis.from_url(redis_url).flushdb()
    counts = healing.heal(settings, now())
    assert counts["resumed"]["later"] == 1
    [job] = Queue("sms", connection=redis.Redis.from_url(redis_url),
                  serializer=SERIALIZER).scheduled_job_registry.get_job_ids()
    assert Job.fetch(job, connection=redis.Redis.from_url(redis_url),
                     serializer=SERIALIZER).args[1] == [first.id]
