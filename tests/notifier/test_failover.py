"""Failover: the next channel after a permanent failure, on real rows, never twice, never back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import uuid

import pytest
from sqlalchemy import select

from notifier import deliveries, delivery_stats, failover, subscriptions
from notifier.config import Settings
from notifier.db import session_scope
from notifier.errors import ConfigError
from notifier.failover import BAD_MAILBOX, BAD_NUMBER, LANDLINE, Failed
from notifier.models import Alert, Delivery, Subscriber

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
SETTINGS = Settings(database_url="sqlite://", redis_url="redis://", secret_key="x" * 32)
EVERYWHERE = {"sms", "voice", "email"}


def add_alert(session, severity: str = "Severe", channels=("sms",), **fields) -> int:
    values = dict(identifier=f"urn:test:{uuid.uuid4()}", state="sending",
                  status="Actual", msg_type="Alert", category="Safety", event="Flood",
                  headline="Flood", severity=severity, urgency="Immediate", certainty="Observed",
                  messages={"en": "Go up."}, area={"everyone": True}, channels=list(channels),
                  created_by="test")
    values.update(fields)
    alert = Alert(**values)
    session.add(alert)
    session.flush()
    return alert.id


def add_resident(session, n: int, channels, email: bool = True) -> Subscriber:
    sub = Subscriber(phone=f"+1617253{n:04d}", email=f"r{n}@example.org" if email else None,
                     language="es", channels=list(channels))
    session.add(sub)
    session.flush()
    return sub


def failed_delivery(session, alert_id: int, sub: Subscriber, channel: str = "sms",
                    status: str = deliveries.FAILED) -> int:
    [(delivery_id, _)] = deliveries.insert_pending(session, [{
        "alert_id": alert_id, "subscriber_id": sub.id, "channel": channel,
        "address": sub.email if channel == "email" else sub.phone, "language": "es"}], NOW)
    session.execute(Delivery.__table__.update().where(Delivery.id == delivery_id)
                    .values(status=status, error_code="21614"))
    return delivery_id


def delivery_rows(session, alert_id: int) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(Delivery.channel, Delivery.address, Delivery.status, Delivery.language,
               Delivery.failover_of).where(Delivery.alert_id == alert_id).order_by(Delivery.id))]


def test_a_landline_that_cannot_take_the_text_is_called_next(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice", "email"])
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["voice"]
        assert delivery_rows(s, alert_id)[1] == ("voice", sub.phone, "pending", "es", failed)


def test_the_next_channel_follows_the_residents_own_order(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "email", "voice"])
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["email"]
        assert delivery_rows(s, alert_id)[1][1] == sub.email


def test_an_invalid_number_goes_to_email_and_never_to_a_call_on_the_same_number(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice", "email"])
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, BAD_NUMBER)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["email"]


def test_a_mailbox_that_does_not_exist_goes_to_the_residents_first_phone_channel(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s, channels=("email",))
        sub = add_resident(s, 1, ["email", "voice", "sms"])
        failed = failed_delivery(s, alert_id, sub, channel="email")
        made = failover.fail_over(s, [Failed(failed, BAD_MAILBOX)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["voice"]
        assert delivery_rows(s, alert_id)[1][:2] == ("voice", sub.phone)


def test_an_invalid_number_without_an_email_fails_over_nowhere(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice"], email=False)
        failed = failed_delivery(s, alert_id, sub)
        assert failover.fail_over(s, [Failed(failed, BAD_NUMBER)], SETTINGS, NOW, EVERYWHERE) == []
        assert len(delivery_rows(s, alert_id)) == 1


def test_a_channel_the_resident_opted_out_of_is_never_used(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice", "email"])
        subscriptions.opt_out(s, sub.phone, "voice", "api", None, NOW)
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["email"]  # the next one along their list


def test_a_channel_the_resident_did_not_choose_is_never_used(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms"])
        failed = failed_delivery(s, alert_id, sub)
        assert failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE) == []


def test_a_resident_without_preferences_takes_every_channel_they_have_an_address_for(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, [])
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["voice"]


def test_a_channel_this_deployment_cannot_send_on_is_passed_over(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice", "email"])
        failed = failed_delivery(s, alert_id, sub)
        made = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, {"sms", "email"})
        assert [channel for _, channel in made] == ["email"]


@pytest.mark.parametrize("severity", ["Moderate", "Minor", "Unknown"])
def test_an_alert_below_severe_does_not_fail_over(db_url, severity):
    with session_scope(db_url) as s:
        alert_id = add_alert(s, severity=severity)
        sub = add_resident(s, 1, ["sms", "voice"])
        failed = failed_delivery(s, alert_id, sub)
        assert failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE) == []


def test_the_severities_that_fail_over_are_a_setting(db_url, env):
    minor_too = Settings.from_env({**env, "FAILOVER_SEVERITIES": "extreme, severe, Minor"})
    assert minor_too.failover_severities == ("Extreme", "Severe", "Minor")
    off = Settings.from_env({**env, "FAILOVER_SEVERITIES": "none"})
    assert off.failover_severities == ()
    assert Settings.from_env(env).failover_severities == ("Severe", "Extreme")
    with pytest.raises(ConfigError, match="FAILOVER_SEVERITIES.*Grave is not a CAP severity"):
        Settings.from_env({**env, "FAILOVER_SEVERITIES": "Severe,Grave"})
    with session_scope(db_url) as s:
        minor = add_alert(s, severity="Minor")
        extreme = add_alert(s, severity="Extreme")
        sub = add_resident(s, 1, ["sms", "voice"])
        on_minor = failed_delivery(s, minor, sub)
        on_extreme = failed_delivery(s, extreme, sub)
        assert failover.fail_over(s, [Failed(on_extreme, LANDLINE)], off, NOW, EVERYWHERE) == []
        made = failover.fail_over(s, [Failed(on_minor, LANDLINE)], minor_too, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["voice"]


def test_a_cancelled_or_expired_alert_does_not_fail_over(db_url):
    with session_scope(db_url) as s:
        cancelled = add_alert(s, state="cancelled")
        expired = add_alert(s, severity="Extreme", expires_at=NOW - timedelta(minutes=1))
        sub = add_resident(s, 1, ["sms", "voice"])
        failed = [Failed(failed_delivery(s, cancelled, sub), LANDLINE),
                  Failed(failed_delivery(s, expired, sub), LANDLINE)]
        assert failover.fail_over(s, failed, SETTINGS, NOW, EVERYWHERE) == []


def test_a_delivery_that_has_not_failed_is_left_alone(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice"])
        sent = failed_delivery(s, alert_id, sub, status=deliveries.SENT)
        assert failover.fail_over(s, [Failed(sent, LANDLINE)], SETTINGS, NOW, EVERYWHERE) == []


def test_an_undelivered_message_fails_over_like_a_refused_one(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice"])
        undelivered = failed_delivery(s, alert_id, sub, status=deliveries.UNDELIVERED)
        made = failover.fail_over(s, [Failed(undelivered, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in made] == ["voice"]


def test_a_repeated_report_makes_no_second_delivery(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice", "email"])
        failed = failed_delivery(s, alert_id, sub)
        first = failover.fail_over(s, [Failed(failed, LANDLINE)] * 2, SETTINGS, NOW, EVERYWHERE)
        again = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        assert [channel for _, channel in first] == ["voice"] and again == []
        assert [r[0] for r in delivery_rows(s, alert_id)] == ["sms", "voice"]


def test_a_channel_the_alert_already_sends_on_gets_no_second_delivery(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s, channels=("sms", "voice"))
        sub = add_resident(s, 1, ["sms", "voice"])
        failed = failed_delivery(s, alert_id, sub)
        deliveries.insert_pending(s, [{"alert_id": alert_id, "subscriber_id": sub.id,
                                       "channel": "voice", "address": sub.phone,
                                       "language": "es"}], NOW)
        assert failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE) == []


def test_a_failover_that_fails_never_bounces_back(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        sub = add_resident(s, 1, ["sms", "voice"], email=False)
        failed = failed_delivery(s, alert_id, sub)
        [(call, _)] = failover.fail_over(s, [Failed(failed, LANDLINE)], SETTINGS, NOW, EVERYWHERE)
        s.execute(Delivery.__table__.update().where(Delivery.id == call)
                  .values(status=deliveries.FAILED))
        for kind in failover.KINDS:
            assert failover.fail_over(s, [Failed(call, kind)], SETTINGS, NOW, EVERYWHERE) == []
        assert [r[0] for r in delivery_rows(s, alert_id)] == ["sms", "voice"]


def test_stats_count_failovers_by_the_channel_left_and_the_channel_taken(db_url):
    with session_scope(db_url) as s:
        alert_id = add_alert(s)
        residents = [add_resident(s, i, ["sms", "voice", "email"]) for i in range(3)]
        failed = [Failed(failed_delivery(s, alert_id, residents[0]), LANDLINE),
                  Failed(failed_delivery(s, alert_id, residents[1]), LANDLINE),
                  Failed(failed_delivery(s, alert_id, residents[2]), BAD_NUMBER)]
        failover.fail_over(s, failed, SETTINGS, NOW, EVERYWHERE)
        stats = delivery_stats.stats(s, alert_id)
        assert stats["failovers"] == {"sms→email": 1, "sms→voice": 2}
        assert stats["channels"]["voice"]["pending"] == 2
        assert stats["recipients"] == 3  # a resident reached twice over counts once
        assert delivery_stats.stats(s, add_alert(s, severity="Extreme"))["failovers"] == {}
