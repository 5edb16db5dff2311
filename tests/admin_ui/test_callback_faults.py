"""Status callbacks under faults (issue 10): tripled, shuffled, misrouted, a locked or lost
database, a Redis that is down.

An alert goes out through real workers to the Twilio stand-in; its callbacks then come back
through the signed webhook in the worst order Twilio may send them, are queued in Redis and
applied by the applier (workers.callback_apply.drain). Afterwards every resident got one
message, nobody else any, no row is unfinished and the audit chain verifies.
"""
from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from admin_ui import create_app
from admin_ui.webhook_store import LOCK_TIMEOUT_SECONDS
from notifier.db import session_scope
from notifier.models import Delivery, OptOut
from tests.support.db_lock import database_locked
from tests.support.fixtures import TWILIO_FROM_NUMBER
from tests.support.twilio_signing import signed_post
from tests.workers.fault_checks import assert_alert_completed, handed_over
from tests.workers.helpers import add_alert, add_residents, count, deliveries_of, run_jobs, use_env
from workers import callback_queue
from workers.callback_apply import drain
from workers.queues import enqueue_fan_out

STATUS = "/webhooks/twilio/status"


@pytest.fixture
def sent_alert(monkeypatch, twilio_env, twilio_settings, db_url, redis_url):
    """send(n) → (alert id, its rows): an SMS alert to `n` residents, handed to the stand-in."""
    use_env(monkeypatch, twilio_env)

    def send(n: int):
        add_residents(db_url, n)
        alert_id = add_alert(db_url)
        enqueue_fan_out(twilio_settings, alert_id)
        run_jobs(redis_url)
        rows = deliveries_of(db_url, alert_id)
        assert {r.status for r in rows} == {"sent"} and len(rows) == n
        return alert_id, rows
    return send


@pytest.fixture
def callback(twilio_settings):
    """callback(row, status, sid=…, d=…, **extra) → response of a signed status callback."""
    app = create_app(twilio_settings)

    def post(row, status: str, *, sid: str | None = None, d: int | None = None, **extra):
        params = {"MessageSid": sid or row.provider_id, "MessageStatus": status,
                  "AccountSid": twilio_settings.twilio_account_sid, "To": row.address, **extra}
        return signed_post(app.test_client(), f"{STATUS}?d={row.id if d is None else d}",
                           params, twilio_settings)
    post.app = app
    post.settings = twilio_settings
    return post


def timed(post):
    started = time.monotonic()
    response = post()
    return response, time.monotonic() - started


def final_status(i: int) -> tuple[str, dict]:
    if i % 7 == 3:
        return "undelivered", {"ErrorCode": "30005"}
    if i % 11 == 5:
        return "failed", {"ErrorCode": "30006"}
    return "delivered", {}


def test_tripled_and_shuffled_callbacks_leave_each_delivery_in_its_last_state(
        sent_alert, callback, twilio_standin, db_url):
    alert_id, rows = sent_alert(40)
    posts = []
    for i, row in enumerate(rows):
        last, extra = final_status(i)
        for status, params in (("queued", {}), ("sent", {}), (last, extra)):
            posts += [(row, status, params)] * 3
    random.Random(10).shuffle(posts)

    answers = {callback(row, status, **params).status_code for row, status, params in posts}
    applied = drain(callback.settings)  # one batch: each row's nine collapse to its last state

    assert answers == {200}
    assert applied == len(posts)
    after = deliveries_of(db_url, alert_id)
    assert [(r.status, r.error_code) for r in after] == [
        (final_status(i)[0], final_status(i)[1].get("ErrorCode")) for i in range(len(rows))]
    assert all(r.delivered_at is not None for r in after if r.status == "delivered")
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin),
                           expected=[r.address for r in rows])


