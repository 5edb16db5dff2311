"""Delivery under faults (issue 10): an SMTP outage (from the start, and mid-batch), STOP
mid-batch, cancel mid-send; each ends with the full check of tests/workers/fault_checks.py.

Real parts only: a real aiosmtpd server taken down and brought up, the Twilio stand-in
answering slowly, the signed inbound-SMS webhook, real RQ burst workers.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from admin_ui import create_app
from notifier import accounts, alerts
from notifier.config import Settings
from notifier.db import session_scope
from tests.support.fixtures import TWILIO_FROM_NUMBER
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_signing import signed_post
from tests.workers.fault_checks import assert_alert_completed, handed_over
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
    assert_alert_completed(db_url, alert_id, handed_over(smtp=server),
                           expected=[r.address for r in rows])


@pytest.mark.slow
def test_an_smtp_server_that_goes_down_mid_batch_costs_at_most_the_emails_in_flight(
        monkeypatch, env, db_url, redis_url):
    first = SmtpServer()
    concurrency = 5
    settings = Settings.from_env(use_env(monkeypatch, {**env, **first.env()},
                                         EMAIL_CONCURRENCY=concurrency))
    add_residents(db_url, 150, channels=("email",), email=True)
    alert_id = add_alert(db_url, channels=("email",))

    def go_down_mid_batch():
        deadline = time.monotonic() + 15
        while len(first.messages) < 40 and time.monotonic() < deadline:
            time.sleep(0.005)
        first.__exit__()

    first.__enter__()
    outage = threading.Thread(target=go_down_mid_batch)
    outage.start()
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)
    outage.join(20)

    rows = deliveries_of(db_url, alert_id)
    status = Counter(r.status for r in rows)
    assert status["retry_wait"] >= 50, status  # it went down early in the batch
    assert set(status) == {"sent", "retry_wait"}
    with SmtpServer(port=first.port) as second:  # back up, where it was
        assert sweep.resume(settings, now() + timedelta(minutes=5))["retries"] \
            == status["retry_wait"]
        run_jobs(redis_url)
    # An email whose DATA the server took just as it went down may be sent again.
    assert_alert_completed(db_url, alert_id, handed_over(smtp=first) + handed_over(smtp=second),
                           expected=[r.address for r in rows], in_flight_extra=concurrency)


def when_requests_reach(standin, count: int, timeout: float = 15) -> None:
    """Wait until the stand-in has received `count` requests."""
    deadline = time.monotonic() + timeout
    while len(standin.requests) < count:
        assert time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.01)


def phone(i: int) -> str:
    return f"+1617555{i:04d}"  # as tests.workers.helpers.add_residents numbers them


def text(client, settings, number: str, body: str, sid: int):
    """A resident's text through the signed inbound webhook, as Twilio posts it."""
    params = {"MessageSid": f"SM{sid:032x}", "AccountSid": settings.twilio_account_sid,
              "From": number, "To": TWILIO_FROM_NUMBER, "Body": body, "NumSegments": "1"}
    response = signed_post(client, "/webhooks/twilio/sms", params, settings)
    assert response.status_code == 200
    return response


@pytest.mark.slow
def test_residents_who_text_stop_mid_batch_get_nothing_after_their_stop_is_confirmed(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=4)
    twilio_standin.latency = 0.1
    add_residents(db_url, 90)
    alert_id = add_alert(db_url)
    client = create_app(twilio_settings).test_client()
    text(client, twilio_settings, "+16170000000", "HELP", 0)  # the app is warm before the batch
    stoppers = [phone(i) for i in range(55, 65)]  # well into the batch
    confirmed: dict[str, float] = {}

    def text_stop():
        when_requests_reach(twilio_standin, 8)
        for n, number in enumerate(stoppers, 1):
            text(client, twilio_settings, number, "STOP", n)
            confirmed[number] = time.time()  # Twilio has the confirmation reply from now on

    resident = threading.Thread(target=text_stop)
    resident.start()
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    resident.join(30)

    assert sorted(confirmed) == sorted(stoppers)
    late = [(r.form["To"], r.received_at - confirmed[r.form["To"]])
            for r in twilio_standin.requests
            if r.form["To"] in confirmed and r.received_at >= confirmed[r.form["To"]]]
    assert late == []
    rows = {r.address: r for r in deliveries_of(db_url, alert_id)}
    texted = Counter(r.form["To"] for r in twilio_standin.requests)
    # Texted before their STOP was confirmed, or not at all: then the row says why.
    for number in stoppers:
        if texted[number]:
            assert (rows[number].status, texted[number]) == ("sent", 1)
        else:
            assert (rows[number].status, rows[number].error_message) == ("skipped", "opted out")
    assert sum(rows[n].status == "skipped" for n in stoppers) >= 5  # the STOPs came mid-batch
    others = set(rows) - set(stoppers)
    assert {rows[n].status for n in others} == {"sent"}
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin),
                           expected=others | {n for n in stoppers if texted[n]})


@pytest.mark.slow
def test_a_cancel_mid_send_stops_every_further_message_within_two_seconds(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env, SMS_CONCURRENCY=4)
    twilio_standin.latency = 0.1
    add_residents(db_url, 150)
    alert_id = add_alert(db_url)
    client = create_app(twilio_settings).test_client()
    with session_scope(db_url) as session:
        headers = {"Authorization": "Bearer "
                   + accounts.create_token(session, "cad", "dispatcher")}
    assert client.get("/api/v1/alerts", headers=headers).status_code == 200  # warm
    cancelled_at: list[float] = []

    def cancel():
        when_requests_reach(twilio_standin, 20)
        response = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=headers)
        assert response.status_code == 200, response.get_json()
        cancelled_at.append(time.time())

    dispatcher = threading.Thread(target=cancel)
    dispatcher.start()
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    dispatcher.join(30)

    [at] = cancelled_at
    requests = twilio_standin.requests
    assert max(r.received_at for r in requests) - at < 2
    rows = deliveries_of(db_url, alert_id)
    status = Counter(r.status for r in rows)
    assert set(status) <= {"sent", "cancelled"}, status
    assert status["cancelled"] >= 50  # the cancel came early in the batch
    # Every sent row is a request the provider got, and the rest were never handed over.
    assert status["sent"] == len(requests) == len({r.form["To"] for r in requests})
    assert status["sent"] + status["cancelled"] == 150
    assert {r.form["To"] for r in requests} == {r.address for r in rows if r.status == "sent"}
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin),
                           expected=[r.address for r in rows if r.status == "sent"])


@pytest.mark.slow
def test_a_message_that_fails_after_its_alert_was_cancelled_is_not_parked_for_a_retry(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    twilio_standin.latency = 0.5
    twilio_standin.fail(phone(0), status=500, code=20500)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)

    def cancel_while_in_flight():
        deadline = time.monotonic() + 10
        while twilio_standin.stats()["max_in_flight"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with session_scope(db_url, redis_url=redis_url) as session:
            alerts.cancel_alert(session, alert_id, "test", now())

    dispatcher = threading.Thread(target=cancel_while_in_flight)
    dispatcher.start()
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url)
    dispatcher.join(10)

    [row] = deliveries_of(db_url, alert_id)
    assert len(twilio_standin.requests) == 1  # it was handed over, and refused for now
    assert row.status == "cancelled" and row.next_attempt_at is None
    assert_alert_completed(db_url, alert_id, handed_over(standin=twilio_standin), expected=[])
