"""Delivery under faults (issue 10): an SMTP outage, STOP mid-batch, cancel mid-send.

Real parts only: a real aiosmtpd server taken down and brought up, the Twilio stand-in
answering slowly, the signed inbound-SMS webhook, real RQ burst workers.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from notifier.config import Settings
from tests.support.smtp_server import SmtpServer
from tests.workers.helpers import add_alert, add_residents, deliveries_of, now, run_jobs, use_env
from workers import sweep
from workers.queues import enqueue_fan_out


def test_an_smtp_outage_parks_every_email_for_retry_and_each_goes_out_once_after(
        monkeypatch, env, db_url, redis_url):
    server = SmtpServer()  # its port is chosen but nothing listens there yet: the outage
    settings_env = use_env(monkeypatch, {**env, **server.env()}, EMAIL_CONCURRENCY=20)
    add_residents(db_url, 50, channels=("email",), email=True)
    alert_id = add_alert(db_url, channels=("email",))
    settings = Settings.from_env(settings_env)

    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)

    rows = deliveries_of(db_url, alert_id)
    assert len(rows) == 50
    assert Counter(r.status for r in rows) == {"retry_wait": 50}
    assert {r.error_code for r in rows} == {"connection"}

    with server:
        assert sweep.resume(settings, now() + timedelta(minutes=5))["retries"] == 50
        run_jobs(redis_url)
    rows = deliveries_of(db_url, alert_id)
    assert Counter(r.status for r in rows) == {"sent": 50}
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(r.address for r in rows)
