"""The resume sweep rebuilds the queues from SQL after Redis was lost."""
from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import update

from notifier import deliveries
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Delivery
from workers import sweep
from workers.fan_out import fan_out_alert
from workers.heartbeat import Heartbeat

from tests.workers.helpers import (add_alert, add_residents, deliveries_of, now, queued,
                                   run_jobs, use_env)


def test_it_queues_again_an_alert_not_yet_fanned_out(monkeypatch, env, settings, db_url,
                                                      redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    add_alert(db_url, state="draft")
    counts = sweep.resume(settings, now())
    assert counts["fan_outs"] == 1
    assert [j.args for j in queued(redis_url, "alerts")] == [(alert_id,)]
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    assert sweep.resume(settings, now())["fan_outs"] == 0


def test_pending_deliveries_survive_the_loss_of_redis(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env, BATCH_SIZE=2)
    settings = Settings.from_env()
    add_residents(db_url, 5)
    alert_id = add_alert(db_url)
    fan_out_alert(alert_id)
    redis.Redis.from_url(redis_url).flushdb()  # Redis lost
    counts = sweep.resume(settings, now())
    assert counts == {"fan_outs": 0, "pending": 5, "retries": 0, "stale": 0}
    assert [len(j.args[1]) for j in queued(redis_url, "sms")] == [2, 2, 1]
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}


def test_a_delivery_stuck_sending_goes_back_to_retry(monkeypatch, env, settings, db_url,
                                                     redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    fan_out_alert(alert_id)
    ids = [r.id for r in deliveries_of(db_url, alert_id)]
    with session_scope(db_url) as session:
        deliveries.claim(session, ids, now() - timedelta(minutes=30))  # a worker died here
        # The second row was claimed a moment ago by a worker still at it.
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(updated_at=now()))
    redis.Redis.from_url(redis_url).flushdb()
    counts = sweep.resume(settings, now())
    assert (counts["stale"], counts["retries"]) == (1, 1)
    run_jobs(redis_url)
    status = [r.status for r in deliveries_of(db_url, alert_id)]
    assert status == ["delivered", "sending"]


def test_nothing_unfinished_queues_nothing(settings, redis_url):
    assert sweep.resume(settings, now()) == {"fan_outs": 0, "pending": 0, "retries": 0, "stale": 0}
    assert queued(redis_url, "alerts") == []


def test_resume_leaves_a_long_batch_alone_while_its_heartbeat_lives(monkeypatch, env, settings,
                                                                     db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    fan_out_alert(alert_id)
    ids = [r.id for r in deliveries_of(db_url, alert_id)]
    with Heartbeat(settings) as beat, session_scope(db_url) as session:
        deliveries.claim(session, ids, now() - timedelta(minutes=30), beat.token)
    with Heartbeat(settings, beat.token):  # the same worker, still at it
        assert sweep.resume(settings, now())["stale"] == 0
    assert sweep.resume(settings, now())["stale"] == 2
