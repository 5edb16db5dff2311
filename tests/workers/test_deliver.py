"""Delivery end to end: fan-out, burst worker, the Twilio stand-in over HTTP, the sandbox."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from notifier import deliveries
from notifier.db import session_scope
from notifier.models import Delivery, OptOut, SandboxMessage
from workers import sweep
from workers.deliver import deliver_batch
from workers.queues import enqueue_fan_out

from tests.workers.helpers import (add_alert, add_residents, count, deliveries_of, now, run_jobs,
                                   use_env)


def send(settings, redis_url, alert_id) -> None:
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)


def test_each_message_goes_out_once_whatever_runs_twice(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 4)
    alert_id = add_alert(db_url)
    send(twilio_settings, redis_url, alert_id)
    send(twilio_settings, redis_url, alert_id)  # a duplicated fan-out job
    rows = deliveries_of(db_url, alert_id)
    assert deliver_batch("sms", [r.id for r in rows]) == {"claimed": 0}  # a duplicated batch
    assert len(twilio_standin.requests) == 4
    assert sorted(r.form["To"] for r in twilio_standin.requests) == sorted(r.address for r in rows)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.provider_id.startswith("SM") for r in rows)
    # The callback URL names the delivery, so a callback racing ahead still finds it.
    callbacks = {r.form["StatusCallback"] for r in twilio_standin.requests}
    assert callbacks == {f"https://tocsin.example.org/webhooks/twilio/status?d={r.id}" for r in rows}


def test_sandbox_deliveries_end_delivered_with_outbox_rows(monkeypatch, env, settings, db_url,
                                                            redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url)
    send(settings, redis_url, alert_id)
    rows = deliveries_of(db_url, alert_id)
    assert {r.status for r in rows} == {"delivered"}
    assert all(r.sent_at and r.delivered_at for r in rows)
    with session_scope(db_url, readonly=True) as session:
        outbox = {(m.delivery_id, m.to, m.provider_id) for m in session.query(SandboxMessage)}
    assert outbox == {(r.id, r.address, r.provider_id) for r in rows}


def test_an_invalid_number_fails_with_twilios_code(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    twilio_standin.fail("+16175550000", status=400, code=21211)
    send(twilio_settings, redis_url, alert_id)
    status = {r.address: (r.status, r.error_code) for r in deliveries_of(db_url, alert_id)}
    assert status == {"+16175550000": ("failed", "21211"), "+16175550001": ("sent", None)}


def test_a_carrier_opt_out_fails_the_delivery_and_opts_the_resident_out(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)
    twilio_standin.fail("+16175550000", status=400, code=21610)
    send(twilio_settings, redis_url, alert_id)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.error_code) == ("failed", "21610")
    assert count(db_url, OptOut, OptOut.address == "+16175550000", OptOut.channel == "sms",
                 OptOut.source == "carrier") == 1


def test_a_server_error_is_retried_until_sent(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)
    twilio_standin.fail("+16175550000", status=500, code=20500, times=2)
    send(twilio_settings, redis_url, alert_id)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.attempts) == ("retry_wait", 1)
    assert row.next_attempt_at > now() + timedelta(seconds=settings_delay(twilio_settings, 0))
    # The delayed job waits for the scheduler; the sweep finds what is due instead of sleeping.
    assert sweep.resume(twilio_settings, now() + timedelta(hours=1))["retries"] == 1
    run_jobs(redis_url)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.attempts) == ("retry_wait", 2)
    assert sweep.resume(twilio_settings, now() + timedelta(hours=1))["retries"] == 1
    run_jobs(redis_url)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.attempts, row.provider_id[:2]) == ("sent", 3, "SM")
    assert len(twilio_standin.requests) == 3


def settings_delay(settings, attempt: int) -> float:
    return settings.retry_delays[attempt] - 1  # minus a second of test run time


def test_attempts_run_out_into_failed(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)
    # A temporary refusal of this message (a full queue); a provider that is down or busy
    # (5xx, 429) is retried for as long as an outage (tests/workers/test_provider_faults.py).
    twilio_standin.fail("+16175550000", status=400, code=21611)
    send(twilio_settings, redis_url, alert_id)
    for _ in twilio_settings.retry_delays:
        sweep.resume(twilio_settings, now() + timedelta(hours=1))
        run_jobs(redis_url)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.error_code) == ("failed", "21611")
    assert row.attempts == len(twilio_settings.retry_delays) + 1


def test_a_cancelled_alert_sends_nothing(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url)
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url, queues=("alerts",))
    with session_scope(db_url) as session:
        deliveries.cancel_alert(session, alert_id, now())
    run_jobs(redis_url)
    assert twilio_standin.requests == []
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"cancelled"}


def test_a_resident_who_opted_out_meanwhile_is_skipped(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    enqueue_fan_out(twilio_settings, alert_id)
    run_jobs(redis_url, queues=("alerts",))
    with session_scope(db_url) as session:
        session.add(OptOut(address="+16175550001", channel="sms", source="keyword", body="STOP"))
    run_jobs(redis_url)
    status = {r.address: (r.status, r.error_message) for r in deliveries_of(db_url, alert_id)}
    assert status == {"+16175550000": ("sent", None), "+16175550001": ("skipped", "opted out")}
    assert [r.form["To"] for r in twilio_standin.requests] == ["+16175550000"]


def test_each_resident_gets_the_text_in_their_language(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1, language="es-MX")
    add_residents(db_url, 1, language="fr", first=1)
    add_residents(db_url, 1, language="en", first=2)
    alert_id = add_alert(db_url)
    send(twilio_settings, redis_url, alert_id)
    bodies = {r.form["To"]: r.form["Body"] for r in twilio_standin.requests}
    assert "Quédese adentro" in bodies["+16175550000"]
    assert "Stay indoors" in bodies["+16175550001"]  # no French text: the default language
    assert "Stay indoors" in bodies["+16175550002"]


def test_sms_keeps_to_the_shared_rate(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env, SMS_PER_SECOND=20)
    add_residents(db_url, 30)
    alert_id = add_alert(db_url)
    send(twilio_settings, redis_url, alert_id)
    stamps = [r.at for r in twilio_standin.requests]
    assert len(stamps) == 30
    assert max(Counter(int(s) for s in stamps).values()) <= 20
    assert max(stamps) - min(stamps) >= 0.9  # 30 at 20/s cannot fit in one second


def test_an_unreachable_provider_keeps_the_message_waiting_past_the_usual_attempts(
        monkeypatch, twilio_env, twilio_settings, twilio_standin, db_url, redis_url):
    use_env(monkeypatch, twilio_env)
    add_residents(db_url, 1)
    alert_id = add_alert(db_url)
    twilio_standin.stop()  # connection refused: Twilio is down, not the message at fault
    send(twilio_settings, redis_url, alert_id)
    for _ in range(len(twilio_settings.retry_delays) + 2):
        sweep.resume(twilio_settings, now() + timedelta(hours=1))
        run_jobs(redis_url)
    [row] = deliveries_of(db_url, alert_id)
    assert (row.status, row.error_code) == ("retry_wait", "connection")
    assert row.attempts == len(twilio_settings.retry_delays) + 3