def test_misrouted_callbacks_move_no_delivery_and_the_right_ones_still_land(
        sent_alert, callback, twilio_standin, twilio_settings, db_url):
    alert_id, rows = sent_alert(6)
    first, second = rows[0], rows[1]
    # The worker's record of first's sid has not landed yet: a callback raced ahead of it.
    with session_scope(db_url) as session:
        session.get(Delivery, first.id).provider_id = None

    misrouted = [
        callback(second, "failed", d=first.id, ErrorCode="21610"),  # another row's sid
        callback(first, "failed", d=second.id, ErrorCode="21610"),  # a sid the d row lacks
        callback(second, "undelivered", d=987654),  # a d that names no delivery
        callback(second, "failed", d=2**40, sid="SM" + "1" * 32),  # no such d, no such sid
        callback(second, "failed", sid="SM" + "0" * 32),  # a sid nobody holds
        callback(second, "failed", AccountSid="AC" + "f" * 32),  # another account's
    ]

    assert [r.status_code for r in misrouted] == [200] * len(misrouted)
    drain(twilio_settings)
    after = {r.id: r for r in deliveries_of(db_url, alert_id)}
    assert {r.status for r in after.values()} == {"sent"}
    assert after[first.id].provider_id is None  # it did not take the other message's sid
    assert count(db_url, OptOut) == 0  # the misrouted 21610s opted nobody out
    for row in rows:
        assert callback(row, "delivered").status_code == 200
    drain(twilio_settings)
    after = deliveries_of(db_url, alert_id)
    assert {r.status for r in after} == {"delivered"}
    assert after[0].provider_id == first.provider_id
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin),
                           expected=[r.address for r in rows])


@pytest.mark.slow
def test_callbacks_during_a_database_lock_are_queued_at_once_and_land_after_it(
        sent_alert, callback, twilio_standin, twilio_settings, db_url):
    alert_id, rows = sent_alert(3)
    callback.app.test_client().get("/healthz")  # warm: the first request pays the imports
    stop = {"MessageSid": "SM" + "5" * 32, "AccountSid": twilio_settings.twilio_account_sid,
            "From": rows[2].address, "To": TWILIO_FROM_NUMBER, "Body": "STOP"}

    with database_locked(db_url) as released:
        # At once, as Twilio sends them: each on a connection of its own.
        with ThreadPoolExecutor(3) as pool:
            during = list(pool.map(timed, [
                lambda: callback(rows[0], "delivered"), lambda: callback(rows[1], "undelivered"),
                lambda: signed_post(callback.app.test_client(), "/webhooks/twilio/sms", stop,
                                    twilio_settings)]))
        assert not released.is_set(), "the lock ended before the callbacks were tried"
    # The status callbacks never touch the database in the request: queued, 200, at once;
    # the inbound STOP still needs the database and asks for a retry.
    assert [r.status_code for r, _ in during] == [200, 200, 503]
    assert max(took for _, took in during[:2]) < 1
    assert during[2][0].headers["Retry-After"].isdigit()
    assert during[2][1] < LOCK_TIMEOUT_SECONDS + 1.5
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"sent"}
    assert count(db_url, OptOut) == 0

    assert drain(twilio_settings) == 2
    retried = signed_post(callback.app.test_client(), "/webhooks/twilio/sms", stop, twilio_settings)

    assert retried.status_code == 200
    assert [r.status for r in deliveries_of(db_url, alert_id)] == ["delivered", "undelivered",
                                                                   "sent"]
    assert count(db_url, OptOut) == 1
    assert_alert_completed(db_url, alert_id, handed_over(twilio_standin),
                           expected=[r.address for r in rows])


def test_callbacks_queued_while_the_database_is_unreachable_are_kept_and_applied_later(
        twilio_settings, sent_alert, db_url):
    import dataclasses

    from tests.support.services import free_port

    alert_id, rows = sent_alert(1)
    gone = dataclasses.replace(
        twilio_settings, database_url=f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x")
    client = create_app(gone).test_client()
    params = {"MessageSid": rows[0].provider_id, "MessageStatus": "delivered",
              "AccountSid": twilio_settings.twilio_account_sid}
    response = signed_post(client, f"{STATUS}?d={rows[0].id}", params, twilio_settings)
    assert response.status_code == 200  # queued: the web app needs no database for it

    with pytest.raises(Exception):
        drain(gone)
    conn = callback_queue.connection(twilio_settings)
    assert callback_queue.pending(conn) == 1  # the failed batch is kept, not lost
    assert drain(twilio_settings) == 1
    assert callback_queue.pending(conn) == 0
    assert [r.status for r in deliveries_of(db_url, alert_id)] == ["delivered"]


def test_a_callback_when_redis_is_down_is_a_503_and_changes_nothing(twilio_settings, sent_alert,
                                                                   db_url):
    import dataclasses

    from tests.support.services import free_port

    alert_id, rows = sent_alert(1)
    down = dataclasses.replace(twilio_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    params = {"MessageSid": rows[0].provider_id, "MessageStatus": "delivered",
              "AccountSid": twilio_settings.twilio_account_sid}
    response = signed_post(create_app(down).test_client(), f"{STATUS}?d={rows[0].id}", params,
                           twilio_settings)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert [r.status for r in deliveries_of(db_url, alert_id)] == ["sent"]
