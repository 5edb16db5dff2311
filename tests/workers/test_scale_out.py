"""Scale-out: several worker processes on one Redis send an alert, every resident exactly once."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.workers.helpers import LEAKY, add_alert, add_residents, deliveries_of, run_jobs, use_env
from tests.workers.test_main import ROOT
from workers.queues import enqueue_fan_out

RESIDENTS = 2000
WORKERS = 3
ACCOUNT_LIMIT = 16


def test_three_workers_send_each_resident_exactly_once_within_the_account_limit(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    env = {**twilio_env, "BATCH_SIZE": "100", "SMS_CONCURRENCY": "10",
           "TWILIO_ACCOUNT_CONCURRENCY": str(ACCOUNT_LIMIT)}
    use_env(monkeypatch, env)
    twilio_standin.latency = 0.02
    twilio_standin.record = False
    add_residents(db_url, RESIDENTS)
    alert_id = add_alert(db_url)
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url, queues=("alerts",))  # every batch queued before the workers start

    clean = {k: v for k, v in os.environ.items() if k not in LEAKY}
    workers = [subprocess.Popen([sys.executable, "-m", "workers", "sms", "--burst"], cwd=ROOT,
                                env={**clean, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
               for _ in range(WORKERS)]
    logs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * WORKERS, logs

    counts = twilio_standin.to_counts()
    expected = {f"+1617555{i:04d}" for i in range(RESIDENTS)}
    assert set(counts) == expected  # no gap
    assert set(counts.values()) == {1}  # no duplicate
    assert {r.status for r in deliveries_of(db_url, alert_id)} <= {"sent", "delivered"}
    # Together they kept to the account's limit, not 3 × SMS_CONCURRENCY.
    assert twilio_standin.max_in_flight <= ACCOUNT_LIMIT
    assert sum(1 for log in logs if "sms batch" in log) >= 2  # the work was shared
