"""Quiet hours on real parts: a routine alert sent at night waits as `scheduled`, and the
healing sweep (real Redis, real jobs) releases it once the hours are over, after a restart
too; a cancel or an expiry stops what waits. The clock is fixed: the alert's `sent_at` and
the sweep's `now`."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import redis

from notifier import alerts
from notifier.config import Settings
from notifier.db import session_scope
from workers import healing
from workers.fan_out import fan_out_alert
from workers.queues import enqueue_fan_out

from tests.workers.helpers import (add_alert, add_residents, deliveries_of, queued, run_jobs,
                                   use_env)
from tests.workers.test_healing import Workers

UTC = timezone.utc
NIGHT = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # TIMEZONE is UTC: inside 21:00-08:00
MORNING = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)  # when those hours end
ROUTINE = {"severity": "Minor", "urgency": "Expected"}


@pytest.fixture
def env(env) -> dict:
    """The agency's default quiet hours (21:00-08:00), which the suite's env turns off."""
    return {k: v for k, v in env.items() if k != "QUIET_HOURS"}


def sweep(settings, at: datetime) -> dict:
    """One healing round at `at` (first one writes the epoch and resumes: run it twice)."""
    counts = healing.heal(settings, at)
    redis.Redis.from_url(settings.redis_url).delete(healing.LOCK_KEY)
    return counts


def test_a_routine_alert_sent_at_night_waits_until_the_hours_end(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    enqueue_fan_out(Settings.from_env(), alert_id)
    run_jobs(redis_url, queues=("alerts",))
    rows = deliveries_of(db_url, alert_id)
    assert {(r.status, r.next_attempt_at) for r in rows} == {("scheduled", MORNING)}
    assert queued(redis_url, "sms") == []


def test_a_threat_that_is_immediate_goes_out_at_night(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=NIGHT, severity="Moderate", urgency="Immediate")
    counts = fan_out_alert(alert_id)
    assert counts["pending"] == 2 and counts["scheduled"] == 0
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"pending"}


def test_a_resident_with_quiet_hours_off_gets_a_routine_alert_at_once(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    night_owl, sleeper, early = add_residents(db_url, 3)
    from notifier.models import Subscriber

    with session_scope(db_url) as session:
        session.get(Subscriber, night_owl).quiet_hours = "off"
        session.get(Subscriber, early).quiet_hours = "22:00-06:00"
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    fan_out_alert(alert_id)
    by_resident = {r.subscriber_id: (r.status, r.next_attempt_at)
                   for r in deliveries_of(db_url, alert_id)}
    assert by_resident == {night_owl: ("pending", None), sleeper: ("scheduled", MORNING),
                           early: ("scheduled", datetime(2026, 6, 11, 6, 0, tzinfo=UTC))}


def test_quiet_hours_off_for_everyone_send_a_routine_alert_at_once(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env, QUIET_HOURS="off")
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    assert fan_out_alert(alert_id)["pending"] == 2


def test_the_sweep_releases_them_after_the_end_and_they_are_delivered(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    settings = Settings.from_env()
    add_residents(db_url, 3)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    fan_out_alert(alert_id)
    sweep(settings, MORNING - timedelta(minutes=1))  # writes the epoch
    assert sweep(settings, MORNING - timedelta(seconds=1))["scheduled_released"] == 0
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"scheduled"}

    assert sweep(settings, MORNING + timedelta(seconds=5))["scheduled_released"] == 3
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"pending"}
    assert sum(len(j.args[1]) for j in queued(redis_url, "sms")) == 3
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    assert sweep(settings, MORNING + timedelta(seconds=10))["scheduled_released"] == 0


def test_scheduled_rows_survive_the_loss_of_redis_and_a_new_sweep_releases_them(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    settings = Settings.from_env()
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    fan_out_alert(alert_id)
    redis.Redis.from_url(redis_url).flushdb()  # Redis restarted: nothing of it is left
    counts = sweep(settings, MORNING + timedelta(seconds=5))
    assert counts["redis_lost"] and counts["resumed"]["scheduled_released"] == 2
    run_jobs(redis_url)
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}


def test_cancelling_the_alert_cancels_what_waits(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    settings = Settings.from_env()
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    fan_out_alert(alert_id)
    with session_scope(db_url) as session:
        alerts.cancel_alert(session, alert_id, "test", NIGHT + timedelta(hours=1))
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"cancelled"}
    sweep(settings, MORNING)
    assert sweep(settings, MORNING + timedelta(seconds=5))["scheduled_released"] == 0
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"cancelled"}


def test_an_alert_that_expires_before_morning_is_never_sent(monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env)
    settings = Settings.from_env()
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, sent_at=NIGHT, expires_at=MORNING - timedelta(hours=2),
                         **ROUTINE)
    fan_out_alert(alert_id)
    sweep(settings, MORNING - timedelta(hours=3))
    counts = sweep(settings, MORNING + timedelta(seconds=5))
    assert counts["scheduled_expired"] == 2 and counts["scheduled_released"] == 0
    assert {(r.status, r.error_message) for r in deliveries_of(db_url, alert_id)} == {
        ("skipped", "alert expired")}
    assert queued(redis_url, "sms") == []


@pytest.mark.slow
def test_a_running_worker_sends_them_once_the_hours_are_over_after_a_restart(
        monkeypatch, env, db_url, redis_url, tmp_path):
    # The fixed night is long past on the real clock: a worker started now finds the hours
    # over. The rows were written before it existed: the state is the database's alone.
    env = use_env(monkeypatch, env, HEAL_SECONDS=1)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url, sent_at=NIGHT, **ROUTINE)
    enqueue_fan_out(Settings.from_env(), alert_id)
    run_jobs(redis_url, queues=("alerts",))
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"scheduled"}
    redis.Redis.from_url(redis_url).flushdb()  # the old worker and its Redis are gone
    group = Workers(env, tmp_path)
    group.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}:
                break
            time.sleep(0.2)
        assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}, \
            group.output()
    finally:
        group.stop()
