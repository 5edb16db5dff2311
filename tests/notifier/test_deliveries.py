"""The delivery state machine: guarded transitions, never backwards, never twice."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from notifier import deliveries, delivery_stats
from notifier.db import session_scope
from notifier.models import Alert, Delivery, Subscriber

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def setup_alert(db_url, residents: int = 3) -> tuple[int, list[int]]:
    with session_scope(db_url) as s:
        alert = Alert(identifier="urn:test:1", state="sending", status="Actual", msg_type="Alert",
                      category="Safety", event="Flood", headline="Flood", severity="Severe",
                      urgency="Immediate", certainty="Observed", messages={"en": "Go up."},
                      area={"everyone": True}, channels=["sms"], created_by="test")
        subs = [Subscriber(phone=f"+1617253{i:04d}", language="en", channels=["sms"])
                for i in range(residents)]
        s.add_all([alert, *subs])
        s.flush()
        return alert.id, [sub.id for sub in subs]


def rows(db_url, alert_id: int) -> dict[int, Delivery]:
    with session_scope(db_url, readonly=True) as s:
        return {d.subscriber_id: d for d in s.scalars(select(Delivery)
                                                     .where(Delivery.alert_id == alert_id))}


def pending(alert_id: int, subscriber_ids, **extra) -> list[dict]:
    return [{"alert_id": alert_id, "subscriber_id": sid, "channel": "sms",
             "address": f"+1617253{sid:04d}", "language": "en", **extra} for sid in subscriber_ids]


def test_inserting_the_same_deliveries_twice_returns_only_the_new_pending_ones(db_url):
    alert_id, subs = setup_alert(db_url)
    with session_scope(db_url) as s:
        first = deliveries.insert_pending(s, pending(alert_id, subs[:2]), NOW)
        skipped = deliveries.insert_pending(
            s, pending(alert_id, subs[2:], status=deliveries.SKIPPED, error_message="opted out"), NOW)
        again = deliveries.insert_pending(s, pending(alert_id, subs), NOW)
    assert [channel for _, channel in first] == ["sms", "sms"]
    assert skipped == [] and again == []  # skipped rows are not queued; nobody is inserted twice
    assert sorted(d.status for d in rows(db_url, alert_id).values()) == ["pending", "pending", "skipped"]


def test_a_claim_takes_only_claimable_rows_and_counts_the_attempt(db_url):
    alert_id, subs = setup_alert(db_url)
    with session_scope(db_url) as s:
        ids = [i for i, _ in deliveries.insert_pending(s, pending(alert_id, subs), NOW)]
        first = deliveries.claim(s, ids, NOW)
        second = deliveries.claim(s, ids, NOW)  # a duplicated job finds nothing left
    assert [c.id for c in first] == ids and second == []
    assert {(d.status, d.attempts) for d in rows(db_url, alert_id).values()} == {("sending", 1)}


def test_outcomes_move_sending_rows_and_a_callback_that_came_first_is_kept(db_url):
    alert_id, subs = setup_alert(db_url)
    with session_scope(db_url) as s:
        ids = [i for i, _ in deliveries.insert_pending(s, pending(alert_id, subs), NOW)]
        deliveries.claim(s, ids, NOW)
        early = s.get(Delivery, ids[0])
        assert deliveries.apply_provider_status(s, early, deliveries.DELIVERED, NOW)
        deliveries.mark_sent(s, [(ids[0], "SM0"), (ids[1], "SM1")], NOW)
        deliveries.mark_failed(s, [(ids[2], "21211", "invalid number")], NOW)
    by_id = {d.id: d for d in rows(db_url, alert_id).values()}
    assert (by_id[ids[0]].status, by_id[ids[0]].provider_id) == ("delivered", "SM0")
    assert (by_id[ids[1]].status, by_id[ids[1]].provider_id) == ("sent", "SM1")
    assert (by_id[ids[2]].status, by_id[ids[2]].error_code) == ("failed", "21211")


def test_provider_statuses_never_move_a_delivery_backwards(db_url):
    alert_id, subs = setup_alert(db_url, 1)
    with session_scope(db_url) as s:
        [(delivery_id, _)] = deliveries.insert_pending(s, pending(alert_id, subs), NOW)
        deliveries.claim(s, [delivery_id], NOW)
        deliveries.mark_sent(s, [(delivery_id, "SM0")], NOW)
    steps = [(deliveries.DELIVERED, True), (deliveries.SENT, False), (deliveries.FAILED, False),
             (deliveries.DELIVERED, False)]
    for status, moves in steps:
        with session_scope(db_url) as s:
            row = s.get(Delivery, delivery_id)
            assert deliveries.apply_provider_status(s, row, status, NOW) is moves
    assert rows(db_url, alert_id)[subs[0]].status == "delivered"


def test_a_retry_waits_and_an_unanswered_call_is_parked_once(db_url):
    alert_id, subs = setup_alert(db_url, 2)
    later = NOW + timedelta(minutes=5)
    with session_scope(db_url) as s:
        ids = [i for i, _ in deliveries.insert_pending(s, pending(alert_id, subs), NOW)]
        deliveries.claim(s, ids, NOW)
        deliveries.schedule_retry(s, [(ids[0], "20500", "server error", later)], NOW)
        deliveries.mark_sent(s, [(ids[1], "CA1")], NOW)
        assert deliveries.schedule_redial(s, ids[1], "CA1", "busy", "call busy", later, NOW)
        assert not deliveries.schedule_redial(s, ids[1], "CA1", "busy", "call busy", later, NOW)
        assert deliveries.due_for_retry(s, NOW) == []
        assert deliveries.due_for_retry(s, later) == [(ids[0], "sms"), (ids[1], "sms")]


def test_cancelling_stops_only_what_has_not_reached_a_provider(db_url):
    alert_id, subs = setup_alert(db_url)
    with session_scope(db_url) as s:
        ids = [i for i, _ in deliveries.insert_pending(s, pending(alert_id, subs), NOW)]
        deliveries.claim(s, ids[:1], NOW)
        deliveries.mark_sent(s, [(ids[0], "SM0")], NOW)
        assert deliveries.cancel_alert(s, alert_id, NOW) == 2
    assert sorted(d.status for d in rows(db_url, alert_id).values()) == ["cancelled", "cancelled", "sent"]


def test_stats_and_recent_errors_count_per_channel_and_status(db_url):
    alert_id, subs = setup_alert(db_url)
    with session_scope(db_url) as s:
        ids = [i for i, _ in deliveries.insert_pending(s, pending(alert_id, subs), NOW)]
        deliveries.claim(s, ids, NOW)
        deliveries.mark_failed(s, [(ids[0], "21211", "invalid"), (ids[1], "21211", "invalid")], NOW)
        deliveries.mark_sent(s, [(ids[2], "SM2")], NOW)
        assert deliveries.acknowledge(s, ids[2], NOW) and not deliveries.acknowledge(s, ids[2], NOW)
        stats = delivery_stats.stats(s, alert_id)
        errors = delivery_stats.recent_errors(s, NOW - timedelta(hours=1))
    assert stats["recipients"] == 3 and stats["acknowledged"] == 1
    assert {k: v for k, v in stats["channels"]["sms"].items() if v} == {"failed": 2, "sent": 1}
    assert errors == [{"channel": "sms", "error_code": "21211", "count": 2, "alert_id": alert_id,
                       "error_message": "invalid"}]
