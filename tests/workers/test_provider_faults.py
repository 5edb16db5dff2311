"""A provider that refuses for now, fails or hangs (issue 10): everyone gets one SMS all the same.

Through the official twilio client against the Twilio stand-in and real RQ burst workers; the
sweep, given the time (`now=`), moves the retries whose time has come, so no test waits for a
backoff to pass.
"""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from notifier.config import Settings
from tests.workers.fault_checks import assert_alert_completed, handed_over
from tests.workers.helpers import add_alert, add_residents, deliveries_of, now, run_jobs, use_env
from workers import sweep
from workers.queues import enqueue_fan_out

RESIDENTS = 30


def phone(i: int) -> str:
    return f"+1617555{i:04d}"  # as tests.workers.helpers.add_residents numbers them


EVERYONE = [phone(i) for i in range(RESIDENTS)]


def send_alert(settings: Settings, db_url: str, redis_url: str) -> int:
    add_residents(db_url, RESIDENTS)
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)
    return alert_id


def statuses(db_url: str, alert_id: int) -> Counter:
    return Counter(r.status for r in deliveries_of(db_url, alert_id))


def retry_at(settings: Settings, redis_url: str, at: datetime) -> int:
    """Run the sweep as if it were `at`, and the jobs it queues; return the retries it moved."""
    moved = sweep.resume(settings, at)["retries"]
    run_jobs(redis_url)
    return moved


@pytest.mark.slow
@pytest.mark.parametrize("retry_after", [120, None], ids=["with Retry-After", "without"])
def test_a_429_for_a_third_of_the_calls_is_retried_after_the_wait_twilio_asks_for(
        monkeypatch, twilio_env, twilio_standin, db_url, redis_url, retry_after):
    settings = Settings.from_env(use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=5))
    twilio_standin.fail(None, status=429, code=20429, every=3, times=RESIDENTS // 3,
                        retry_after=retry_after)
    started = now()

    alert_id = send_alert(settings, db_url, redis_url)

    assert statuses(db_url, alert_id) == {"sent": 20, "retry_wait": 10}
    parked = [r for r in deliveries_of(db_url, alert_id) if r.status == "retry_wait"]
    assert {r.error_code for r in parked} == {"20429"}
    first_delay = settings.retry_delays[0]
    wait = max(first_delay, retry_after or 0)
    # Jitter adds up to a quarter; never less than what was asked for.
    assert all(wait <= (r.next_attempt_at.replace(tzinfo=started.tzinfo) - started)
               .total_seconds() <= wait * 1.25 + 5 for r in parked)
    assert retry_at(settings, redis_url, started + timedelta(seconds=wait - 0.5)) == 0
    assert retry_at(settings, redis_url, started + timedelta(seconds=wait * 1.25 + 5)) == 10
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin),
                           expected=EVERYONE)
    assert Counter(r.attempts for r in deliveries_of(db_url, alert_id)) == {1: 20, 2: 10}


@pytest.mark.slow
def test_500s_and_a_bare_503_page_are_retried_until_each_resident_has_one_sms(
        monkeypatch, twilio_env, twilio_standin, db_url, redis_url):
    settings = Settings.from_env(use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=5))
    twilio_standin.fail(None, status=500, code=20500, times=12)

    alert_id = send_alert(settings, db_url, redis_url)

    assert statuses(db_url, alert_id) == {"sent": 18, "retry_wait": 12}
    # The second attempt meets a load balancer's error page, not Twilio's JSON.
    twilio_standin.fail(None, status=503, code=None, times=5)
    assert retry_at(settings, redis_url, now() + timedelta(minutes=1)) == 12
    assert statuses(db_url, alert_id) == {"sent": 25, "retry_wait": 5}
    assert {r.error_code for r in deliveries_of(db_url, alert_id)
            if r.status == "retry_wait"} == {"http-503"}
    assert retry_at(settings, redis_url, now() + timedelta(minutes=10)) == 5
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin),
                           expected=EVERYONE)


@pytest.mark.slow
def test_a_provider_that_hangs_is_given_up_on_and_retried_with_nothing_left_sending(
        monkeypatch, twilio_env, twilio_standin, db_url, redis_url):
    settings = Settings.from_env(use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=5,
                                         TWILIO_TIMEOUT=1))
    hung = 4
    twilio_standin.hang(2.5, times=hung)  # longer than the client waits

    alert_id = send_alert(settings, db_url, redis_url)

    rows = deliveries_of(db_url, alert_id)
    assert Counter(r.status for r in rows) == {"sent": RESIDENTS - hung, "retry_wait": hung}
    assert {r.error_code for r in rows if r.status == "retry_wait"} == {"timeout"}
    assert retry_at(settings, redis_url, now() + timedelta(minutes=1)) == hung
    while twilio_standin.stats()["in_flight"]:  # the hung requests are answered at last
        time.sleep(0.05)
    received = handed_over(standin=twilio_standin)
    # Twilio took the hung messages after the worker had given up on them: a timeout cannot
    # tell "never arrived" from "answer lost", and a duplicate beats a missed warning. Those
    # in flight, and only those, reach their resident twice.
    assert sum(n - 1 for n in received.values()) == hung
    assert_alert_completed(db_url, alert_id, received, expected=EVERYONE, in_flight_extra=hung)


@pytest.mark.slow
def test_a_provider_failing_for_longer_than_the_retry_schedule_loses_no_warning(
        monkeypatch, twilio_env, twilio_standin, db_url, redis_url):
    settings = Settings.from_env(use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=5))
    few = [phone(i) for i in range(5)]
    attempts = len(settings.retry_delays) + 3  # past the schedule of a refusal
    twilio_standin.fail(None, status=500, code=20500, times=len(few) * attempts)
    add_residents(db_url, len(few))
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)

    for hour in range(1, attempts + 1):
        assert statuses(db_url, alert_id) == {"retry_wait": len(few)}
        retry_at(settings, redis_url, now() + timedelta(hours=hour))
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin), expected=few)
