"""GET /metrics: valid Prometheus text, the state of the queues, what every process counted."""
from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from admin_ui import create_app
from admin_ui.metrics import registry_for
from notifier.config import Settings
from notifier.db import session_scope
from notifier.errors import ConfigError
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber
from tests.support.services import free_port
from tests.support.twilio_signing import signed_post
from tests.workers.helpers import LEAKY, add_alert, add_residents
from workers.callback_apply import drain
from workers.queues import enqueue_deliveries, enqueue_fan_out

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-long-enough-for-the-minimum-length"
FAMILIES = {"tocsin_deliveries", "tocsin_provider_errors", "tocsin_callbacks_applied",
            "tocsin_sweep_actions", "tocsin_fan_out_seconds", "tocsin_send_latency_seconds",
            "tocsin_queue_depth", "tocsin_scheduled_jobs", "tocsin_unfinished_deliveries",
            "tocsin_oldest_pending_delivery_seconds", "tocsin_overdue_retry_seconds",
            "tocsin_metrics_source_up", "tocsin_workers", "tocsin_callbacks_waiting"}


def samples(text: str) -> dict:
    """{(sample name, sorted label pairs): value}, parsed by prometheus_client's own parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    return samples(response.get_data(as_text=True))


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_scrape_is_prometheus_text_with_every_family(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    names = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert FAMILIES <= names


def test_queue_depth_counts_the_jobs_waiting_and_scheduled_in_each_queue(client, settings):
    enqueue_fan_out(settings, 41)
    enqueue_fan_out(settings, 42)
    enqueue_deliveries(settings, "sms", [1, 2, 3])
    enqueue_deliveries(settings, "voice", [4], delay=300)
    scraped = scrape(client)
    assert [value(scraped, "tocsin_queue_depth", queue=q) for q in ("alerts", "sms", "voice")] \
        == [2, 1, 0]
    assert value(scraped, "tocsin_scheduled_jobs", queue="voice") == 1
    assert value(scraped, "tocsin_workers") == 0
    assert value(scraped, "tocsin_metrics_source_up", source="redis") == 1


def test_the_oldest_pending_delivery_and_the_most_overdue_retry_show_their_age(settings):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session)
        for i, (status, queued, due) in enumerate([
                ("pending", NOW - timedelta(hours=1), None),
                ("pending", NOW - timedelta(minutes=5), None),
                ("retry_wait", NOW - timedelta(hours=2), NOW - timedelta(minutes=10)),
                ("retry_wait", NOW, NOW + timedelta(minutes=1)),
                ("sent", NOW - timedelta(days=3), None)]):
            make_delivery(session, alert, make_subscriber(session, phone=f"+1617555020{i}"),
                          status=status, queued_at=queued, next_attempt_at=due, sent_at=None)
    scraped = samples(generate_latest(registry_for(settings, now=lambda: NOW)).decode())
    assert value(scraped, "tocsin_oldest_pending_delivery_seconds") == 3600
    assert value(scraped, "tocsin_overdue_retry_seconds") == 600
    assert value(scraped, "tocsin_unfinished_deliveries", channel="sms", status="pending") == 2
    assert value(scraped, "tocsin_unfinished_deliveries", channel="sms", status="retry_wait") == 2


def test_nothing_waiting_reads_as_zero_age(client):
    scraped = scrape(client)
    assert value(scraped, "tocsin_oldest_pending_delivery_seconds") == 0
    assert value(scraped, "tocsin_overdue_retry_seconds") == 0


def test_a_signed_status_callback_counts_once_as_applied(twilio_settings):
    client = create_app(twilio_settings).test_client()
    with session_scope(twilio_settings.database_url) as session:
        alert = make_alert(session)
        sent = make_delivery(session, alert, make_subscriber(session), provider_id="SM1").id
        lost = make_delivery(session, alert, make_subscriber(session, phone="+16175550111"),
                             provider_id="SM2").id
    before = scrape(client)
    for _ in range(2):  # Twilio repeats itself; a repeat changes nothing
        signed_post(client, f"/webhooks/twilio/status?d={sent}",
                    {"MessageSid": "SM1", "MessageStatus": "delivered"}, twilio_settings)
    signed_post(client, f"/webhooks/twilio/status?d={lost}",
                {"MessageSid": "SM2", "MessageStatus": "undelivered", "ErrorCode": "30003"},
                twilio_settings)
    assert value(scrape(client), "tocsin_callbacks_waiting") == 3  # accepted, not applied
    drain(twilio_settings)  # the applier counts them, as it applies them
    after = scrape(client)
    assert value(after, "tocsin_callbacks_waiting") == 0
    for name, labels, added in [
            ("tocsin_callbacks_applied_total", {"status": "delivered"}, 1),
            ("tocsin_callbacks_applied_total", {"status": "undelivered"}, 1),
            ("tocsin_deliveries_total", {"channel": "sms", "status": "delivered"}, 1),
            ("tocsin_provider_errors_total", {"channel": "sms", "code": "30003"}, 1)]:
        assert value(after, name, **labels) - value(before, name, **labels) == added, name


def test_a_carrier_opt_out_is_logged_with_its_ids_and_no_number(twilio_settings, caplog):
    client = create_app(twilio_settings).test_client()
    with session_scope(twilio_settings.database_url) as session:
        alert = make_alert(session)
        row = make_delivery(session, alert, make_subscriber(session), provider_id="SM3")
        ids = (alert.id, row.id)
    with caplog.at_level(logging.INFO):
        signed_post(client, f"/webhooks/twilio/status?d={ids[1]}",
                    {"MessageSid": "SM3", "MessageStatus": "failed", "ErrorCode": "21610",
                     "To": "+16175550100"}, twilio_settings)
        drain(twilio_settings)
    assert f"alert_id={ids[0]} delivery_id={ids[1]}" in caplog.text
    assert "6175550100" not in caplog.text


def test_with_metrics_token_set_only_its_bearer_may_scrape(settings):
    client = create_app(dataclasses.replace(settings, metrics_token=TOKEN)).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert scrape(client, Authorization=f"Bearer {TOKEN}")


def test_a_short_metrics_token_is_refused_at_start(env):
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({**env, "METRICS_TOKEN": "guessable"})


def test_metrics_token_may_come_from_a_file(env, tmp_path):
    (tmp_path / "metrics_token").write_text(TOKEN + "\n")
    settings = Settings.from_env({**env, "METRICS_TOKEN_FILE": str(tmp_path / "metrics_token")})
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)


def test_an_unreachable_redis_shows_as_down_and_the_scrape_still_answers(settings):
    down = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    scraped = scrape(create_app(down).test_client())
    assert value(scraped, "tocsin_metrics_source_up", source="redis") == 0
    assert value(scraped, "tocsin_metrics_source_up", source="database") == 1


@pytest.mark.slow
def test_what_forked_worker_jobs_count_shows_in_the_web_apps_scrape(
        twilio_env, twilio_settings, twilio_standin, db_url, tmp_path):
    """A real `python -m workers --burst` (RQ forks a horse per job) on a shared directory."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**twilio_env, "PROMETHEUS_MULTIPROC_DIR": str(directory), "BATCH_SIZE": "2"}
    add_residents(db_url, 5)
    alert_id = add_alert(db_url)
    twilio_standin.fail("+16175550003", status=400, code=21211)
    enqueue_fan_out(twilio_settings, alert_id)
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY}
    done = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    app = create_app(Settings.from_env(env))
    scraped = scrape(app.test_client())
    assert [value(scraped, "tocsin_deliveries_total", channel="sms", status=s)
            for s in ("pending", "sent", "failed")] == [5, 4, 1]
    assert value(scraped, "tocsin_provider_errors_total", channel="sms", code="21211") == 1
    assert value(scraped, "tocsin_send_latency_seconds_count", channel="sms") == 4
    assert value(scraped, "tocsin_fan_out_seconds_count") == 1
    # Four jobs ran in four horses, which share one set of files (plus the worker's own).
    assert len({p.stem.rsplit("_", 1)[1] for p in directory.glob("*.db")}) <= 2
    # The log: every line about the batch names its alert and deliveries; no full number.
    log = done.stderr
    assert f"sms delivery failed alert_id={alert_id} delivery_id=" in log
    assert "to=+1617*****03" in log
    assert f"sms batch alert_id={alert_id} delivery_id=" in log
    assert "+1617555" not in log and "6175550003" not in log
