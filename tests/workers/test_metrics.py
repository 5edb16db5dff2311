"""Workers count what they do: deliveries by status, provider errors by code, latencies, sweeps."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from workers import metrics, sweep
from workers.fan_out import fan_out_alert
from workers.queues import enqueue_fan_out

from tests.workers.helpers import add_alert, add_residents, now, run_jobs, use_env


class Tally:
    """This process's counters now, to compare with what they read after the work."""

    def __init__(self, *samples: tuple[str, dict]):
        self.samples = samples
        self.before = [self.read(name, labels) for name, labels in samples]

    @staticmethod
    def read(name: str, labels: dict) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def added(self) -> list[float]:
        return [self.read(n, l) - b for (n, l), b in zip(self.samples, self.before)]


def test_a_send_counts_its_deliveries_errors_and_latencies(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 3)
    # Sent a minute ago: every message's latency counts from then.
    alert_id = add_alert(db_url, sent_at=now() - timedelta(seconds=60))
    twilio_standin.fail("+16175550001", status=400, code=21211)
    tally = Tally(("tocsin_deliveries_total", {"channel": "sms", "status": "pending"}),
                  ("tocsin_deliveries_total", {"channel": "sms", "status": "sent"}),
                  ("tocsin_deliveries_total", {"channel": "sms", "status": "failed"}),
                  ("tocsin_provider_errors_total", {"channel": "sms", "code": "21211"}),
                  ("tocsin_send_latency_seconds_count", {"channel": "sms"}),
                  ("tocsin_send_latency_seconds_bucket", {"channel": "sms", "le": "30.0"}),
                  ("tocsin_send_latency_seconds_bucket", {"channel": "sms", "le": "120.0"}),
                  ("tocsin_fan_out_seconds_count", {}))
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    assert tally.added() == [3, 2, 1, 1, 2, 0, 2, 1]


def test_a_retried_error_counts_under_its_code_and_as_retry_wait(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)
    twilio_standin.fail("+16175550000", status=503, code=20503, times=1)
    tally = Tally(("tocsin_deliveries_total", {"channel": "sms", "status": "retry_wait"}),
                  ("tocsin_provider_errors_total", {"channel": "sms", "code": "20503"}))
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    assert tally.added() == [1, 1]


def test_the_sweep_counts_what_it_queued_again(monkeypatch, env, settings, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 3)
    fan_out_alert(add_alert(db_url))
    tally = Tally(("tocsin_sweep_actions_total", {"action": "pending"}),
                  ("tocsin_sweep_actions_total", {"action": "stale"}))
    sweep.resume(settings, now())
    assert tally.added() == [3, 0]


def test_many_observations_at_once_read_as_many_one_by_one():
    registry = CollectorRegistry()
    one = Histogram("one_seconds", "one by one", buckets=metrics.LATENCY_BUCKETS,
                    registry=registry)
    many = Histogram("many_seconds", "at once", buckets=metrics.LATENCY_BUCKETS,
                     registry=registry)
    for value, count in ((0.2, 3), (45.0, 5), (86400.0, 1), (10 ** 6, 2)):
        for _ in range(count):
            one.observe(value)
        metrics.observe_many(many, value, count)
    [one_family, many_family] = registry.collect()
    assert ([(s.name.replace("one", "many"), s.labels, s.value) for s in one_family.samples]
            == [(s.name, s.labels, s.value) for s in many_family.samples])


def test_a_provider_code_that_is_not_code_shaped_is_one_label():
    assert [metrics.code_label(c) for c in ("21211", "smtp-550", "timeout", None, "",
                                            "x" * 40, "+16175550100 is bad")] == [
        "21211", "smtp-550", "timeout", "none", "none", "other", "other"]
