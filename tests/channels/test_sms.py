"""SmsChannel against the Twilio stand-in over real HTTP."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta, timezone

import redis
from twilio.base.exceptions import TwilioRestException

from channels.base import ChannelError, OutboundMessage, Receipt, Withheld
from channels.sms import ERROR_CODES, EXPIRED, SmsChannel
from channels.twilio_client import RedirectingHttpClient, channel_error
from notifier.config import Settings
from tests.support.twilio_openapi import form_rules
from workers.throttle import Throttle

CALLBACK = "https://tocsin.example.org/webhooks/twilio/status"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def message(i: int = 1, to: str | None = None, body: str = "Flood warning: move to higher ground",
            expires_at: datetime | None = None):
    return OutboundMessage(delivery_id=i, to=to or f"+1617555{i:04d}", body=body, language="en",
                           status_callback=CALLBACK,
                           extra={"expires_at": expires_at} if expires_at else {})


def test_it_posts_to_from_body_and_status_callback_as_twilio_expects(twilio_standin,
                                                                   twilio_settings):
    [receipt] = SmsChannel(twilio_settings).send_batch([message(7, to="+16175550100")])

    assert isinstance(receipt, Receipt)
    assert receipt.delivery_id == 7
    assert receipt.provider_id.startswith("SM") and len(receipt.provider_id) == 34
    assert not receipt.simulated
    [request] = twilio_standin.requests
    assert request.path == f"/2010-04-01/Accounts/{twilio_settings.twilio_account_sid}/Messages.json"
    assert request.form == {"To": "+16175550100", "From": "+15005550006",
                            "Body": "Flood warning: move to higher ground",
                            "StatusCallback": CALLBACK}
    assert set(request.form) <= form_rules("Messages").allowed


def test_it_sends_through_the_messaging_service_when_one_is_configured(twilio_standin, twilio_env):
    service = "MG" + uuid.uuid4().hex
    settings = Settings.from_env({**twilio_env, "TWILIO_FROM_NUMBER": "",
                                  "TWILIO_MESSAGING_SERVICE_SID": service})

    [receipt] = SmsChannel(settings).send_batch([message()])

    assert isinstance(receipt, Receipt)
    [request] = twilio_standin.requests
    assert request.form["MessagingServiceSid"] == service
    assert "From" not in request.form


def test_it_keeps_as_many_messages_in_flight_as_its_concurrency(twilio_standin, twilio_settings):
    twilio_standin.latency = 0.05
    outcomes = SmsChannel(twilio_settings, concurrency=50).send_batch(
        [message(i) for i in range(200)])

    assert all(isinstance(o, Receipt) for o in outcomes)
    assert [o.delivery_id for o in outcomes] == list(range(200))
    assert 45 <= twilio_standin.max_in_flight <= 50


def test_its_connection_pool_is_not_capped_at_aiohttps_default_of_100(twilio_standin,
                                                                    twilio_settings):
    twilio_standin.latency = 0.1
    SmsChannel(twilio_settings, concurrency=150).send_batch([message(i) for i in range(300)])

    assert twilio_standin.max_in_flight > 100


def test_it_marks_invalid_number_permanent_without_repeating_the_number(twilio_standin,
                                                                       twilio_settings):
    twilio_standin.fail("+16175550100", status=400, code=21211)

    ok, bad = SmsChannel(twilio_settings).send_batch(
        [message(1), message(2, to="+16175550100")])

    assert isinstance(ok, Receipt)
    assert isinstance(bad, ChannelError)
    assert (bad.permanent, bad.code, bad.opt_out, bad.delivery_id) == (True, "21211", False, 2)
    assert not bad.outage  # the number is wrong, Twilio is fine
    assert "not a valid phone number" in bad.message
    assert "5550100" not in bad.message


def test_it_flags_an_unsubscribed_recipient_for_opt_out(twilio_standin, twilio_settings):
    twilio_standin.fail("+16175550100", status=400, code=21610)

    [error] = SmsChannel(twilio_settings).send_batch([message(to="+16175550100")])

    assert (error.permanent, error.code, error.opt_out) == (True, "21610", True)


def test_it_retries_a_rate_limit_after_twilios_retry_after(twilio_standin, twilio_settings):
    twilio_standin.fail("+16175550100", status=429, code=20429, retry_after=7)

    [error] = SmsChannel(twilio_settings).send_batch([message(to="+16175550100")])

    assert (error.permanent, error.code, error.retry_after, error.outage) == (
        False, "20429", 7.0, True)


def test_it_retries_a_server_error(twilio_standin, twilio_settings):
    twilio_standin.fail(None, status=500, code=20500)

    errors = SmsChannel(twilio_settings).send_batch([message(1), message(2)])

    assert [(e.permanent, e.code, e.retry_after, e.outage) for e in errors] == [
        (False, "20500", None, True)] * 2


def test_it_fails_other_client_errors_permanently(twilio_standin, twilio_settings):
    twilio_standin.fail(None, status=400, code=21999, message="Something new")

    [error] = SmsChannel(twilio_settings).send_batch([message()])

    assert (error.permanent, error.code, error.outage) == (True, "21999", False)


def test_it_succeeds_once_a_passing_failure_is_over(twilio_standin, twilio_settings):
    twilio_standin.fail("+16175550100", status=503, code=20503, times=1)
    channel = SmsChannel(twilio_settings)

    [first] = channel.send_batch([message(to="+16175550100")])
    [second] = channel.send_batch([message(to="+16175550100")])

    assert isinstance(first, ChannelError) and not first.permanent
    assert isinstance(second, Receipt)


def test_it_fails_permanently_on_wrong_credentials(twilio_standin, twilio_env):
    settings = Settings.from_env({**twilio_env, "TWILIO_AUTH_TOKEN": "wrong"})

    [error] = SmsChannel(settings).send_batch([message()])

    assert (error.permanent, error.code) == (True, "20003")


def test_it_retries_when_twilio_cannot_be_reached(twilio_standin, twilio_settings):
    twilio_standin.stop()

    [error] = SmsChannel(twilio_settings).send_batch([message()])

    assert (error.permanent, error.code) == (False, "connection")


def test_it_retries_when_twilio_answers_too_late(twilio_standin, twilio_settings):
    twilio_standin.latency = 1.0

    [error] = SmsChannel(twilio_settings, timeout=0.2).send_batch([message()])

    assert (error.permanent, error.code) == (False, "timeout")


def test_it_reports_each_outcome_as_soon_as_it_is_known(twilio_standin, twilio_settings):
    twilio_standin.fail("+16175550003", code=21211)
    seen = []

    outcomes = SmsChannel(twilio_settings, concurrency=4).send_batch(
        [message(i) for i in range(1, 11)], on_outcome=seen.append)

    assert sorted(o.delivery_id for o in seen) == list(range(1, 11))
    assert {id(o) for o in seen} == {id(o) for o in outcomes}
    assert [type(o).__name__ for o in outcomes].count("ChannelError") == 1


def test_it_never_logs_phone_numbers_or_bodies(twilio_standin, twilio_settings, caplog):
    caplog.set_level(logging.DEBUG)
    twilio_standin.fail("+16175550199", code=21211)

    SmsChannel(twilio_settings).send_batch(
        [message(1, to="+16175550100", body="Secret body"), message(2, to="+16175550199")])

    assert "Messages.json" in caplog.text  # logging was on
    assert "5550100" not in caplog.text and "5550199" not in caplog.text
    assert "Secret body" not in caplog.text


def test_it_rewrites_every_twilio_host_onto_the_base_url():
    async def rewrites():
        client = RedirectingHttpClient("http://127.0.0.1:9/twilio/")
        plain = RedirectingHttpClient(None)
        try:
            return [
                client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1"),
                client.rewrite("https://api.dublin.ie1.twilio.com/2010-04-01/Calls.json"),
                client.rewrite("https://messaging.twilio.com/v1/Services"),
                client.rewrite("https://example.org/2010-04-01/Messages.json"),
                client.rewrite("https://eviltwilio.com/x"),
                plain.rewrite("https://api.twilio.com/2010-04-01/Messages.json"),
            ]
        finally:
            await client.close()
            await plain.close()

    assert asyncio.run(rewrites()) == [
        "http://127.0.0.1:9/twilio/2010-04-01/Accounts/AC1/Messages.json?a=1",
        "http://127.0.0.1:9/twilio/2010-04-01/Calls.json",
        "http://127.0.0.1:9/twilio/v1/Services",
        "https://example.org/2010-04-01/Messages.json",
        "https://eviltwilio.com/x",
        "https://api.twilio.com/2010-04-01/Messages.json",
    ]


def test_it_falls_back_on_the_http_status_when_twilio_gives_no_code():
    def error(status):
        return channel_error(TwilioRestException(status, "/x", "Unable to create record", status),
                             ERROR_CODES)

    assert (error(502).permanent, error(502).code) == (False, "http-502")
    assert (error(429).permanent, error(429).code) == (False, "http-429")
    assert (error(404).permanent, error(404).code) == (True, "http-404")


def test_it_tells_twilio_to_drop_the_message_when_the_alert_expires(twilio_standin,
                                                                   twilio_settings):
    channel = SmsChannel(twilio_settings, clock=lambda: NOW)

    [receipt] = channel.send_batch([message(expires_at=NOW + timedelta(minutes=10, seconds=0.9))])

    assert isinstance(receipt, Receipt)
    [request] = twilio_standin.requests
    assert request.form["ValidityPeriod"] == "600"  # whole seconds left, rounded down
    assert set(request.form) <= form_rules("Messages").allowed


def test_its_validity_period_stops_at_twilios_ten_hours(twilio_standin, twilio_settings):
    channel = SmsChannel(twilio_settings, clock=lambda: NOW)

    [receipt] = channel.send_batch([message(expires_at=NOW + timedelta(days=2))])

    assert isinstance(receipt, Receipt)
    assert twilio_standin.requests[0].form["ValidityPeriod"] == "36000"


def test_it_leaves_the_validity_period_to_twilio_when_the_alert_never_expires(
        twilio_standin, twilio_settings):
    SmsChannel(twilio_settings, clock=lambda: NOW).send_batch([message()])

    assert "ValidityPeriod" not in twilio_standin.requests[0].form


def test_it_hands_over_nothing_of_an_alert_that_has_expired(twilio_standin, twilio_settings):
    channel = SmsChannel(twilio_settings, clock=lambda: NOW)

    outcomes = channel.send_batch([message(1, expires_at=NOW + timedelta(seconds=0.5)),
                                   message(2, expires_at=NOW - timedelta(minutes=1))])

    assert outcomes == [Withheld(1, EXPIRED), Withheld(2, EXPIRED)]
    assert twilio_standin.requests == []


GSM_SHORT = "Flood warning: move to higher ground"
UCS2_100 = "Avis d\u2019inondation : montez plus haut. " + "x" * 62  # one curly quote: UCS-2
GSM_400 = "Evacuate now. " * 28 + "Go"


def test_it_counts_a_message_in_the_segments_it_goes_out_in(twilio_settings):
    channel = SmsChannel(twilio_settings)

    assert len(UCS2_100) == 100 and len(GSM_400) == 394
    assert [channel.pace_cost(message(body=b)) for b in (GSM_SHORT, "x" * 100, UCS2_100, GSM_400)
            ] == [1, 1, 2, 3]


def test_its_pace_takes_one_permit_per_segment(twilio_standin, twilio_settings, redis_url):
    throttle = Throttle(redis.Redis.from_url(redis_url), "sms", 1000, sender=uuid.uuid4().hex)
    channel = SmsChannel(twilio_settings, pace=throttle)

    outcomes = channel.send_batch([message(1, body=GSM_SHORT), message(2, body=UCS2_100),
                                   message(3, body=GSM_400)])

    assert all(isinstance(o, Receipt) for o in outcomes)
    assert throttle.spent == 1 + 2 + 3


def test_it_retries_a_validity_period_too_small_so_the_claim_skips_it_as_expired(
        twilio_standin, twilio_settings):
    twilio_standin.fail(None, status=400, code=30012, message="TTL is too small")

    [error] = SmsChannel(twilio_settings, clock=lambda: NOW).send_batch(
        [message(expires_at=NOW + timedelta(seconds=3))])

    assert (error.permanent, error.code) == (False, "30012")
