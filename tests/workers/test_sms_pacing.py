"""SMS paced as carriers count and never delivered late: burst workers, the Twilio stand-in."""
from __future__ import annotations

from datetime import timedelta

import pytest

from workers.queues import enqueue_fan_out

from tests.workers.helpers import add_alert, add_residents, deliveries_of, now, run_jobs, use_env

# 2 segments in GSM-7 (over 160 characters, at most 306).
TWO_SEGMENTS = {"en": "Flash flood warning for the river district until 6 PM. Move to higher "
                      "ground now. Do not walk or drive through flood waters. Shelters are open "
                      "at the high school and the library."}


def send(settings, redis_url, alert_id) -> None:
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)


def test_an_expiring_alerts_sms_carry_the_time_it_has_left(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 3)
    expires = now() + timedelta(hours=1)
    alert_id = add_alert(db_url, expires_at=expires)

    send(twilio_settings, redis_url, alert_id)

    requests = twilio_standin.requests
    assert len(requests) == 3
    for request in requests:
        left = expires.timestamp() - request.received_at
        # Counted just before the request left the worker: a moment more than at arrival.
        assert left - 30 <= int(request.form["ValidityPeriod"]) <= left + 0.5
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"sent"}


@pytest.mark.slow
def test_sms_spend_the_shared_rate_in_segments(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    # 6 messages of 2 segments at 4 segments a second: 12 permits a quarter-second apart, the
    # last message going with the 12th (2.75 s after the first permit, 2.5 s after the first
    # message). Counted as messages they would all go within 1.25 s.
    use_env(monkeypatch, twilio_env, SMS_PER_SECOND=4)
    add_residents(db_url, 6)
    alert_id = add_alert(db_url, messages=TWO_SEGMENTS)

    send(twilio_settings, redis_url, alert_id)

    stamps = sorted(r.received_at for r in twilio_standin.requests)
    assert len(stamps) == 6
    assert stamps[-1] - stamps[0] >= 2.0


@pytest.mark.slow
def test_an_alert_that_expires_while_its_sms_wait_for_the_rate_is_not_delivered_late(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    # 8 messages at 2 a second take 3.5 s or more; the alert expires 2 s after it is created.
    use_env(monkeypatch, twilio_env, SMS_PER_SECOND=2)
    add_residents(db_url, 8)
    expires = now() + timedelta(seconds=2)
    alert_id = add_alert(db_url, expires_at=expires)

    send(twilio_settings, redis_url, alert_id)

    for request in twilio_standin.requests:
        # Handed over before expiry, and Twilio may keep it queued only until then (the
        # half second: from the worker's count to the stand-in's arrival stamp).
        assert request.received_at + int(request.form["ValidityPeriod"]) \
            <= expires.timestamp() + 0.5
    rows = deliveries_of(db_url, alert_id)
    sent = [r for r in rows if r.status == "sent"]
    late = [r for r in rows if r.status != "sent"]
    assert len(sent) == len(twilio_standin.requests) < 8
    assert {(r.status, r.error_message) for r in late} == {("skipped", "alert expired")}
