"""Public channels end to end: a fan-out posts through Apprise (its `json://` target and a
Mastodon-compatible stand-in) and calls partner webhooks, signed, all tracked as deliveries;
an Exercise reaches none of them; a cancel is announced; failures retry or fail in plain words."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import redis
from lxml import etree

from admin_ui import create_app
from notifier import accounts, alerts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert
from notifier.public_ids import page_url
from tests.support.http_receiver import HttpReceiver
from tests.workers.helpers import add_alert, add_residents, deliveries_of, now, run_jobs, use_env
from workers.healing import LOCK_KEY, heal
from workers.jobs import announce_cancel
from workers.queues import enqueue_fan_out

SECRET = "partner-shared-secret-long-enough-to-keep"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
LONG = ("Gas leak on Main Street between 3rd and 9th. Leave the buildings on both sides now "
        "and walk upwind to the park. Do not use lights, phones or lifts inside. ") * 5


@pytest.fixture
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def public_env(env, monkeypatch, receiver) -> dict:
    return use_env(monkeypatch, env,
                   SOCIAL_URLS=f"json://127.0.0.1:{receiver.port}/social\n"
                               f"es: mastodon://app-token@127.0.0.1:{receiver.port}\n"
                               f"mastodon://other-token@127.0.0.1:{receiver.port}",
                   WEBHOOK_URLS=f"{receiver.base}/hook", WEBHOOK_SECRET=SECRET,
                   WEBHOOK_ALLOW_PRIVATE="1", AGENCY_NAME="Metro PD")


def _alert(db_url, alert_id):
    with session_scope(db_url, readonly=True) as session:
        alert = session.get(Alert, alert_id)
        session.expunge(alert)
        return alert


def verify(request) -> dict:
    """What a partner does: check the signature over "<t>.<body>", then read the JSON."""
    fields = dict(part.split("=", 1) for part in request.headers["X-Tocsin-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{fields['t']}.".encode() + request.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    return request.json()


def test_an_actual_alert_posts_everywhere_and_every_post_is_a_delivery(
        db_url, redis_url, public_env, receiver):
    add_residents(db_url, 2)
    alert_id = add_alert(db_url, channels=("sms", "social"),
                         messages={"en": LONG, "es": "Fuga de gas en Main St. Salga ahora."})
    enqueue_fan_out(Settings.from_env(public_env), alert_id)
    run_jobs(redis_url)

    posted = receiver.at("/social")
    assert len(posted) == 1
    assert posted[0].json()["message"] == f"Metro PD: {LONG.strip()}"  # a chat service: whole
    toots = {r.headers["Authorization"]: json.loads(r.body)["status"]
             for r in receiver.at("/api/v1/statuses")}
    assert len(toots) == 2
    # Mastodon takes 500 characters, a link counting 23: cut at a word, the page one tap away.
    cut = toots["Bearer other-token"]
    link = page_url(Settings.from_env(public_env), _alert(db_url, alert_id))
    assert cut.startswith("Metro PD: Gas leak") and cut.endswith(f"… {link}")
    assert len(cut) - len(link) + 23 <= 500
    assert toots["Bearer app-token"] == "Metro PD: Fuga de gas en Main St. Salga ahora."  # the es: account
    hooks = receiver.at("/hook")
    assert len(hooks) == 1
    sent = verify(hooks[0])
    assert sent["event"] == "alert.sent" and sent["alert"]["id"] == alert_id
    cap = etree.fromstring(sent["cap"].encode())
    assert cap.findtext(f"{CAP}msgType") == "Alert" and cap.findtext(f"{CAP}status") == "Actual"

    rows = {r.channel: [] for r in deliveries_of(db_url, alert_id)}
    for r in deliveries_of(db_url, alert_id):
        rows[r.channel].append(r)
    assert sorted(rows) == ["sms", "social", "webhook"]
    assert len(rows["social"]) == 3 and len(rows["webhook"]) == 1
    for row in rows["social"] + rows["webhook"]:
        assert row.subscriber_id is None and row.status == "sent", (row.address, row.error_message)
        assert "app-token" not in row.address and row.address.startswith(("json://", "mastodon://", "http://"))

    # Tracked like any delivery: the API's list, the CSV and the stats show them, masked.
    client = create_app(Settings.from_env(public_env)).test_client()
    with session_scope(db_url) as session:
        headers = {"Authorization": f"Bearer {accounts.create_token(session, 'audit', 'auditor')}"}
    listed = client.get(f"/api/v1/alerts/{alert_id}/deliveries?channel=social", headers=headers)
    assert listed.status_code == 200 and listed.get_json()["total"] == 3
    csv = client.get(f"/api/v1/alerts/{alert_id}/deliveries.csv", headers=headers)
    assert csv.status_code == 200 and csv.get_data(as_text=True).count("\nwebhook,") + \
        csv.get_data(as_text=True).count(",webhook,") >= 1
    assert "app-token" not in csv.get_data(as_text=True)
    shown = client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()
    assert shown["stats"]["channels"]["social"]["sent"] == 3
    assert shown["stats"]["channels"]["webhook"]["sent"] == 1


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_an_exercise_or_test_reaches_no_public_channel(db_url, redis_url, public_env, receiver,
                                                       status):
    add_residents(db_url, 1)
    alert_id = add_alert(db_url, status=status, channels=("sms", "social"))
    enqueue_fan_out(Settings.from_env(public_env), alert_id)
    run_jobs(redis_url)
    assert receiver.requests == []
    assert not {"social", "webhook"} & {r.channel for r in deliveries_of(db_url, alert_id)}
    with session_scope(db_url, readonly=True) as session:
        assert session.get(Alert, alert_id).fanned_out_at is not None  # it did run


def test_a_cancelled_alert_is_announced_to_partners_with_a_cap_cancel(
        db_url, redis_url, public_env, receiver):
    alert_id = add_alert(db_url, channels=("sms",))
    enqueue_fan_out(Settings.from_env(public_env), alert_id)
    run_jobs(redis_url)
    with session_scope(db_url) as session:
        alerts.cancel_alert(session, alert_id, "user:dana", now())
    assert announce_cancel(alert_id) == 1
    run_jobs(redis_url)
    events = [verify(r) for r in receiver.at("/hook")]
    assert [e["event"] for e in events] == ["alert.sent", "alert.cancelled"]
    cancel = etree.fromstring(events[1]["cap"].encode())
    assert cancel.findtext(f"{CAP}msgType") == "Cancel"
    assert alert_id and events[1]["alert"]["state"] == "cancelled"
    assert announce_cancel(alert_id) == 0  # announced once


def test_a_partner_that_answers_503_is_retried_later(db_url, redis_url, public_env, receiver):
    receiver.answer("/hook", 503)
    alert_id = add_alert(db_url, channels=("sms",))
    enqueue_fan_out(Settings.from_env(public_env), alert_id)
    run_jobs(redis_url)
    [row] = [r for r in deliveries_of(db_url, alert_id) if r.channel == "webhook"]
    assert (row.status, row.error_code, row.attempts) == ("retry_wait", "http_503", 1)
    assert row.next_attempt_at is not None


def test_a_failed_post_keeps_apprises_words_and_is_retried(db_url, redis_url, public_env, receiver):
    receiver.answer("/api/v1/statuses", 500)
    alert_id = add_alert(db_url, channels=("social",),
                         messages={"en": "Stay indoors.", "es": "Quédese adentro."})
    enqueue_fan_out(Settings.from_env(public_env), alert_id)
    run_jobs(redis_url)
    toots = [r for r in deliveries_of(db_url, alert_id) if r.address.startswith("mastodon://")]
    assert len(toots) == 2
    for toot in toots:
        assert (toot.status, toot.error_code) == ("retry_wait", "post_failed")
        assert "Mastodon" in toot.error_message and "token" not in toot.error_message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_partner_address_is_refused_unless_allowed(
        db_url, redis_url, env, monkeypatch, receiver, host):
    # localhost is a name, not an address: judged on what it resolves to (127.0.0.1).
    settings_env = use_env(monkeypatch, env, WEBHOOK_URLS=f"http://{host}:{receiver.port}/hook",
                           WEBHOOK_SECRET=SECRET)
    alert_id = add_alert(db_url, channels=("sms",))
    enqueue_fan_out(Settings.from_env(settings_env), alert_id)
    run_jobs(redis_url)
    [row] = [r for r in deliveries_of(db_url, alert_id) if r.channel == "webhook"]
    assert (row.status, row.error_code) == ("failed", "private_address")
    assert "WEBHOOK_ALLOW_PRIVATE" in row.error_message
    assert receiver.at("/hook") == []


def test_a_cancel_notice_whose_job_was_lost_is_made_by_the_healing_sweep(
        db_url, redis_url, public_env, receiver):
    alert_id = add_alert(db_url, channels=("sms",))
    settings = Settings.from_env(public_env)
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)
    with session_scope(db_url) as session:  # stopped, but Redis took no notice job
        alerts.cancel_alert(session, alert_id, "user:dana", now())
    assert heal(settings, now())["cancel_notices"] == 0  # its own job may still come
    redis.Redis.from_url(redis_url).delete(LOCK_KEY)
    assert heal(settings, now() + timedelta(seconds=20))["cancel_notices"] == 1
    run_jobs(redis_url)
    assert [verify(r)["event"] for r in receiver.at("/hook")] == ["alert.sent", "alert.cancelled"]
    redis.Redis.from_url(redis_url).delete(LOCK_KEY)
    assert heal(settings, now() + timedelta(seconds=40))["cancel_notices"] == 0  # once
