"""Failover end to end: the Twilio stand-in refuses a text, a burst worker calls or emails instead."""
from __future__ import annotations

from collections import Counter

import pytest

from admin_ui import create_app
from notifier import delivery_stats, subscriptions
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Delivery
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_signing import signed_post
from tests.workers.fault_checks import assert_alert_completed, handed_over
from tests.workers.helpers import add_alert, add_residents, deliveries_of, now, run_jobs, use_env
from workers.callback_apply import drain
from workers.failover_jobs import available_channels
from workers.queues import enqueue_fan_out

LANDLINE, OTHER = "+16175550000", "+16175550001"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def live_env(monkeypatch, twilio_env, smtp) -> dict:
    """Twilio on the stand-in and email on aiosmtpd: every channel really sends."""
    return use_env(monkeypatch, {**twilio_env, **smtp.env()})


def send(settings, redis_url: str, alert_id: int) -> None:
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)


def calls_to(standin) -> Counter:
    return Counter(r.form["To"] for r in standin.requests
                   if r.path.endswith("/Calls.json") and r.status == 201)


def by_channel(db_url: str, alert_id: int) -> dict[tuple[str, str], Delivery]:
    return {(d.channel, d.address): d for d in deliveries_of(db_url, alert_id)}


def stats(db_url: str, alert_id: int) -> dict:
    with session_scope(db_url, readonly=True) as session:
        return delivery_stats.stats(session, alert_id)


def test_a_landline_that_refuses_the_text_of_a_severe_alert_is_called(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 2, channels=("sms", "voice"))
    alert_id = add_alert(db_url, channels=("sms",), severity="Severe")
    twilio_standin.fail(LANDLINE, status=400, code=21614, times=1)
    send(twilio_settings, redis_url, alert_id)
    assert calls_to(twilio_standin) == {LANDLINE: 1}
    rows = by_channel(db_url, alert_id)
    text, call = rows[("sms", LANDLINE)], rows[("voice", LANDLINE)]
    assert (text.status, text.error_code) == ("failed", "21614")
    assert (call.status, call.failover_of) == ("sent", text.id)
    assert call.provider_id.startswith("CA")
    assert ("voice", OTHER) not in rows  # the one whose text went out gets no call
    assert stats(db_url, alert_id)["failovers"] == {"sms→voice": 1}
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin, smtp),
                           expected=[LANDLINE, OTHER])


def test_an_invalid_number_with_an_email_gets_the_warning_by_email(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 2, channels=("sms", "voice", "email"), email=True)
    alert_id = add_alert(db_url, channels=("sms",), severity="Extreme")
    twilio_standin.fail(LANDLINE, status=400, code=21211)
    send(twilio_settings, redis_url, alert_id)
    assert calls_to(twilio_standin) == {}  # no call to a number that does not exist
    [mail] = smtp.to("r0@example.org")
    assert "Chemical leak near Main St." in mail.message.get_body(("plain",)).get_content()
    rows = by_channel(db_url, alert_id)
    assert rows[("email", "r0@example.org")].status == "sent"
    assert stats(db_url, alert_id)["failovers"] == {"sms→email": 1}
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin, smtp),
                           expected=["r0@example.org", OTHER])


def test_an_email_to_a_mailbox_that_does_not_exist_is_followed_by_a_text(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 2, channels=("email", "sms"), email=True)
    alert_id = add_alert(db_url, channels=("email",), severity="Severe")
    smtp.refuse("r0@example.org", 550, "5.1.1 No such user here")
    send(twilio_settings, redis_url, alert_id)
    [text] = [r for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    assert text.form["To"] == LANDLINE and "Chemical leak" in text.form["Body"]
    rows = by_channel(db_url, alert_id)
    assert rows[("email", "r0@example.org")].error_code == "smtp-550"
    assert stats(db_url, alert_id)["failovers"] == {"email→sms": 1}
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin, smtp),
                           expected=[LANDLINE, "r1@example.org"])


