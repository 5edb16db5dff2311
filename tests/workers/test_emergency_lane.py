"""The emergency lane (issue 10): a Severe alert's texts never wait behind routine ones.

Real parts: `python -m workers` subprocesses, the Twilio stand-in answering slowly, a shared
SMS pace, a routine alert filling the `sms` queue when the Severe one is sent.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace

import pytest
import redis
from sqlalchemy import select, update

from notifier import deliveries
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert, Delivery
from tests.workers.fault_checks import UNFINISHED, assert_alert_completed, handed_over
from tests.workers.helpers import (LEAKY, add_alert, add_residents, deliveries_of, now,
                                   run_jobs, use_env)
from tests.workers.test_main import ROOT
from workers.queues import enqueue_fan_out

ROUTINE_TEXT = "Street sweeping on Main St tomorrow."
SEVERE_TEXT = "Gas leak on Main St. Leave the building now."
RESIDENTS = 40
RATE = 10  # SMS a second, shared by every worker


def start_worker(env: dict) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY}
    return subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env={**clean, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def texts(standin, text: str) -> list:
    return sorted((r for r in standin.requests if text in r.form.get("Body", "")),
                  key=lambda r: r.received_at)


def wait_until_done(db_url: str, alert_ids, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for a in alert_ids for r in deliveries_of(db_url, a)]
        if len(rows) == RESIDENTS * len(alert_ids) and not any(r.status in UNFINISHED
                                                              for r in rows):
            return
        assert time.monotonic() < deadline, (
            f"the alerts never finished: {Counter((r.alert_id, r.status) for r in rows)}")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_severe_alerts_first_text_leaves_within_a_second_though_routine_texts_fill_the_queue(
        workers, twilio_env, twilio_standin, db_url):
    env = {**twilio_env, "SMS_PER_SECOND": str(RATE), "BATCH_SIZE": "10"}
    twilio_standin.latency = 0.05
    add_residents(db_url, RESIDENTS)
    routine = add_alert(db_url, severity="Minor", messages={"en": ROUTINE_TEXT})
    settings = Settings.from_env(env)
    enqueue_fan_out(settings, routine)
    procs = [start_worker(env) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 20
        while len(texts(twilio_standin, ROUTINE_TEXT)) < 8:  # the routine alert in full swing
            assert time.monotonic() < deadline, "the routine alert never got going"
            assert all(p.poll() is None for p in procs), procs[0].stderr.read()
            time.sleep(0.01)
        severe = add_alert(db_url, severity="Severe", messages={"en": SEVERE_TEXT})
        queued_at = time.time()
        enqueue_fan_out(settings, severe)
        wait_until_done(db_url, (routine, severe))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)

    urgent, everyday = texts(twilio_standin, SEVERE_TEXT), texts(twilio_standin, ROUTINE_TEXT)
    first = urgent[0].received_at - queued_at
    print(f"\n{workers} worker(s): first Severe text {first:.3f} s after it was queued")
    # It jumped the routine backlog (32 texts, 3 s at the pace): most routine texts went after
    # its first one. An order, not a stopwatch: the 1 s figure is the benchmark's, measured
    # against a ceiling; a wall-clock bound here failed on a loaded CI machine.
    after = [r for r in everyday if r.received_at > urgent[0].received_at]
    assert len(after) >= (RESIDENTS - 8) // 2, f"only {len(after)} routine texts went after it"
    # Once the emergency sends, no routine text is handed over until it is done.
    during = [r for r in everyday if urgent[0].received_at < r.received_at < urgent[-1].received_at]
    assert len(during) <= RATE * 0.2 * workers, f"{len(during)} routine texts cut in"
    # The lanes share the one pace: over the run the texts went at about RATE a second (one
    # pace per worker would give 2 × RATE). The average, not the busiest second: a worker the
    # loaded machine holds up sends its permits late, bunched with the next ones (16 in one
    # second and 29 in two were seen on CI), while a late permit can only lower the average.
    times = sorted(r.received_at for r in urgent + everyday)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= RATE * 1.2, f"{rate:.1f} texts a second"
    expected = {f"+1617555{i:04d}" for i in range(RESIDENTS)}
    for alert_id, sent in ((severe, urgent), (routine, everyday)):
        assert_alert_completed(db_url, alert_id, handed_over(SimpleNamespace(requests=sent)),
                               expected=expected)


def test_a_routine_fan_out_gives_way_to_a_severe_one_and_then_finishes(
        monkeypatch, env, db_url, redis_url):
    use_env(monkeypatch, env, BATCH_SIZE=2)
    settings = Settings.from_env(os.environ)
    add_residents(db_url, 300)
    routine = add_alert(db_url, severity="Minor")
    severe = add_alert(db_url, severity="Severe")

    def send_severe_once_the_routine_fan_out_runs():
        # Watched in Redis: polling SQLite this often would starve the fan-out's writes.
        deadline = time.monotonic() + 20
        while not conn.llen("rq:queue:sms") and time.monotonic() < deadline:
            time.sleep(0.005)
        # The lane given, not looked up: a read of SQLite could wait out the whole fan-out.
        enqueue_fan_out(settings, severe, emergency=True)

    conn = redis.Redis.from_url(redis_url)
    dispatcher = threading.Thread(target=send_severe_once_the_routine_fan_out_runs)
    enqueue_fan_out(settings, routine)
    dispatcher.start()
    run_jobs(redis_url)
    dispatcher.join(30)

    with session_scope(db_url, readonly=True) as session:
        done = {a.id: a.fanned_out_at for a in session.scalars(select(Alert))}
    assert done[severe] < done[routine]
    for alert_id in (routine, severe):
        rows = deliveries_of(db_url, alert_id)
        assert len(rows) == len({r.subscriber_id for r in rows}) == 300
        assert not [r.status for r in rows if r.status in UNFINISHED]


def test_a_handed_back_delivery_is_pending_again_with_its_attempt_uncounted(db_url):
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    with session_scope(db_url) as session:
        ids = [i for i, _ in deliveries.insert_pending(session, [
            {"alert_id": alert_id, "subscriber_id": s, "channel": "sms",
             "address": f"+1617555{s:04d}", "language": "en"} for s in (1, 2)], now())]
        deliveries.claim(session, ids, now())
        deliveries.mark_sent(session, [(ids[0], "SM1")], now())
        session.execute(update(Delivery).where(Delivery.id == ids[0]).values(status="sent"))
        deliveries.release(session, ids, now())
    rows = deliveries_of(db_url, alert_id)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("pending", 0)]
