"""A delivery batch whose database is locked mid-send (issue 10) loses no outcome.

The lock comes while messages are being handed to the Twilio stand-in; the batch's outcome
writes wait, fail their bounded lock wait, and are written again once the lock is let go.
"""
from __future__ import annotations

import threading

import pytest

from tests.support.db_lock import LOCK_SECONDS, database_locked
from tests.workers.fault_checks import assert_alert_completed, handed_over
from tests.workers.helpers import add_alert, add_residents, deliveries_of, run_jobs, use_env
from tests.workers.test_deliver_faults import when_requests_reach
from workers.recorder import RECORD_LOCK_SECONDS
from workers.queues import enqueue_fan_out


@pytest.mark.slow
def test_a_batch_sending_while_the_database_is_locked_records_every_outcome_once_it_is_free(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url, caplog):
    assert LOCK_SECONDS > RECORD_LOCK_SECONDS  # the writes must fail at least once
    use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=2)
    twilio_standin.latency = 0.05
    residents = add_residents(db_url, 40)
    alert_id = add_alert(db_url)
    locked = threading.Event()

    def lock_mid_batch():
        when_requests_reach(twilio_standin, 6)
        with database_locked(db_url):
            locked.set()

    locker = threading.Thread(target=lock_mid_batch)
    locker.start()
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    locker.join(LOCK_SECONDS + 30)

    assert locked.is_set()
    assert "not recorded yet" in caplog.text  # the lock was felt, and waited out
    rows = deliveries_of(db_url, alert_id)
    assert len(rows) == len(residents)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.provider_id for r in rows)
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin),
                           expected=[r.address for r in rows])
