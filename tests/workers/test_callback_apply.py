"""The status-callback applier: batches from Redis into the database, none lost, never backwards.

Callbacks are queued as the webhook queues them (callback_batch.encode + callback_queue.push
on the test's real Redis) and applied by workers.callback_apply, in this process or by a real
`python -m workers`.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from notifier import callback_batch
from notifier.db import session_scope
from notifier.models import Delivery
from notifier.provider_callbacks import StatusReport
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.workers.helpers import LEAKY
from workers import callback_queue
from workers.callback_apply import drain, step

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
_phones = itertools.count()


@pytest.fixture
def conn(twilio_settings, redis_url):
    return callback_queue.connection(twilio_settings)


@pytest.fixture
def texts(twilio_settings):
    """texts(n, **overrides) → ids of `n` SMS deliveries `sent` as SM0…, one alert."""
    def make(n: int, **overrides) -> list[int]:
        with session_scope(twilio_settings.database_url) as session:
            alert = make_alert(session)
            made = []
            for i in range(n):
                sub = make_subscriber(session, phone=f"+1617555{next(_phones):04d}")
                made.append(make_delivery(session, alert, sub, **{"provider_id": f"SM{i}",
                                                                  **overrides}).id)
            return made
    return make


def queue(conn, ref, sid, status, at=T0, **report):
    word = report.pop("word", status)
    callback_queue.push(conn, callback_batch.encode(
        str(ref), StatusReport(provider_id=sid, status=status, word=word, **report), at))


def rows(settings, ids) -> list[Delivery]:
    with session_scope(settings.database_url) as session:
        found = {r.id: r for r in session.query(Delivery).filter(Delivery.id.in_(ids))}
        session.expunge_all()
        return [found[i] for i in ids]


def test_one_batch_moves_every_row_forward_and_keeps_its_highest_state(
        conn, texts, twilio_settings):
    ids = texts(5)
    for i, delivery_id in enumerate(ids):
        # Arrival order shuffled by the network: the last state may come first.
        for status in (("delivered", "sent") if i % 2 else ("sent", "delivered")):
            queue(conn, delivery_id, f"SM{i}", status, at=T0 + timedelta(seconds=i))
    queue(conn, "", "SM4", "failed", error_code="30003")  # by sid alone: too late to matter

    assert drain(twilio_settings) == 11
    after = rows(twilio_settings, ids)
    assert [r.status for r in after] == ["delivered"] * 5
    assert [r.delivered_at for r in after] == [T0 + timedelta(seconds=i) for i in range(5)]
    assert {r.error_code for r in after} == {None}
    assert callback_queue.pending(conn) == 0


def test_a_later_batch_never_moves_a_row_back(conn, texts, twilio_settings):
    [delivery_id] = texts(1)
    queue(conn, delivery_id, "SM0", "undelivered", error_code="30005", error_message="Unknown")
    drain(twilio_settings)
    first = rows(twilio_settings, [delivery_id])[0]
    queue(conn, delivery_id, "SM0", "sent", at=T0 + timedelta(minutes=1))
    queue(conn, delivery_id, "SM0", "undelivered", at=T0 + timedelta(minutes=1))
    drain(twilio_settings)
    second = rows(twilio_settings, [delivery_id])[0]
    assert (first.status, first.error_code, first.error_message) == (
        "undelivered", "30005", "Unknown")
    assert (second.status, second.updated_at) == ("undelivered", first.updated_at)


def test_an_older_attempts_callback_and_an_unknown_one_move_nothing(conn, texts, twilio_settings):
    ids = texts(2)
    queue(conn, ids[0], "SM-older", "failed", error_code="30003")
    queue(conn, ids[1], "SM0", "delivered")  # another row's sid
    queue(conn, 987654, "SM1", "delivered")
    queue(conn, "", "SMnobody", "delivered")
    drain(twilio_settings)
    assert [r.status for r in rows(twilio_settings, ids)] == ["sent", "sent"]


def test_a_row_not_yet_bound_takes_the_sid_unless_another_row_holds_it(
        conn, texts, twilio_settings):
    unbound = texts(2, provider_id=None, status="sending", sent_at=None)
    held = texts(1)  # holds SM0
    queue(conn, unbound[0], "SMnew", "sent")
    queue(conn, unbound[1], "SM0", "delivered")  # misrouted: SM0 is held's
    drain(twilio_settings)
    first, second, holder = rows(twilio_settings, unbound + held)
    assert (first.status, first.provider_id) == ("sent", "SMnew") and first.sent_at is not None
    assert (second.status, second.provider_id) == ("sending", None)
    assert holder.status == "sent"


def test_more_than_one_batch_is_applied_with_none_lost(conn, texts, twilio_settings):
    ids = texts(callback_queue.BATCH + 50)
    for i, delivery_id in enumerate(ids):
        queue(conn, delivery_id, f"SM{i}", "delivered")
    assert drain(twilio_settings) == len(ids)
    assert {r.status for r in rows(twilio_settings, ids)} == {"delivered"}


def test_a_batch_a_dead_applier_left_is_applied_first(conn, texts, twilio_settings):
    ids = texts(2)
    queue(conn, ids[0], "SM0", "delivered")
    dead = callback_queue.Lock(conn, ttl_ms=50)
    assert dead.acquire() and dead.take() is not None  # moved to :applying, then it died
    queue(conn, ids[1], "SM1", "delivered")
    assert conn.llen(callback_queue.APPLYING) == 1
    time.sleep(0.1)  # its lock runs out

    assert drain(twilio_settings) == 2
    assert [r.status for r in rows(twilio_settings, ids)] == ["delivered", "delivered"]
    assert callback_queue.pending(conn) == 0


def test_an_applier_whose_lock_passed_on_cannot_drop_its_successors_batch(
        conn, texts, twilio_settings):
    ids = texts(2)
    queue(conn, ids[0], "SM0", "delivered")
    slow = callback_queue.Lock(conn, ttl_ms=50)
    assert slow.acquire() and slow.take()
    time.sleep(0.1)  # it stalled past its lock
    successor = callback_queue.Lock(conn)
    assert successor.acquire()
    queue(conn, ids[1], "SM1", "delivered")
    assert step(twilio_settings, successor) == 1  # the stalled batch, applied again
    assert successor.take() is not None  # the successor's next batch, now in :applying

    assert slow.done() is False and slow.take() is None
    assert conn.llen(callback_queue.APPLYING) == 1
    assert step(twilio_settings, successor) == 1
    successor.release()
    assert [r.status for r in rows(twilio_settings, ids)] == ["delivered", "delivered"]


def test_drain_leaves_the_queue_to_the_applier_holding_the_lock(conn, texts, twilio_settings):
    [delivery_id] = texts(1)
    other = callback_queue.Lock(conn)
    assert other.acquire()
    queue(conn, delivery_id, "SM0", "delivered")
    started = time.monotonic()
    assert drain(twilio_settings) == 0
    assert time.monotonic() - started < 1
    assert callback_queue.pending(conn) == 1
    other.release()
    assert drain(twilio_settings) == 1


def test_a_record_that_is_not_ours_is_dropped_and_the_rest_applied(conn, texts, twilio_settings):
    [delivery_id] = texts(1)
    callback_queue.push(conn, b"not json")
    queue(conn, delivery_id, "SM0", "delivered")
    assert drain(twilio_settings) == 2
    assert rows(twilio_settings, [delivery_id])[0].status == "delivered"


def workers_process(env, *args, **popen):
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY}
    return subprocess.Popen([sys.executable, "-m", "workers", *args], cwd=ROOT,
                            env={**clean, **env}, **popen)


def test_a_burst_worker_applies_queued_callbacks_and_exits_promptly(
        conn, texts, twilio_env, twilio_settings):
    ids = texts(3)
    for i, delivery_id in enumerate(ids):
        queue(conn, delivery_id, f"SM{i}", "delivered")
    started = time.monotonic()
    done = workers_process(twilio_env, "--burst", stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    output, _ = done.communicate(timeout=60)
    took = time.monotonic() - started

    assert done.returncode == 0, output
    assert took < 20, f"the burst worker took {took:.1f} s to exit"
    assert {r.status for r in rows(twilio_settings, ids)} == {"delivered"}
    assert callback_queue.pending(conn) == 0


def test_a_burst_worker_exits_promptly_while_another_applier_holds_the_lock(
        conn, texts, twilio_env):
    [delivery_id] = texts(1)
    assert callback_queue.Lock(conn).acquire()  # held (another worker's applier) for 30 s
    queue(conn, delivery_id, "SM0", "delivered")
    started = time.monotonic()
    done = workers_process(twilio_env, "--burst")
    assert done.wait(60) == 0
    assert time.monotonic() - started < 20
    assert callback_queue.pending(conn) == 1  # left for the holder, not lost


@pytest.mark.slow
def test_a_long_running_worker_applies_callbacks_as_they_come_and_stops_with_it(
        conn, texts, twilio_env, twilio_settings):
    import psutil

    ids = texts(2)
    worker = workers_process(twilio_env)
    try:
        queue(conn, ids[0], "SM0", "delivered")
        queue(conn, ids[1], "SM1", "failed", error_code="30003")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and callback_queue.pending(conn):
            time.sleep(0.1)
        assert [r.status for r in rows(twilio_settings, ids)] == ["delivered", "failed"]
        children = psutil.Process(worker.pid).children()
        assert any("workers.callback_apply" in " ".join(c.cmdline()) for c in children)
    finally:
        worker.terminate()
        assert worker.wait(30) is not None
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
