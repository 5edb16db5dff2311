"""Workers run only Tocsin's own job functions: whatever else is put in Redis fails unrun."""
from __future__ import annotations

import os
import pickle

import redis
from rq import Callback, Queue
from rq.job import JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from tests.workers.helpers import add_alert, add_residents, deliveries_of, run_jobs
from tests.workers.test_main import run_workers
from workers.queues import FAN_OUT


class Touch:
    """Unpickling this runs `touch <path>`: what a pickled job from an attacker would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def raw_queue(redis_url: str, serializer=JSONSerializer) -> Queue:
    return Queue("alerts", connection=redis.Redis.from_url(redis_url), serializer=serializer)


def failure_of(redis_url: str, job_id: str) -> str:
    job = raw_queue(redis_url).fetch_job(job_id)
    assert job.get_status() == JobStatus.FAILED
    assert job_id in FailedJobRegistry(queue=raw_queue(redis_url))
    return job.latest_result().exc_string


def test_it_refuses_a_job_naming_os_system(redis_url, tmp_path, caplog):
    marker = tmp_path / "marker"
    job = raw_queue(redis_url).enqueue("os.system", f"touch {marker}")
    run_jobs(redis_url)
    assert not marker.exists()
    assert "names 'os.system', which is not a Tocsin job function" in failure_of(redis_url, job.id)
    assert "refused job" in caplog.text


def test_it_never_unpickles_a_job(redis_url, tmp_path):
    marker = tmp_path / "marker"
    job = raw_queue(redis_url, serializer=pickle).enqueue(FAN_OUT, Touch(marker))
    run_jobs(redis_url)
    assert not marker.exists()
    assert raw_queue(redis_url).fetch_job(job.id).get_status() == JobStatus.FAILED


def test_it_refuses_a_tocsin_job_carrying_a_callback(redis_url, tmp_path, db_url):
    marker = tmp_path / "marker"
    job = raw_queue(redis_url).enqueue(FAN_OUT, 1, on_failure=Callback("os.system"),
                                       on_success=Callback("os.system"))
    run_jobs(redis_url)
    assert "carries callbacks" in failure_of(redis_url, job.id)


def test_it_refuses_a_tocsin_job_with_arguments_of_another_shape(redis_url):
    job = raw_queue(redis_url).enqueue(FAN_OUT, "1; DROP TABLE")
    run_jobs(redis_url)
    assert "not the expected ids" in failure_of(redis_url, job.id)


def test_the_deployed_worker_refuses_it_too_and_still_runs_tocsin_jobs(env, redis_url, db_url,
                                                                       settings, tmp_path):
    from workers.queues import enqueue_fan_out

    marker = tmp_path / "marker"
    bad = raw_queue(redis_url).enqueue("os.system", f"touch {marker}")
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    done = run_workers(env, "--burst")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert "not a Tocsin job function" in failure_of(redis_url, bad.id)
    assert "not a Tocsin job function" in done.stderr
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
