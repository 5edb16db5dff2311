"""Fan-out on real parts: rows in the database, batches in Redis, run by a burst worker."""
from __future__ import annotations

from notifier.db import session_scope
from notifier.models import Alert
from workers.fan_out import fan_out_alert
from workers.queues import enqueue_fan_out

from tests.workers.helpers import (add_alert, add_residents, deliveries_of, queued, run_jobs,
                                   use_env)


def test_it_writes_one_delivery_per_resident_per_channel_and_queues_batches(
        monkeypatch, env, settings, db_url, redis_url):
    use_env(monkeypatch, env, BATCH_SIZE=3)
    add_residents(db_url, 7, channels=("sms", "email"), email=True)
    alert_id = add_alert(db_url, channels=("sms", "email"))
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url, queues=("alerts",))

    rows = deliveries_of(db_url, alert_id)
    assert sorted((r.subscriber_id, r.channel) for r in rows) == sorted(
        {(r.subscriber_id, c) for r in rows for c in ("sms", "email")})
    assert len(rows) == 14
    assert {r.status for r in rows} == {"pending"}
    jobs = queued(redis_url, "sms") + queued(redis_url, "email")
    assert all(len(job.args[1]) <= 3 for job in jobs)
    assert sorted(i for job in jobs for i in job.args[1]) == [r.id for r in rows]


def test_a_second_fan_out_inserts_and_queues_nothing(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 5)
    alert_id = add_alert(db_url)
    first = fan_out_alert(alert_id)
    jobs = len(queued(redis_url, "sms"))
    # As if the alert had not been marked fanned out (a crash right before that).
    with session_scope(db_url) as session:
        alert = session.get(Alert, alert_id)
        alert.state, alert.fanned_out_at = "sending", None
    second = fan_out_alert(alert_id)
    assert first["pending"] == 5 and second["pending"] == 0
    assert len(queued(redis_url, "sms")) == jobs == 1
    assert len(deliveries_of(db_url, alert_id)) == 5


def test_a_cancelled_alert_fans_out_nothing(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url, state="cancelled")
    assert fan_out_alert(alert_id)["stopped"] == "cancelled"
    assert deliveries_of(db_url, alert_id) == []
    assert queued(redis_url, "sms") == []


def test_voice_is_queued_like_sms_once_twilio_is_configured(
        monkeypatch, twilio_env, db_url, redis_url):
    # With Twilio credentials voice is live (channels/voice.py), so nothing is skipped.
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 2, channels=("sms", "voice"))
    alert_id = add_alert(db_url, channels=("sms", "voice"))
    fan_out_alert(alert_id)
    by_channel = {(r.channel, r.status, r.error_message) for r in deliveries_of(db_url, alert_id)}
    assert by_channel == {("sms", "pending", None), ("voice", "pending", None)}
    assert len(queued(redis_url, "voice")) == 1


def test_a_batch_big_enough_for_copy_inserts_each_row_once_and_returns_only_new_pending(
        monkeypatch, env, db_url, redis_url):
    # At COPY_FROM rows and up PostgreSQL takes the COPY path (SQLite the plain insert):
    # the same answers either way.
    from datetime import datetime, timedelta, timezone

    from notifier import deliveries

    subscribers = add_residents(db_url, deliveries.COPY_FROM + 50)
    alert_id = add_alert(db_url)
    now = datetime.now(timezone.utc)
    rows = [{"alert_id": alert_id, "subscriber_id": s, "channel": "sms",
             "address": f"+1617555{s:04d}", "language": "en"} for s in subscribers]
    rows[0].update(status=deliveries.SKIPPED, error_message="opted out")
    rows[1].update(status=deliveries.SCHEDULED, next_attempt_at=now + timedelta(hours=8))
    with session_scope(db_url) as session:
        first = deliveries.insert_pending(session, rows, now)
        again = deliveries.insert_pending(session, rows, now)  # same transaction: nothing new
    with session_scope(db_url) as session:
        later = deliveries.insert_pending(session, rows, now)
    assert len(first) == len(rows) - 2 and {c for _, c in first} == {"sms"}
    assert again == [] and later == []
    stored = deliveries_of(db_url, alert_id)
    assert len(stored) == len(rows)
    by_subscriber = {r.subscriber_id: r for r in stored}
    assert by_subscriber[subscribers[0]].error_message == "opted out"
    assert by_subscriber[subscribers[1]].status == "scheduled"
    assert by_subscriber[subscribers[1]].next_attempt_at is not None
    assert sorted(i for i, _ in first) == sorted(r.id for r in stored if r.status == "pending")