def test_a_mail_server_refusing_one_message_as_spam_is_not_a_reason_to_text(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 1, channels=("email", "sms"), email=True)
    alert_id = add_alert(db_url, channels=("email",), severity="Extreme")
    smtp.refuse("r0@example.org", 550, "5.7.1 Message rejected as spam")
    send(twilio_settings, redis_url, alert_id)
    assert twilio_standin.requests == []
    assert stats(db_url, alert_id)["failovers"] == {}


def test_a_resident_who_opted_out_of_calls_is_not_called(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 1, channels=("sms", "voice"))
    with session_scope(db_url) as session:
        subscriptions.opt_out(session, LANDLINE, "voice", "api", None, now())
    alert_id = add_alert(db_url, channels=("sms",), severity="Extreme")
    twilio_standin.fail(LANDLINE, status=400, code=21614, times=1)
    send(twilio_settings, redis_url, alert_id)
    assert calls_to(twilio_standin) == {}
    assert [(d.channel, d.status) for d in deliveries_of(db_url, alert_id)] == [("sms", "failed")]
    assert stats(db_url, alert_id)["failovers"] == {}


def test_a_minor_alert_does_not_fail_over(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 1, channels=("sms", "voice"))
    alert_id = add_alert(db_url, channels=("sms",), severity="Minor")
    twilio_standin.fail(LANDLINE, status=400, code=21614, times=1)
    send(twilio_settings, redis_url, alert_id)
    assert calls_to(twilio_standin) == {}
    assert [(d.channel, d.status) for d in deliveries_of(db_url, alert_id)] == [("sms", "failed")]


def test_a_failover_that_fails_too_never_bounces_back(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 1, channels=("sms", "voice"))
    alert_id = add_alert(db_url, channels=("sms",), severity="Extreme")
    twilio_standin.fail(LANDLINE, status=400, code=21614)  # the text and the call
    send(twilio_settings, redis_url, alert_id)
    assert run_jobs(redis_url) is False  # nothing left queued
    tried = Counter(r.path.rsplit("/", 1)[-1] for r in twilio_standin.requests)
    assert tried == {"Messages.json": 1, "Calls.json": 1}
    assert [(d.channel, d.status) for d in deliveries_of(db_url, alert_id)] == [
        ("sms", "failed"), ("voice", "failed")]
    assert stats(db_url, alert_id)["failovers"] == {"sms→voice": 1}


def test_a_text_reported_undelivered_to_a_landline_is_followed_by_a_call(
        live_env, twilio_settings, twilio_standin, smtp, db_url, redis_url):
    add_residents(db_url, 1, channels=("sms", "voice"))
    alert_id = add_alert(db_url, channels=("sms",), severity="Severe")
    send(twilio_settings, redis_url, alert_id)
    [text] = deliveries_of(db_url, alert_id)
    assert text.status == "sent" and calls_to(twilio_standin) == {}
    client = create_app(twilio_settings).test_client()
    report = {"MessageSid": text.provider_id, "MessageStatus": "undelivered",
              "ErrorCode": "30006", "ErrorMessage": "Landline or unreachable carrier"}
    for _ in range(2):  # Twilio may report it twice: one call all the same
        response = signed_post(client, f"/webhooks/twilio/status?d={text.id}", report,
                               twilio_settings)
        assert response.status_code == 200
    drain(twilio_settings)  # the applier fails it over, as a worker's applier would
    run_jobs(redis_url)
    assert calls_to(twilio_standin) == {LANDLINE: 1}
    rows = by_channel(db_url, alert_id)
    assert rows[("sms", LANDLINE)].status == "undelivered"
    assert rows[("voice", LANDLINE)].failover_of == text.id
    assert stats(db_url, alert_id)["failovers"] == {"sms→voice": 1}


def test_texts_through_a_messaging_service_alone_never_fail_over_to_a_call(twilio_env):
    with_number = Settings.from_env(twilio_env)
    service_only = Settings.from_env({**twilio_env, "TWILIO_FROM_NUMBER": "",
                                      "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32})
    assert {"sms", "voice"} <= available_channels(with_number)
    assert "voice" not in available_channels(service_only)
