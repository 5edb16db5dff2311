"""`python -m workers` as a deployment runs it: a subprocess on the test's Redis and database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workers.queues import enqueue_fan_out

from tests.workers.helpers import LEAKY, add_alert, add_residents, deliveries_of, queued

ROOT = Path(__file__).resolve().parents[2]


def run_workers(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY}
    return subprocess.run([sys.executable, "-m", "workers", *args], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def test_a_burst_worker_runs_the_queued_work_and_exits(env, settings, db_url):
    add_residents(db_url, 3)
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    done = run_workers(env, "--burst")
    assert done.returncode == 0, done.stderr
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    assert "+1617555" not in done.stdout + done.stderr  # no phone number in the logs


def test_an_unknown_queue_is_a_usage_error(env):
    done = run_workers(env, "alerts", "fax", "--burst")
    assert done.returncode == 2
    assert "unknown queue 'fax'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_redis_is_a_clear_error(env):
    done = run_workers({**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, "--burst")
    assert done.returncode == 2
    assert "cannot reach Redis" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_asked_for_alerts_and_sms_serves_their_emergency_twins(env, settings, db_url):
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, severity="Severe")
    enqueue_fan_out(settings, alert_id)  # into emergency-alerts, its texts into emergency-sms
    done = run_workers(env, "alerts", "sms", "--burst")
    assert done.returncode == 0, done.stderr
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}


def test_a_dedicated_emergency_worker_leaves_routine_work_queued(env, settings, db_url,
                                                                 redis_url):
    add_residents(db_url, 2)
    severe, minor = add_alert(db_url, severity="Extreme"), add_alert(db_url, severity="Minor")
    enqueue_fan_out(settings, severe)
    enqueue_fan_out(settings, minor)
    done = run_workers(env, "emergency-alerts", "emergency-sms", "--burst")
    assert done.returncode == 0, done.stderr
    assert {r.status for r in deliveries_of(db_url, severe)} == {"delivered"}
    assert deliveries_of(db_url, minor) == []
    assert [j.id for j in queued(redis_url, "alerts")] == [f"fan-out-{minor}"]
